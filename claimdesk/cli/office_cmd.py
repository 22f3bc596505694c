"""`claimdesk office import`, `claimdesk payers list`, `claimdesk practices list`.

The services are imported inside the commands, so `claimdesk --help` stays quick.
"""

from __future__ import annotations

from pathlib import Path

import typer

from claimdesk.cli._utilities import exit_with_error, print_json

app = typer.Typer(
    help="The office from one file: practices, providers, payers, fee schedules, users.",
    no_args_is_help=True,
)
payers_app = typer.Typer(help="Payers.", no_args_is_help=True)
practices_app = typer.Typer(help="Practices and their providers.", no_args_is_help=True)


@app.command("import")
def import_file(
    path: Path = typer.Argument(
        ..., help="The office's YAML file (see docs/examples/office.yaml)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; store nothing."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Create or update the office described by the file: all of it, or nothing.

    An operator's command: audited as the OS account (os:NAME)."""
    from dataclasses import asdict

    from claimdesk.cli._acting import operator
    from claimdesk.cli._context import open_engine
    from claimdesk.intake.office import OfficeRefused, import_office

    engine = open_engine()
    try:
        report = import_office(engine, path, actor=operator(), dry_run=dry_run)
    except OfficeRefused as exc:
        if json_output:
            print_json({"file": str(path), "problems": [asdict(p) for p in exc.problems]})
            raise typer.Exit(1) from None
        exit_with_error(exc)
    finally:
        engine.dispose()
    if json_output:
        print_json(report.as_dict())
        return
    verb = {"created": "would create", "updated": "would update"} if dry_run else {}
    for change in report.changes:
        line = f"{verb.get(change.action, change.action)} {change.entity} {change.key}"
        if change.action == "updated":
            line += f": {', '.join(change.fields)}"
        typer.echo(line)
    count = len(report.changes)
    summary = f"{count} change{'' if count == 1 else 's'}, {report.unchanged} unchanged"
    typer.echo(f"{summary} (dry run: nothing stored)" if dry_run else summary)
    if report.users_without_password:
        typer.echo(
            "users without a password, disabled until an admin sets one with "
            "`claimdesk users set-password USERNAME`: " + ", ".join(report.users_without_password)
        )


@payers_app.command("list")
def list_payers(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Payers with their channel, rules and connectivity (credential references only)."""
    from claimdesk.cli._context import cli_session
    from claimdesk.intake.office import list_payers as payers

    with cli_session() as session:
        rows = payers(session)
    if json_output:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['payer_id']:10} {row['kind']:10} {row['claim_channel']:10} "
            f"filing {row['timely_filing_days']:>3}d  "
            f"status every {row['status_poll_interval_hours']:>3}h  "
            f"appeal levels {len(row['appeal_levels'])}  fees {row['fee_schedule_rows']:>4}  "
            f"{row['name']}"
        )
    typer.echo(f"{len(rows)} payer(s)")


@practices_app.command("list")
def list_practices(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Practices and their providers."""
    from claimdesk.cli._context import cli_session
    from claimdesk.intake.office import list_practices as practices

    with cli_session() as session:
        rows = practices(session)
    if json_output:
        print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['npi']}  {row['name']}  TIN {row['tin']}  {row['city']}, {row['state']}")
        for provider in row["providers"]:
            typer.echo(f"    {provider['npi']}  {provider['role']:10} {provider['name']}")
    typer.echo(f"{len(rows)} practice(s)")
