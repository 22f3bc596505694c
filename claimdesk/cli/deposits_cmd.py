"""`claimdesk deposits`: import a bank CSV; match deposits to 835s."""

from __future__ import annotations

from pathlib import Path

import typer

from claimdesk.cli._billing import acting_user, parse_day
from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

# claimdesk.billing.deposits.DEFAULT_GRACE_DAYS (a test keeps them equal), for the option.
DEFAULT_GRACE_DAYS = 3

app = typer.Typer(help="Bank deposits and their 835s.", no_args_is_help=True)


@app.command("import")
def import_file(
    file: Path = typer.Argument(
        ..., help="Bank CSV: date,amount,trace_number,payer_name,reference"
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the ids and rows as JSON."),
) -> None:
    """Import a bank CSV: all rows or none; lines imported before are skipped."""
    from claimdesk.billing.deposits import import_bank_csv

    try:
        data = file.read_bytes()
    except OSError as exc:
        exit_with_error(f"{str(file)!r} cannot be read: {exc.strerror}")
    try:
        with cli_session() as session:
            result = import_bank_csv(
                session,
                user=acting_user(session, "deposits import"),
                data=data,
                source_file=file.name,
            )
    except ClaimdeskError as exc:  # a malformed file (ValidationFailed) exits 2, like a bad option
        exit_with_error(exc)
    if json_output:
        print_json({"created": list(result.created_ids), "skipped_rows": list(result.skipped_rows)})
        return
    typer.echo(
        f"{len(result.created_ids)} deposit(s) imported, "
        f"{len(result.skipped_rows)} already known (rows {list(result.skipped_rows)})"
    )


@app.command("match")
def match(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Match as of this day (YYYY-MM-DD); default today."
    ),
    grace_days: int = typer.Option(
        DEFAULT_GRACE_DAYS,
        "--grace-days",
        min=0,
        max=60,
        help="Days a deposit or an 835 may wait for its other half before it is a task.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the matches as JSON."),
) -> None:
    """Match deposits to 835s (TRN02 and BPR02); the rest become review tasks."""
    from claimdesk.billing.deposits import match_deposits

    try:
        with cli_session() as session:
            result = match_deposits(
                session,
                as_of=parse_day(as_of, "--as-of"),
                grace_days=grace_days,
                user=acting_user(session, "deposits match"),
            )
    except ClaimdeskError as exc:
        exit_with_error(exc)
    if json_output:
        print_json(
            {
                "matched": [
                    {"deposit_id": deposit_id, "remittance_id": remittance_id}
                    for deposit_id, remittance_id in result.matched
                ],
                "task_ids": list(result.task_ids),
                "cancelled_task_ids": list(result.cancelled_task_ids),
            }
        )
        return
    for deposit_id, remittance_id in result.matched:
        typer.echo(f"deposit {deposit_id} ↔ 835 {remittance_id}")
    typer.echo(
        f"{len(result.matched)} matched, {len(result.task_ids)} review task(s), "
        f"{len(result.cancelled_task_ids)} task(s) closed by a match"
    )
