"""`claimdesk fhir import`: patients, coverages and claims from a FHIR R4 bundle.

The services are imported inside the command, so `claimdesk --help` stays quick.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

app = typer.Typer(help="FHIR R4 bundles: patients, coverages and claims.", no_args_is_help=True)


@app.command("import")
def import_file(
    path: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="A Bundle (collection or transaction), JSON; see docs/examples/bundle.json.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    user: str | None = typer.Option(None, "--user", help="Who imports (for the audit trail)."),
) -> None:
    """Store the bundle's patients, coverages and Claims (as draft claims): all, or nothing."""
    from claimdesk.cli._context import load_settings
    from claimdesk.cli._roster import tell_running_simulator
    from claimdesk.cli.patients_cmd import database_errors, refuse, show
    from claimdesk.db import make_engine
    from claimdesk.intake.fhir_bundle import import_bundle
    from claimdesk.intake.problems import ImportRefused

    settings = load_settings()
    engine = make_engine(settings)
    try:
        try:
            with database_errors():
                report = import_bundle(
                    engine, data=path.read_bytes(), actor=user or f"cli:{getpass.getuser()}"
                )
        except ImportRefused as exc:
            refuse(exc, path, json_output)
        told = tell_running_simulator(engine, settings)
    finally:
        engine.dispose()
    show(report, json_output, told, claims=True)
