"""Applying a denial review: corrected claim, appeal, bill the secondary or the patient, write off.

Every decision is checked against the denial first (``check_denial_decision``: no appeal
without appeal rights, no patient bill outside PR without a waiver, no secondary
without coverage); a write-off above the routing table's threshold waits for a lead
(a ``write_off_approval`` task), who may not be the one who asked for it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from claimdesk.claims.cob import create_secondary_claim, next_coverage
from claimdesk.claims.corrections import apply_corrections, check_correction_lines
from claimdesk.claims.ledger import account_claim_id, claim_balance, ensure_charge, post_entry
from claimdesk.claims.moves import move_claim
from claimdesk.denials import appeal_levels, appeals, find_level, load_routing_table
from claimdesk.denials.service import denial_route, load_denial, next_appeal_level
from claimdesk.denials.status import DENIAL, WORKING
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.review.decisions import DenialDecision, WriteOffApprovalDecision
from claimdesk.review.tasks import ensure_review_task
from models import Claim, Denial, Document, Payer, ReviewTask, append_audit_event
from models.types import utcnow

if TYPE_CHECKING:
    from claimdesk.documents import DocumentStore

_PR = "PR"


def check_denial_decision(session: Session, denial_id: int, decision: DenialDecision) -> None:
    """Refuse what the denial does not allow; the UI can call it before recording."""
    denial, claim, payer = load_denial(session, denial_id)
    route = denial_route(denial, payer)
    if decision.action == "appeal":
        if not route.appealable:
            raise ValidationFailed(
                f"decision.action: {denial.group_code}-{denial.reason_code} carries no appeal "
                "rights; send a corrected or new claim, or write it off.",
                field="action",
            )
        level = decision.appeal_level or next_appeal_level(session, denial)
        levels = appeal_levels(payer.appeal_levels, payer_kind=payer.kind)
        if find_level(levels, level) is None:
            raise ValidationFailed(
                f"decision.appeal_level: payer {payer.id} has no appeal level {level}.",
                field="appeal_level",
            )
        for document_id in decision.document_ids:
            if session.get(Document, document_id) is None:
                raise ValidationFailed(
                    f"decision.document_ids: no document {document_id}.", field="document_ids"
                )
    if decision.action == "bill_patient" and denial.group_code != _PR:
        waiver = (
            session.get(Document, decision.waiver_document_id)
            if decision.waiver_document_id
            else None
        )
        if waiver is None:
            raise ValidationFailed(
                f"decision.action: {denial.group_code}-{denial.reason_code} is not the "
                "patient's responsibility; bill the patient only with a signed waiver (ABN) "
                "on file: give waiver_document_id.",
                field="waiver_document_id",
            )
    if decision.action == "bill_secondary" and next_coverage(session, claim) is None:
        raise ValidationFailed(
            "decision.action: the patient has no secondary coverage on the date of service.",
            field="action",
        )


def _task_denial(session: Session, task: ReviewTask) -> Denial:
    denial_id = task.context.get("denial_id")
    denial = session.get(Denial, denial_id) if isinstance(denial_id, int) else None
    if denial is None:
        raise NotFound(f"task {task.id} names no denial")
    return denial


def check_denial_task(session: Session, task: ReviewTask, decision: DenialDecision) -> None:
    """The denial kind's check before a decision is stored (its row in the kinds table)."""
    if task.context.get("denial_id") is not None:
        check_denial_decision(session, int(task.context["denial_id"]), decision)
    check_correction_lines(session, task, decision)


def apply_denial_decision(
    session: Session,
    task: ReviewTask,
    decision: DenialDecision,
    *,
    actor: str = "system:denials",
    store: DocumentStore | None = None,
    today: date | None = None,
) -> str:
    """Apply a recorded denial decision; returns what happened (a code)."""
    denial = _task_denial(session, task)
    assert denial.id is not None
    check_denial_decision(session, denial.id, decision)
    _, claim, payer = load_denial(session, denial.id)
    today = today or utcnow().date()
    match decision.action:
        case "corrected_claim":
            outcome = _corrected_claim(session, claim, payer, decision, actor)
            DENIAL.move(denial, "corrected")
        case "appeal":
            appeal = appeals.create_appeal(
                session, denial_id=denial.id, level=decision.appeal_level, actor=actor
            )
            if store is not None:
                appeals.generate_appeal_letter(
                    session,
                    appeal_id=appeal.id or 0,
                    store=store,
                    argument=decision.argument or "",
                    enclosure_ids=decision.document_ids,
                    today=today,
                )
            move_claim(session, claim, "appealed", actor, "appeal")
            DENIAL.move(denial, "appealed")
            outcome = "appealed"
        case "bill_secondary":
            coverage = next_coverage(session, claim)
            assert coverage is not None
            create_secondary_claim(session, claim, coverage, actor=actor)
            move_claim(session, claim, "billed_secondary", actor, "denial_bill_secondary")
            DENIAL.move(denial, "billed_secondary")
            outcome = "billed_secondary"
        case "bill_patient":
            if denial.group_code != _PR:
                _post_denial_move(session, denial, claim, "transfer", "insurance", "patient", today)
            move_claim(session, claim, "billed_patient", actor, "denial_bill_patient")
            DENIAL.move(denial, "billed_patient")
            outcome = "billed_patient"
        case "write_off":
            threshold = load_routing_table().settings.write_off_approval_threshold
            if denial.amount > threshold:
                approval = ensure_review_task(
                    session=session,
                    kind="write_off_approval",
                    claim_id=claim.id,
                    claim_version=claim.version,
                    step=task.step,
                    payer_id=payer.id,
                    priority=max(task.priority, 60),
                    due_at=task.due_at,
                    context={"denial_id": denial.id, "denial_task_id": task.id},
                )
                DENIAL.move(denial, "write_off_pending")
                outcome = f"write_off_needs_approval:{approval.id}"
            else:
                write_off_denial(session, denial, actor=actor, today=today)
                outcome = "written_off"
    session.add(denial)
    append_audit_event(
        session,
        actor=actor,
        action="denial.decided",
        entity_type="denial",
        entity_id=denial.id,
        claim_id=claim.id,
        details={"action": decision.action, "outcome": outcome},
    )
    session.flush()
    return outcome


