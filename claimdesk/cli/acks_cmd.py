"""`claimdesk acks import FILE`: the 999, 277CA or TA1 a clearinghouse portal handed back."""

from __future__ import annotations

from pathlib import Path

import typer

from claimdesk.cli._acting import signed_in
from claimdesk.cli._context import load_settings, open_engine
from claimdesk.cli._utilities import bad_input, exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

app = typer.Typer(help="Acknowledgements (999, 277CA, TA1) from files.", no_args_is_help=True)


@app.command("import")
def import_file(
    file: Path = typer.Argument(..., help="The 999, 277CA or TA1 file from the portal."),
    json_output: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Import an acknowledgement file as a picked-up one: batches and claims move on."""
    from claimdesk.documents import make_document_store
    from claimdesk.submission.ack_files import import_ack_file

    try:
        data = file.read_bytes()
    except OSError as exc:
        bad_input(f"{str(file)!r} cannot be read: {exc.strerror}")
    user = signed_in("acks import")
    settings = load_settings()
    engine = open_engine()
    try:
        done = import_ack_file(
            engine, settings, make_document_store(settings), username=user, data=data
        )
    except ClaimdeskError as exc:  # a malformed file (X12Error) names its position, exits 2
        exit_with_error(exc)
    finally:
        engine.dispose()
    if json_output:
        print_json(
            {
                "document_id": done.document_id,
                "new_file": done.new_file,
                "kinds": list(done.kinds),
                "submission_ids": list(done.submission_ids),
                "claims": {str(k): v for k, v in done.claim_statuses.items()},
                "accepted": done.accepted,
                "rejected": done.rejected,
                "review_task_ids": list(done.review_task_ids),
            }
        )
        return
    seen = "" if done.new_file else " (imported before: nothing changed twice)"
    typer.echo(
        f"{'/'.join(done.kinds)}{seen}: {done.accepted} claim(s) accepted, "
        f"{done.rejected} rejected; batches {list(done.submission_ids)}"
    )
    by_status: dict[str, list[int]] = {}
    for claim_id, status in done.claim_statuses.items():
        by_status.setdefault(status, []).append(claim_id)
    for status, ids in sorted(by_status.items()):
        typer.echo(f"  {status}: {ids}")
    if done.review_task_ids:
        typer.echo(f"rejections to work: {list(done.review_task_ids)}")
