"""`claimdesk x12`: read X12 files (parse); the writer's `validate` joins below.

The codec is imported inside the commands, so the command line starts at once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from claimdesk.cli._utilities import exit_with_error, print_json

if TYPE_CHECKING:
    from claimdesk.x12.models import Interchange

app = typer.Typer(help="Read and check X12 5010 files.", no_args_is_help=True)


def describe_transaction(transaction: Any) -> str:
    """One line about a parsed set: codes, counts and totals."""
    from claimdesk.x12 import ClaimSubmission837
    from claimdesk.x12.models import (
        Ack999,
        ClaimStatus277,
        Eligibility271,
        OtherTransaction,
        Remittance835,
    )

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


def write_json(interchanges: Iterable[Interchange], out: TextIO) -> None:
    """``to_json``'s document, compact, written one transaction at a time as it is serialised.

    pydantic's own JSON serialiser writes each set (about 10x faster than ``model_dump``
    then ``json.dumps``); an 837 goes through ``to_json``'s reshaping, as a dict.
    """
    from claimdesk.x12 import ClaimSubmission837
    from claimdesk.x12.to_json import transaction_to_json

    def head(model: Any, nested: str) -> str:
        # The model's own fields, then its list of children opened: '{"a":1,...,"groups":['
        fields: str = model.model_dump_json(exclude={nested})
        return f'{fields[:-1]},"{nested}":[' if fields != "{}" else f'{{"{nested}":['

    out.write('{"interchanges":[')
    for i, interchange in enumerate(interchanges):
        out.write(("," if i else "") + head(interchange, "groups"))
        for g, group in enumerate(interchange.groups):
            out.write(("," if g else "") + head(group, "transactions"))
            for t, transaction in enumerate(group.transactions):
                if isinstance(transaction, ClaimSubmission837):
                    text = json.dumps(transaction_to_json(transaction), separators=(",", ":"))
                else:
                    text = transaction.model_dump_json()
                out.write(("," if t else "") + text)
            out.write("]}")
        out.write("]}")
    out.write("]}\n")


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
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="The X12 file to read."),
    ],
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the parsed content as JSON (docs/x12-json.md; indented on a TTY)."
        ),
    ] = False,
) -> None:
    """Read an X12 file (271, 277, 277CA, 835, 837P/I, 999, TA1) and print it."""
    from claimdesk.x12 import X12Error, iter_interchanges, to_json

    try:
        with file.open("rb") as stream:
            interchanges = list(iter_interchanges(stream))
    except X12Error as exc:
        exit_with_error(exc)
    except OSError as exc:
        exit_with_error(f"cannot read {file}: {exc.strerror or type(exc).__name__}")
    if json_output and sys.stdout.isatty():
        print_json(to_json(interchanges))  # for a person: indented
    elif json_output:
        write_json(interchanges, sys.stdout)
    else:
        print_summary(interchanges)


# --- `claimdesk x12 validate` (the writer engineer's command) goes below. ---------


@app.command("validate")
def validate_file(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="The X12 file to check."),
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the issues as JSON (an empty list: valid).")
    ] = False,
) -> None:
    """Check an X12 file: pyx12 for 837/835/999, our TR3 checks for 270/271/276/277.

    Exits 1 when the file has issues (each names its segment and element).
    """
    from claimdesk.x12.validate import validate

    try:
        data = file.read_bytes()
    except OSError as exc:
        exit_with_error(f"{file}: cannot read ({exc.strerror}).")
    issues = validate(data)
    if json_output:
        print_json(
            {
                "file": str(file),
                "valid": not issues,
                "issues": [i.model_dump(mode="json") for i in issues],
            }
        )
        if issues:
            raise typer.Exit(1)
        return
    if not issues:
        typer.echo(f"{file}: valid")
        return
    for issue in issues:
        typer.secho(f"{file}: {issue}", err=True, fg=typer.colors.RED)
    exit_with_error(f"{file}: {len(issues)} issue(s).")
