"""`claimdesk fhir import`: patients, coverages and claims from a FHIR R4 bundle.

The services are imported inside the command, so `claimdesk --help` stays quick.
"""

from __future__ import annotations

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
) -> None:
    """Store the bundle's patients, coverages and Claims (as draft claims): all, or nothing.

    An operator's command: audited as the OS account (os:NAME)."""
    from claimdesk.cli.patients_cmd import run_import
    from claimdesk.intake.fhir_bundle import import_bundle

    run_import(import_bundle, path, json_output, claims=True)
