"""`claimdesk codes LIST CODE`: a payer's code in words, with its dates (and a CARC's route).

Imports stay light (no database, no Prefect) so a look-up answers at once.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

_GROUPS = ("CO", "PR", "OA", "PI")


def codes(
    list_name: Annotated[str, typer.Argument(metavar="LIST", help="carc, rarc, cscc, csc, ...")],
    code: Annotated[str, typer.Argument(help="The code, e.g. 45, N290, A7, 21.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print a code's words, its effective/retired dates and, for a CARC, its class and route."""
    from claimdesk.cli._utilities import exit_with_error, print_json
    from claimdesk.codes import loader

    name = list_name.strip().lower()
    if name not in loader.LISTS:
        exit_with_error(f"no code list {list_name!r}; use one of: {', '.join(loader.LISTS)}.", 2)
    code_list = loader.load(name)
    found = code_list.get(code)
    if found is None:
        exit_with_error(f"{code} is not in the {name} list (version {code_list.version}).", 1)
    data: dict[str, Any] = {
        "list": name,
        "version": code_list.version,
        "code": found.code,
        "text": found.text or None,
        "status": "active" if found.active else "retired",
        "effective": found.effective.isoformat() if found.effective else None,
        "retired": found.retired.isoformat() if found.retired else None,
    }
    if found.notes:
        data["notes"] = found.notes
    if name == "carc":
        from claimdesk.denials.routing import load_routing_table

        table = load_routing_table()
        data["class"] = found.code_class
        data["routes"] = {
            group: {
                "category": route.category,
                "queue": route.queue,
                "action": route.action,
                "appealable": route.appealable,
                "basis": route.basis,
                "explanation": route.explanation,
            }
            for group in _GROUPS
            for route in [table.route(group, found.code)]
        }
    if as_json:
        print_json(data)
        return
    words = found.text or "(no wording in claimdesk's copy of this list; see its source)"
    typer.echo(f"{name.upper()} {found.code}: {words}")
    typer.echo(f"  status: {data['status']}")
    typer.echo(f"  effective: {data['effective'] or 'not recorded'}")
    typer.echo(f"  retired: {data['retired'] or '-'}")
    if found.notes:
        typer.echo(f"  notes: {found.notes}")
    if name == "carc":
        typer.echo(f"  class: {found.code_class}")
        for group, route in data["routes"].items():
            typer.echo(
                f"  route {group}-{found.code}: {route['category']}, queue {route['queue']},"
                f" action {route['action']}"
            )
    typer.echo(f"  list version: {code_list.version}")
