"""`claimdesk claims`: list, show one with its timeline, import a file, void or replace one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from claimdesk.cli._acting import operator, person
from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import (
    bad_input,
    exit_with_error,
    print_json,
    progress_bar,
    shows_progress,
)

if TYPE_CHECKING:
    from sqlmodel import Session

app = typer.Typer(help="Claims.", no_args_is_help=True)


@app.command("list")
def list_claims(
    status: str | None = typer.Option(
        None, "--status", help="Only claims in this status (draft, ready, rejected, paid, ...)."
    ),
    limit: int = typer.Option(
        100, "--limit", min=1, max=10_000, help="At most this many claims, newest first."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Claims with their status and account numbers (no clinical data), newest first."""
    from sqlmodel import col, func, select

    from models import Claim, Payer

    with cli_session() as session:
        person(session, "claims list", needs="claim.view_phi")
        query = select(Claim, Payer.payer_id).join(Payer, col(Payer.id) == col(Claim.payer_id))
        if status:
            query = query.where(Claim.status == status)
        rows = [
            {
                "id": c.id,
                "patient_control_number": c.patient_control_number,
                "version": c.version,
                "payer": payer,
                "status": c.status,
                "total_charge": str(c.total_charge),
                "service_from": c.service_from.isoformat(),
            }
            for c, payer in session.exec(query.order_by(col(Claim.id).desc()).limit(limit)).all()
        ]
        counts = dict(session.exec(select(Claim.status, func.count()).group_by(Claim.status)).all())
    if json_output:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['id']:>6}  {row['patient_control_number']:20} v{row['version']} "
            f"{row['payer']:8} {row['status']:16} {row['total_charge']:>10}"
        )
    typer.echo("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


def claim_timeline(session: Session, claim_id: int) -> dict[str, Any]:
    from sqlmodel import col, select

    from models import (
        AuditEvent,
        Claim,
        ClaimLine,
        Diagnosis,
        Document,
        DocumentLink,
        EligibilityCheck,
        ReviewTask,
        StatusCheck,
        Submission,
        SubmissionClaim,
    )

    claim = session.get(Claim, claim_id)
    if claim is None:
        exit_with_error(f"no claim {claim_id}; `claimdesk claims list` shows them.")
    lines = session.exec(
        select(ClaimLine).where(ClaimLine.claim_id == claim_id).order_by(col(ClaimLine.line_number))
    ).all()
    diagnoses = session.exec(
        select(Diagnosis.code)
        .where(Diagnosis.claim_id == claim_id)
        .order_by(col(Diagnosis.position))
    ).all()
    events: list[dict[str, Any]] = []
    for e in session.exec(
        select(AuditEvent).where(AuditEvent.claim_id == claim_id).order_by(col(AuditEvent.id))
    ).all():
        events.append(
            {"at": e.at.isoformat(), "what": e.action, "by": e.actor, "details": e.details}
        )
    for check in session.exec(
        select(EligibilityCheck).where(EligibilityCheck.claim_id == claim_id)
    ).all():
        events.append(
            {
                "at": check.requested_at.isoformat(),
                "what": "eligibility.checked",
                "by": "payer",
                "details": {"outcome": check.outcome, "rejections": check.rejection_codes},
            }
        )
    for row, submission in session.exec(
        select(SubmissionClaim, Submission)
        .join(Submission, col(Submission.id) == col(SubmissionClaim.submission_id))
        .where(SubmissionClaim.claim_id == claim_id)
    ).all():
        events.append(
            {
                "at": submission.created_at.isoformat(),
                "what": "submission",
                "by": "gateway",
                "details": {
                    "submission_id": submission.id,
                    "version": row.claim_version,
                    "isa13": submission.interchange_control_number,
                    "status": submission.status,
                    "999": submission.ack_999_status,
                    "277ca": row.outcome,
                    "stc": row.stc_codes,
                },
            }
        )
    for status in session.exec(select(StatusCheck).where(StatusCheck.claim_id == claim_id)).all():
        events.append(
            {
                "at": status.checked_at.isoformat(),
                "what": "status.277",
                "by": "payer",
                "details": {"category": status.category_code, "status": status.status_code},
            }
        )
    for task in session.exec(select(ReviewTask).where(ReviewTask.claim_id == claim_id)).all():
        events.append(
            {
                "at": task.created_at.isoformat(),
                "what": f"review.{task.kind}",
                "by": "flow",
                "details": {
                    "task_id": task.id,
                    "status": task.status,
                    "flow_run_id": task.flow_run_id,
                    "decision_id": task.decision_id,
                },
            }
        )
    documents = session.exec(
        select(Document)
        .join(DocumentLink, col(DocumentLink.document_id) == col(Document.id))
        .where(DocumentLink.claim_id == claim_id)
        .order_by(col(Document.id))
    ).all()
    events.sort(key=lambda e: e["at"])
    return {
        "id": claim.id,
        "patient_control_number": claim.patient_control_number,
        "version": claim.version,
        "status": claim.status,
        "frequency_code": claim.frequency_code,
        "payer_claim_number": claim.payer_claim_number,
        "total_charge": str(claim.total_charge),
        "service_from": claim.service_from.isoformat(),
        "service_to": claim.service_to.isoformat(),
        "diagnoses": list(diagnoses),
        "lines": [
            {
                "line": li.line_number,
                "procedure": li.procedure_code,
                "modifiers": li.modifiers,
                "units": str(li.units),
                "charge": str(li.charge),
                "control_number": li.line_control_number,
            }
            for li in lines
        ],
        "documents": [
            {
                "id": d.id,
                "kind": d.kind,
                "direction": d.direction,
                "sha256": d.sha256,
                "size": d.size,
            }
            for d in documents
        ],
        "timeline": events,
    }


@app.command("show")
def show(
    claim_id: int = typer.Argument(..., help="The claim's id (`claimdesk claims list`)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A claim's status, lines and timeline: transactions, flow runs, decisions."""
    from models import append_audit_event

    with cli_session() as session:
        user = person(session, "claims show", needs="claim.view_phi")
        data = claim_timeline(session, claim_id)
        append_audit_event(
            session,
            actor=user.username,
            action="claim.viewed",
            entity_type="claim",
            entity_id=claim_id,
            claim_id=claim_id,
        )
    if json_output:
        print_json(data)
        return
    typer.echo(
        f"claim {data['id']}  {data['patient_control_number']}  v{data['version']}  "
        f"status {data['status']}  charge {data['total_charge']}"
    )
    for line in data["lines"]:
        typer.echo(
            f"  line {line['line']}: {line['procedure']} {' '.join(line['modifiers'])} "
            f"x{line['units']} {line['charge']}"
        )
    typer.echo(f"  diagnoses: {', '.join(data['diagnoses'])}")
    for event in data["timeline"]:
        typer.echo(f"  {event['at'][:19]}  {event['what']:24} {event['by']:24} {event['details']}")


@app.command("import")
def import_file(
    path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="The 837P/837I or CSV file."
    ),
    file_format: str = typer.Option(
        "auto", "--format", help="837 (837P/837I), csv, or auto (837 when it starts with ISA)."
    ),
    json_output: bool = typer.Option(
        False, "--json", help="Print the ids created and the claims skipped as JSON."
    ),
) -> None:
    """Import claims from an 837P/837I or CSV file: all of them, or none (problems listed).

    An operator's command: audited as the OS account (os:NAME)."""
    from claimdesk.cli._context import open_engine
    from claimdesk.intake.import_claims import ImportRefused, import_claims

    if file_format not in ("auto", "837", "csv"):
        bad_input(f"--format: {file_format!r} is not one of auto, 837, csv")
    engine = open_engine()
    try:
        with progress_bar("importing claims", show=shows_progress(json_output)) as progress:
            report = import_claims(
                engine,
                data=path.read_bytes(),
                actor=operator(),
                file_format=None if file_format == "auto" else file_format,  # type: ignore[arg-type]
                progress=progress,
            )
    except ImportRefused as exc:
        exit_with_error(exc)
    finally:
        engine.dispose()
    if json_output:
        print_json({"created": list(report.created), "skipped": list(report.skipped)})
        return
    typer.echo(
        f"imported {len(report.created)} claim(s); "
        f"{len(report.skipped)} already present and skipped"
    )


def _frequency_command(claim_id: int, reason: str, json_output: bool, *, void: bool) -> None:
    from claimdesk.claims.frequency import replace_claim, void_claim
    from claimdesk.errors import ClaimdeskError

    try:
        with cli_session() as session:
            if void:
                claim = void_claim(session, claim_id, person(session, "claims void"), reason)
            else:
                claim = replace_claim(session, claim_id, person(session, "claims replace"), reason)
            result = {
                "id": claim.id,
                "version": claim.version,
                "frequency_code": claim.frequency_code,
                "original_payer_claim_number": claim.original_payer_claim_number,
                "status": claim.status,
            }
    except ClaimdeskError as exc:
        exit_with_error(exc)
    if json_output:
        print_json(result)
        return
    kind = "void" if void else "replacement"
    typer.echo(
        f"claim {result['id']} v{result['version']}: {kind} (frequency "
        f"{result['frequency_code']}) of payer claim {result['original_payer_claim_number']}, "
        f"{result['status']}"
    )


@app.command("void")
def void(
    claim_id: int = typer.Argument(
        ..., help="The adjudicated claim's id (`claimdesk claims list`)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why it is voided (in the audit trail)."),
    json_output: bool = typer.Option(False, "--json", help="Print the new version as JSON."),
) -> None:
    """Void a paid, partly paid or denied claim (frequency 8, REF*F8) and queue it to send."""
    _frequency_command(claim_id, reason, json_output, void=True)


@app.command("replace")
def replace(
    claim_id: int = typer.Argument(
        ..., help="The adjudicated claim's id (`claimdesk claims list`)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why it is replaced (in the audit trail)."),
    json_output: bool = typer.Option(False, "--json", help="Print the new version as JSON."),
) -> None:
    """Replace a paid, partly paid or denied claim (frequency 7, REF*F8) and queue it to send."""
    _frequency_command(claim_id, reason, json_output, void=False)