def apply_write_off_approval(
    session: Session,
    task: ReviewTask,
    decision: WriteOffApprovalDecision,
    *,
    actor: str = "system:denials",
    today: date | None = None,
) -> str:
    denial = _task_denial(session, task)
    if decision.action == "reject":
        DENIAL.move(denial, "open")  # back to the specialist: a new review round
        session.add(denial)
        append_audit_event(
            session,
            actor=actor,
            action="denial.write_off_rejected",
            entity_type="denial",
            entity_id=denial.id,
            claim_id=denial.claim_id,
            details={"task_id": task.id},
        )
        return "write_off_rejected"
    write_off_denial(session, denial, actor=actor, today=today or utcnow().date())
    return "written_off"


def write_off_denial(session: Session, denial: Denial, *, actor: str, today: date) -> None:
    """Post the denied amount as written off; a fully written-off denied claim is closed."""
    claim = session.get(Claim, denial.claim_id)
    assert claim is not None
    source = "patient" if denial.group_code == _PR else "insurance"
    _post_denial_move(session, denial, claim, "write_off", source, "written_off", today)
    DENIAL.move(denial, "written_off")
    session.add(denial)
    session.flush()
    if claim.status != "denied" or _open_denials(session, claim.id or 0):
        return
    balance = claim_balance(session, claim.id or 0)
    secondary = session.exec(select(Claim.id).where(Claim.primary_claim_id == claim.id)).first()
    if balance.open_balance == 0:
        move_claim(session, claim, "written_off", actor, "denial_written_off")
    elif secondary is not None:
        # What is left went to the secondary payer with the COB claim.
        move_claim(session, claim, "billed_secondary", actor, "denial_written_off_secondary_owes")
    elif balance.insurance_balance == 0:
        # The payer's part is settled; what is left is the patient's (deductible, coinsurance).
        move_claim(session, claim, "billed_patient", actor, "denial_written_off_patient_owes")


def _open_denials(session: Session, claim_id: int) -> list[int]:
    return [
        d
        for d in session.exec(
            select(Denial.id).where(
                Denial.claim_id == claim_id,
                col(Denial.status).in_(WORKING),
            )
        ).all()
        if d is not None
    ]


def _post_denial_move(
    session: Session,
    denial: Denial,
    claim: Claim,
    kind: str,
    source: str,
    target: str,
    today: date,
) -> None:
    post_entry(
        session=session,
        claim_id=account_claim_id(session, claim.id or 0),
        kind=kind,
        from_account=source,
        to_account=target,
        amount=denial.amount,
        effective_date=today,
        source_key=f"denial:{denial.id}:{kind}",
        source_claim_id=claim.id,
        denial_id=denial.id,
        claim_payment_id=denial.claim_payment_id,
        group_code=denial.group_code,
        reason_code=denial.reason_code,
        payer_id=claim.payer_id if source == "insurance" else None,
    )


def _corrected_claim(
    session: Session, claim: Claim, payer: Payer, decision: DenialDecision, actor: str
) -> str:
    if not decision.corrections.is_empty():
        apply_corrections(session, claim, decision.corrections)
    claim.version += 1
    if payer.accepts_replacement_claims and claim.payer_claim_number:
        claim.frequency_code = "7"  # replacement of prior claim; REF*F8 names it
        claim.original_payer_claim_number = claim.payer_claim_number
        outcome = "corrected_replacement"
    else:
        claim.frequency_code = "1"  # the payer wants a new original claim
        claim.original_payer_claim_number = None
        outcome = "corrected_new_original"
    session.add(claim)
    ensure_charge(session=session, claim=claim, effective_date=claim.service_from)
    target = "ready" if claim.status == "denied" else "queued"
    move_claim(session, claim, target, actor, outcome)
    return outcome
