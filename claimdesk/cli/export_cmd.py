"""`claimdesk export 837`: a batch of ready claims as a file, for a clearinghouse portal."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from claimdesk.cli._acting import signed_in
from claimdesk.cli._context import load_settings, open_engine
from claimdesk.cli._utilities import EXIT_REFUSED, bad_input, exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

if TYPE_CHECKING:
    from claimdesk.submission.export import ExportedBatch, ExportRun

app = typer.Typer(help="Files for a clearinghouse portal (837 batches).", no_args_is_help=True)


@app.command("837")
def export_837(
    out: Path = typer.Option(
        ...,
        "--out",
        help="The file to write; it must not exist. More batches (several payers) go "
        "beside it as NAME-2.EXT, NAME-3.EXT ...",
    ),
    payer: str | None = typer.Option(
        None, "--payer", help="Only this payer's claims (its id, as `claimdesk payers list`)."
    ),
    claims: str | None = typer.Option(
        None, "--claims", help="Only these claims: ids separated by commas (12,15,16)."
    ),
    submission: int | None = typer.Option(
        None,
        "--submission",
        help="Write an exported batch again (same bytes, nothing re-sent); a lost file.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the batches as JSON."),
) -> None:
    """Write ready claims as a pyx12-clean 837 batch for a portal and mark them sent."""
    from claimdesk.clock import today
    from claimdesk.documents import make_document_store
    from claimdesk.submission.export import export_837 as export
    from claimdesk.submission.export import exported_batch

    claim_ids = _claim_ids(claims)
    _check_target(out)
    if submission is not None and (payer or claim_ids is not None):
        bad_input("--submission writes one exported batch again; leave --payer and --claims out.")
    user = signed_in("export 837")
    settings = load_settings()
    store = make_document_store(settings)
    engine = open_engine()
    try:
        if submission is not None:
            batch = exported_batch(engine, store, username=user, submission_id=submission)
            _write(out, batch.data)
            _report([batch], [out], None, json_output)
            return
        run = export(
            engine,
            settings,
            store,
            username=user,
            today=today(settings),
            payer_edi_id=payer,
            claim_ids=claim_ids,
        )
    except OSError as exc:
        bad_input(f"--out {str(out)!r} could not be written: {exc.strerror}")
    except ClaimdeskError as exc:
        exit_with_error(exc)
    finally:
        engine.dispose()
    written: list[Path] = []
    for number, batch in enumerate(run.batches, start=1):
        target = out if number == 1 else _sibling(out, number)
        try:
            _write(target, batch.data)
        except OSError as exc:
            exit_with_error(
                f"{str(target)!r} could not be written ({exc.strerror}); batch "
                f"{batch.submission_id} is marked sent and kept: write it with "
                f"`claimdesk export 837 --submission {batch.submission_id} --out FILE`.",
                EXIT_REFUSED,
            )
        written.append(target)
    _report(run.batches, written, run, json_output)
    if not run.batches:
        exit_with_error(
            "nothing ready to export: no claim asked for is ready, or queued and in no batch.",
            EXIT_REFUSED,
        )


def _claim_ids(text: str | None) -> list[int] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        bad_input(f"--claims {text!r}: give claim ids separated by commas, e.g. 12,15,16.")
    return [int(p) for p in parts]


def _check_target(out: Path) -> None:
    # Never over a batch that may not be uploaded yet; a folder that is not there is bad input.
    if out.exists():
        bad_input(f"--out {str(out)!r} exists; name a new file (a batch is never overwritten).")
    if not out.parent.is_dir():
        bad_input(f"--out {str(out)!r}: the folder {str(out.parent)!r} does not exist.")


def _sibling(out: Path, number: int) -> Path:
    while True:
        candidate = out.with_name(f"{out.stem}-{number}{out.suffix}")
        if not candidate.exists():
            return candidate
        number += 1


def _write(target: Path, data: bytes) -> None:
    """Written whole or not at all: a temporary file beside it, then linked into place."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, target)  # fails rather than replace a file that appeared meanwhile
    finally:
        temporary.unlink(missing_ok=True)


def _report(
    batches: list[ExportedBatch], written: list[Path], run: ExportRun | None, json_output: bool
) -> None:
    if json_output:
        print_json(
            {
                "batches": [
                    {
                        "submission_id": b.submission_id,
                        "payer": b.payer_edi_id,
                        "file": str(path),
                        "bytes": len(b.data),
                        "claims": [{"claim_id": c, "version": v} for c, v in b.claims],
                    }
                    for b, path in zip(batches, written, strict=True)
                ],
                "held_claim_ids": run.held if run else [],
                "review_task_ids": run.review_task_ids if run else [],
                "not_ready": {str(k): v for k, v in run.not_ready.items()} if run else {},
            }
        )
        return
    for batch, path in zip(batches, written, strict=True):
        typer.echo(
            f"wrote {path}: batch {batch.submission_id} for {batch.payer_edi_id}, "
            f"{len(batch.claims)} claim(s) {[c for c, _ in batch.claims]}, marked sent"
        )
    if run is None:
        return
    if run.held:
        typer.echo(f"held for review (scrub or TR3 errors): claims {run.held}")
    if run.not_ready:
        typer.echo(
            "not exported: "
            + ", ".join(f"claim {k} ({v})" for k, v in sorted(run.not_ready.items()))
        )
