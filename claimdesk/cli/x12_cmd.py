"""`claimdesk x12`: read X12 files (parse); the writer's `validate` joins below."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from claimdesk.cli._utilities import exit_with_error, print_json
from claimdesk.x12 import ClaimSubmission837, X12Error, read_interchanges, to_json
from claimdesk.x12.models import (
    Ack999,
    ClaimStatus277,
    Eligibility271,
    Interchange,
    OtherTransaction,
    Remittance835,
)

app = typer.Typer(help="Read and check X12 5010 files.", no_args_is_help=True)


def describe_transaction(transaction: Any) -> str:
    """One line about a parsed set: codes, counts and totals."""
    if isinstance(transaction, Remittance835):
        payment = transaction.payment
        balance = (
            "balanced"
            if transaction.balanced
            else f"NOT balanced ({len(transaction.balance_errors)} differences)"
        )
        return (
            f"835 {transaction.control_number}: payment {payment.total} {payment.method} "
            f"trace {payment.trace_number or '-'}, {len(transaction.claims)} claims, "
            f"{len(transaction.provider_adjustments)} provider adjustments, {balance}"
        )
    if isinstance(transaction, Eligibility271):
        who = "dependent" if transaction.dependent else "subscriber"
        return (
            f"271 {transaction.control_number}: {len(transaction.benefits)} benefits for the "
            f"{who}, {len(transaction.rejections)} rejections"
        )
    if isinstance(transaction, ClaimStatus277):
        rejected = sum(1 for c in transaction.claims if c.accepted is False)
        extra = f" ({rejected} rejected)" if transaction.kind == "277CA" else ""
        count = len(transaction.claims)
        return f"{transaction.kind} {transaction.control_number}: {count} claims{extra}"
    if isinstance(transaction, Ack999):
        sets = ", ".join(f"{a.set_id} {a.control_number}={a.status}" for a in transaction.acks)
        return (
            f"999 {transaction.control_number}: group {transaction.group_control_number} "
            f"status {transaction.group_status}; sets: {sets or '-'}"
        )
    if isinstance(transaction, OtherTransaction):
        return (
            f"{transaction.set_id} {transaction.control_number}: {transaction.segment_count} "
            "segments (envelope read only)"
        )
    if isinstance(transaction, ClaimSubmission837):
        claims = transaction.batch.claims
        lines = sum(len(claim.lines) for claim in claims)
        return (
            f"{transaction.kind} {transaction.control_number}: {len(claims)} claims, {lines} lines"
        )
    return f"{type(transaction).__name__}"


def print_summary(interchanges: list[Interchange]) -> None:
    for interchange in interchanges:
        typer.echo(
            f"interchange {interchange.control_number} from {interchange.sender_id} "
            f"to {interchange.receiver_id} ({interchange.date}, {interchange.usage})"
        )
        for ack in interchange.acknowledgments:
            typer.echo(f"  TA1 for {ack.control_number}: {ack.ack_code} note {ack.note_code}")
        for group in interchange.groups:
            typer.echo(
                f"  group {group.functional_id} {group.control_number} ({group.version}): "
                f"{len(group.transactions)} sets"
            )
            for transaction in group.transactions:
                typer.echo(f"    {describe_transaction(transaction)}")


@app.command("parse")
def parse(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the parsed content as JSON.")
    ] = False,
) -> None:
    """Read an X12 file (271, 277, 277CA, 835, 837P/I, 999, TA1) and print it."""
    try:
        with file.open("rb") as stream:
            interchanges = read_interchanges(stream)
    except X12Error as exc:
        exit_with_error(exc)
    except OSError as exc:
        exit_with_error(f"cannot read {file}: {exc.strerror or type(exc).__name__}")
    if json_output:
        print_json(to_json(interchanges))
    else:
        print_summary(interchanges)


# --- `claimdesk x12 validate` (the writer engineer's command) goes below. ---------


@app.command("validate")
def validate_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Check an X12 file: pyx12 for 837/835/999, our TR3 checks for 270/271/276/277."""
    from claimdesk.x12.validate import validate

    try:
        data = file.read_bytes()
    except OSError as exc:
        exit_with_error(f"{file}: cannot read ({exc.strerror}).")
    issues = validate(data)
    if not issues:
        typer.echo(f"{file}: valid")
        return
    for issue in issues:
        typer.secho(f"{file}: {issue}", err=True, fg=typer.colors.RED)
    exit_with_error(f"{file}: {len(issues)} issue(s).")
