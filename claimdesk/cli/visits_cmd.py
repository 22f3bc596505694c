"""`claimdesk visits import`: scheduled visits from a CSV, for eligibility before they come."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Scheduled visits, checked for eligibility before they come.")


@app.callback()
def _visits() -> None:
    """Scheduled visits, checked for eligibility before they come."""


@app.command("import")
def import_file(
    path: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="The visits CSV (columns in claimdesk/eligibility/visit_intake.py).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Create or update the file's visits: all, or nothing (problems named by row and column).

    An operator's command: audited as the OS account (os:NAME)."""
    from claimdesk.cli._acting import operator
    from claimdesk.cli._context import load_settings
    from claimdesk.cli._utilities import print_json
    from claimdesk.cli.patients_cmd import database_errors, refuse
    from claimdesk.db import make_engine
    from claimdesk.eligibility.visit_intake import import_visits
    from claimdesk.intake.problems import ImportRefused

    engine = make_engine(load_settings())
    try:
        with database_errors():
            report = import_visits(engine, data=path.read_bytes(), actor=operator())
    except ImportRefused as exc:
        refuse(exc, path, json_output)
    finally:
        engine.dispose()
    if json_output:
        print_json(report.as_dict())
        return
    typer.echo(
        f"visits: {len(report.created)} created, {len(report.updated)} updated, "
        f"{report.unchanged} unchanged"
    )
