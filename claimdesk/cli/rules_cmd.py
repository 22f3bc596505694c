"""`claimdesk rules load KIND FILE`, `claimdesk rules versions`: CMS's edit files for the scrub.

The loader and the database are imported inside the commands, so `--help` stays quick.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from claimdesk.cli._utilities import bad_input, print_json
from claimdesk.cli.rules_learned import register as register_learned

KINDS = ("ncci-ptp", "mue", "hcpcs", "icd10cm")

app = typer.Typer(
    help="CMS edit files the scrubber reads (NCCI PTP, MUE, HCPCS, ICD-10-CM).",
    no_args_is_help=True,
)
# Learned rules: suggest, backtest, approve (claimdesk.cli.rules_learned).
register_learned(app)


@app.command("load")
def load(
    kind: str = typer.Argument(..., metavar="KIND", help="ncci-ptp, mue, hcpcs or icd10cm."),
    path: Path = typer.Argument(
        ..., metavar="FILE", help="CMS's file as published (its zip, or the text file in it)."
    ),
    version: str | None = typer.Option(
        None, "--version", help="The version's name, when the file name does not tell it."
    ),
    effective: str | None = typer.Option(
        None, "--effective", help="First date of service it applies to (YYYY-MM-DD)."
    ),
    fiscal_year: int | None = typer.Option(
        None, "--fiscal-year", help="icd10cm: the fiscal year (FY2027 starts 2026-10-01)."
    ),
    setting: str | None = typer.Option(
        None, "--setting", help="ncci-ptp, mue: practitioner (default) or outpatient-hospital."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Load one CMS edit file; every version is kept, and a file loaded twice is kept once.

    An operator's command: audited as the OS account (os:NAME)."""
    from claimdesk.cli._acting import operator
    from claimdesk.cli._context import cli_session
    from claimdesk.cms_edits.store import load_edit_file

    name = kind.strip().lower()
    if name not in KINDS:
        bad_input(f"no edit file kind {kind!r}; use one of: {', '.join(KINDS)}.")
    starts: date | None = None
    if effective is not None:
        try:
            starts = date.fromisoformat(effective)
        except ValueError:
            bad_input(f"--effective {effective!r} is not a date (YYYY-MM-DD).")
    with cli_session() as session:
        report = load_edit_file(
            session,
            name,
            path,
            actor=operator(),
            name=version,
            effective=starts,
            fy=fiscal_year,
            setting=setting,
        )
    if json_output:
        print_json(report.as_dict())
        return
    part = f" part {report.part}" if report.part else ""
    until = f" to {report.effective_to}" if report.effective_to else ""
    if report.already_loaded:
        typer.echo(f"{report.file}: already loaded as {report.version}{part}; nothing changed")
        return
    typer.echo(
        f"loaded {report.rows} rows from {report.file} into {report.version}{part} "
        f"(dates of service from {report.effective_from}{until})"
    )


@app.command("versions")
def versions(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every loaded version of each edit file, with its dates and files."""
    from claimdesk.cli._context import cli_session
    from claimdesk.cms_edits.store import list_versions

    with cli_session() as session:
        rows = list_versions(session)
    if json_output:
        print_json(rows)
        return
    if not rows:
        typer.echo("no edit files loaded; the scrub uses the shipped ICD-10-CM set only")
        return
    for row in rows:
        until = f" to {row['effective_to']}" if row["effective_to"] else ""
        parts = ", ".join(f["part"] or f["file"] for f in row["files"])
        typer.echo(
            f"{row['kind']:9} {row['version']}: from {row['effective_from']}{until}, "
            f"{row['rows']} rows ({parts})"
        )
