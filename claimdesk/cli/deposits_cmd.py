"""`claimdesk deposits`: import a bank CSV; match deposits to 835s."""

from __future__ import annotations

from pathlib import Path

import typer

from claimdesk.billing.deposits import (
    DEFAULT_GRACE_DAYS,
    import_bank_csv,
    match_deposits,
)
from claimdesk.cli._billing import acting_user, parse_day
from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import exit_with_error
from claimdesk.errors import ClaimdeskError, ValidationFailed

app = typer.Typer(help="Bank deposits and their 835s.", no_args_is_help=True)


@app.command("import")
def import_file(
    file: Path = typer.Argument(
        ..., help="Bank CSV: date,amount,trace_number,payer_name,reference"
    ),
    user: str = typer.Option(..., "--user"),
) -> None:
    """Import a bank CSV: all rows or none; lines imported before are skipped."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        exit_with_error(f"{str(file)!r} cannot be read: {exc.strerror}")
    try:
        with cli_session() as session:
            result = import_bank_csv(
                session, user=acting_user(session, user), data=data, source_file=file.name
            )
    except ValidationFailed as exc:  # a malformed file: bad input, like a bad option (2)
        exit_with_error(exc, code=2)
    except ClaimdeskError as exc:
        exit_with_error(exc)
    typer.echo(
        f"{len(result.created_ids)} deposit(s) imported, "
        f"{len(result.skipped_rows)} already known (rows {list(result.skipped_rows)})"
    )


@app.command("match")
def match(
    as_of: str | None = typer.Option(None, "--as-of"),
    grace_days: int = typer.Option(DEFAULT_GRACE_DAYS, "--grace-days", min=0, max=60),
) -> None:
    """Match deposits to 835s (TRN02 and BPR02); the rest become review tasks."""
    try:
        with cli_session() as session:
            result = match_deposits(
                session, as_of=parse_day(as_of, "--as-of"), grace_days=grace_days
            )
    except ClaimdeskError as exc:
        exit_with_error(exc)
    for deposit_id, remittance_id in result.matched:
        typer.echo(f"deposit {deposit_id} ↔ 835 {remittance_id}")
    typer.echo(
        f"{len(result.matched)} matched, {len(result.task_ids)} review task(s), "
        f"{len(result.cancelled_task_ids)} task(s) closed by a match"
    )
