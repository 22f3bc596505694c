"""`claimdesk patients import`: patients, coverages and authorizations from a CSV.

The services are imported inside the command, so `claimdesk --help` stays quick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from claimdesk.cli._utilities import exit_with_error, print_json

if TYPE_CHECKING:
    from claimdesk.intake.patients import PatientsReport
    from claimdesk.intake.problems import ImportRefused

app = typer.Typer(help="Patients, their coverages and authorizations.", no_args_is_help=True)


@app.command("import")
def import_file(
    path: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="The patients CSV (columns in claimdesk/intake/patients.py).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Create or update the file's patients, coverages and authorizations: all, or nothing.

    An operator's command: audited as the OS account (os:NAME)."""
    from claimdesk.intake.patients import import_patients

    run_import(import_patients, path, json_output)


def run_import(importer: Callable[..., Any], path: Path, json_output: bool, **shown: bool) -> None:
    """Import the file in one transaction, tell a running simulator, print the report."""
    from claimdesk.cli._acting import operator
    from claimdesk.cli._context import load_settings
    from claimdesk.cli._roster import tell_running_simulator
    from claimdesk.db import make_engine
    from claimdesk.intake.problems import ImportRefused

    settings = load_settings()
    engine = make_engine(settings)
    try:
        try:
            with database_errors():
                report = importer(engine, data=path.read_bytes(), actor=operator())
        except ImportRefused as exc:
            refuse(exc, path, json_output)
        told = tell_running_simulator(engine, settings)
    finally:
        engine.dispose()
    show(report, json_output, told, **shown)


@contextmanager
def database_errors() -> Iterator[None]:
    """A database that cannot be used (none yet, not upgraded) is a clear error."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        yield
    except (OperationalError, ProgrammingError) as exc:
        first = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        exit_with_error(
            f"the database could not be used ({first}); "
            "create or upgrade it with `claimdesk db upgrade`"
        )


def refuse(exc: ImportRefused, path: Path, json_output: bool) -> NoReturn:
    """The problems (row or resource, field, reason), as text or JSON; exit 1."""
    from dataclasses import asdict

    if json_output:
        print_json({"file": str(path), "problems": [asdict(p) for p in exc.problems]})
        raise typer.Exit(1)
    exit_with_error(exc)


def show(
    report: PatientsReport, json_output: bool, told: str | None, *, claims: bool = False
) -> None:
    """Counts per kind of row, and the fields of each update (never their values)."""
    if json_output:
        print_json({**report.as_dict(), "payer_simulator": told})
        return
    for change in report.changes:
        if change.action == "updated":
            fields = ", ".join(change.fields)
            typer.echo(f"updated {change.entity} {change.row_id} ({change.where}): {fields}")
    for entity in ("patient", "coverage", "authorization"):
        created, updated = report.count(entity, "created"), report.count(entity, "updated")
        typer.echo(f"{entity + 's':15} {created} created, {updated} updated")
    typer.echo(f"{'unchanged':15} {report.unchanged}")
    if claims:
        created, skipped = len(report.claims_created), len(report.claims_skipped)
        typer.echo(f"{'claims':15} {created} draft claim(s) created, {skipped} already imported")
    if told:
        typer.echo(told)
