"""`claimdesk paper`: CMS-1500 forms for payers billed on paper, and paper EOBs posted by hand.

A payer is billed on paper when its ``connectivity`` JSON has
``"submission_channel": "paper"``. The EOB file's JSON shape is documented in
``claimdesk.paper.eob_entry`` (and by ``claimdesk paper post-eob --help``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from claimdesk.cli._acting import operator, person, signed_in
from claimdesk.cli._context import cli_session, load_settings, open_engine
from claimdesk.cli._utilities import exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from claimdesk.settings import Settings
    from claimdesk.submission.paper import PrintedClaim

app = typer.Typer(help="Paper claims (CMS-1500, UB-04) and paper EOBs.", no_args_is_help=True)


@app.command("cms1500")
def cms1500(
    claim_id: Annotated[int, typer.Argument(help="The claim's id.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="PDF file to write; default cms1500-<id>.pdf.")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the file written and its size as JSON.")
    ] = False,
) -> None:
    """Fill one claim's CMS-1500, or its UB-04 when institutional (nothing sent). Audited."""
    from claimdesk.clock import today
    from claimdesk.submission.paper import render_claim_form

    settings = load_settings()
    target = out or Path(f"cms1500-{claim_id}.pdf")
    try:
        with cli_session() as session:
            data = render_claim_form(
                session,
                settings=settings,
                claim_id=claim_id,
                username=person(session, "paper cms1500").username,
                form_date=today(settings),
            )
        target.write_bytes(data)
    except (ClaimdeskError, OSError) as exc:
        exit_with_error(exc)
    if json_output:
        print_json({"claim_id": claim_id, "file": str(target), "bytes": len(data)})
        return
    typer.echo(f"wrote {target} ({len(data)} bytes)")


@app.command("print")
def print_claims(
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write each form to this folder.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print every queued claim of a paper payer: store its CMS-1500/UB-04, mark it sent."""
    from claimdesk.clock import today
    from claimdesk.submission.paper import print_paper_claims

    settings = load_settings()
    engine = open_engine()
    try:
        run = print_paper_claims(
            engine,
            settings,
            today=today(settings),
            actor=operator(),  # the sending step, as `claimdesk run submission` is
        )
        written = _write_forms(engine, settings, run.printed, out) if out else []
    except (ClaimdeskError, OSError) as exc:
        exit_with_error(exc)
    finally:
        engine.dispose()
    result = {
        "printed": [
            {"claim_id": p.claim_id, "version": p.version, "document_id": p.document_id}
            for p in run.printed
        ],
        "failed_claim_ids": run.failed_claim_ids,
        "files": [str(path) for path in written],
    }
    if json_output:
        print_json(result)
        return
    typer.echo(f"printed {len(run.printed)} claim(s)" + (f" into {out}" if out else ""))
    if run.failed_claim_ids:
        typer.echo(f"could not be filled (see `claimdesk paper cms1500`): {run.failed_claim_ids}")


def _write_forms(
    engine: Engine, settings: Settings, printed: Sequence[PrintedClaim], folder: Path
) -> list[Path]:
    """The stored PDFs, read back from the document store (so what is written is what is kept)."""
    from sqlmodel import Session

    from claimdesk.documents import make_document_store
    from models import Document

    folder.mkdir(parents=True, exist_ok=True)
    store = make_document_store(settings)
    paths = []
    with Session(engine) as session:
        for item in printed:
            document = session.get(Document, item.document_id)
            assert document is not None
            path = folder / f"{document.kind}-{item.claim_id}-v{item.version}.pdf"
            path.write_bytes(store.get(document.storage_key, sha256=document.sha256))
            paths.append(path)
    return paths


@app.command("post-eob")
def post_eob(
    file: Annotated[Path, typer.Argument(help="The EOB as JSON (see below).")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Post a paper EOB typed as JSON, through the same path as an 835.

    \b
    {"payer_id": 3, "check_number": "CHK20261120", "payment_method": "CHK",
     "payment_date": "2026-11-20", "total": "140.00",
     "claims": [{"claim_id": 42, "paid": "140.00", "patient_responsibility": "30.00",
                 "payer_claim_number": "PCLM77",
                 "lines": [{"line_number": 1, "paid": "140.00",
                            "adjustments": [{"group": "CO", "carc": "45", "amount": "30.00"},
                                            {"group": "PR", "carc": "2", "amount": "30.00"}],
                            "remark_codes": []}]}]}

    payer_id is the payer's database id; payment_method CHK or ACH (EFT); amounts
    are strings with two decimals. Each line: charge = paid + adjustments; the
    total = the sum paid. Group codes CO PR OA PI CR; CARCs from the routing table.
    """
    from claimdesk.documents import make_document_store
    from claimdesk.remittance.paper_eob import submit_paper_eob

    user = signed_in("paper post-eob")
    settings = load_settings()
    engine = open_engine()
    try:
        data = file.read_bytes()
        report = submit_paper_eob(
            engine, username=user, data=data, store=make_document_store(settings)
        )
    except (ClaimdeskError, OSError) as exc:
        exit_with_error(exc)
    finally:
        engine.dispose()
    result = {
        "document_id": report.document_id,
        "remittance_ids": list(report.remittance_ids),
        "outcomes": list(report.outcomes),
        "claim_ids": list(report.claim_ids),
        "denial_ids": list(report.denial_ids),
        "secondary_claim_ids": list(report.secondary_claim_ids),
        "task_ids": list(report.task_ids),
    }
    if json_output:
        print_json(result)
        return
    outcome = ", ".join(report.outcomes)
    typer.echo(f"{outcome}: remittance {result['remittance_ids']}, claims {result['claim_ids']}")
    if report.denial_ids:
        typer.echo(f"denials to work: {result['denial_ids']}")
    if report.secondary_claim_ids:
        typer.echo(f"billed to the secondary payer: {result['secondary_claim_ids']}")
