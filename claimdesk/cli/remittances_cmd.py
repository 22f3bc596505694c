"""`claimdesk remittances import FILE.835`: post an 835 a payer's portal handed out as a file."""

from __future__ import annotations

from pathlib import Path

import typer

from claimdesk.cli._acting import signed_in
from claimdesk.cli._context import load_settings, open_engine
from claimdesk.cli._utilities import bad_input, exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

app = typer.Typer(help="Remittances (835s) from files.", no_args_is_help=True)


@app.command("import")
def import_file(
    file: Path = typer.Argument(..., help="The 835 file the payer's portal handed out."),
    payer: str | None = typer.Option(
        None,
        "--payer",
        help="The payer's id (as `claimdesk payers list` shows it), when the file's sender "
        "(GS02/ISA06) is a clearinghouse claimdesk does not know.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Post an 835 file as a picked-up one: balanced sets post, the rest become exceptions."""
    from claimdesk.documents import make_document_store
    from claimdesk.remittance.file_import import import_remittance_file

    try:
        data = file.read_bytes()
    except OSError as exc:
        bad_input(f"{str(file)!r} cannot be read: {exc.strerror}")
    user = signed_in("remittances import")
    settings = load_settings()
    engine = open_engine()
    try:
        done = import_remittance_file(
            engine, make_document_store(settings), username=user, data=data, payer_edi_id=payer
        )
    except ClaimdeskError as exc:  # a malformed file (X12Error) names its position, exits 2
        exit_with_error(exc)
    finally:
        engine.dispose()
    report = done.report
    result = {
        "document_id": done.document_id,
        "payer_id": done.payer_id,
        "new_file": done.new_file,
        "sets": [
            {"remittance_id": s.remittance_id, "outcome": s.outcome, "claim_ids": list(s.claim_ids)}
            for s in report.sets
        ],
        "posted": done.count("posted"),
        "duplicates": done.count("duplicate"),
        "exceptions": done.count("exception"),
        "denial_ids": list(report.denial_ids),
        "task_ids": list(report.task_ids),
        "secondary_claim_ids": list(report.secondary_claim_ids),
    }
    if json_output:
        print_json(result)
        return
    typer.echo(
        f"{len(report.sets)} set(s): {result['posted']} posted, {result['duplicates']} seen "
        f"before (nothing posted), {result['exceptions']} exception(s)"
    )
    if report.claim_ids:
        typer.echo(f"claims posted: {list(report.claim_ids)}")
    if report.task_ids:
        typer.echo(f"tasks to work (exceptions, underpayments): {list(report.task_ids)}")
    if report.denial_ids:
        typer.echo(f"denials to work: {list(report.denial_ids)}")
    if report.secondary_claim_ids:
        typer.echo(f"billed to the secondary payer: {list(report.secondary_claim_ids)}")
