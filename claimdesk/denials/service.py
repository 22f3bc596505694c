"""Working denials: open the review, check a decision against the denial, apply it.

The flow's per-denial run calls ``open_denial_review`` (or reads
``denial_review_spec`` and calls its own review helper), waits for the
decision, and the decision service applies it with ``apply_denial_decision``:

- ``corrected_claim``: the claim is corrected and re-queued as a replacement
  (frequency 7 with REF*F8 = the payer's claim number) where the payer takes
  replacements, else as a new original (frequency 1), the payer's requirement;
- ``appeal``: an ``Appeal`` at the next level with its deadline (refused for a
  denial without appeal rights: Medicare CO-29, CO-16 with MA130 ...); with a
  document store the letter PDF is made at once (``appeals``);
- ``bill_secondary``: the COB claim for the next coverage;
- ``bill_patient``: only for a PR-group denial or with a signed waiver/ABN on file;
- ``write_off``: posted to the ledger; above ``write_off_approval_threshold``
  (routing settings) a lead approves first (a ``write_off_approval`` task).

Priority = recoverable amount weighted by days left; due = deadline − buffer.
A denial's status: open → corrected | appealed | billed_secondary | billed_patient
| write_off_pending → written_off (| closed for true duplicates); a refused
write-off or an upheld appeal puts it back to open, and ``open_denial_review``
then opens a new review round (a new step) for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from claimdesk.claims.cob import create_secondary_claim, next_coverage
from claimdesk.claims.ledger import (
    account_claim_id,
    claim_balance,
    ensure_charge,
    post_entry,
)
from claimdesk.denials import (
    Route,
    RoutingTable,
    appeal_deadline,
    appeal_levels,
    appeals,
    denial_priority,
    due_date,
    find_level,
    load_routing_table,
)
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.remittance.claim_posting import move_claim
from claimdesk.review.decisions import DenialDecision, WriteOffApprovalDecision
from claimdesk.review.tasks import ensure_review_task
from models import (
    Appeal,
    Claim,
    Denial,
    Document,
    Payer,
    ReviewTask,
    append_audit_event,
)
from models.types import utcnow

if TYPE_CHECKING:
    from claimdesk.documents import DocumentStore

_PR = "PR"


@dataclass(frozen=True)
class DenialReviewSpec:
    """Everything ``ensure_review_task`` needs for a denial's review (ids and codes only)."""

    kind: str
    claim_id: int
    claim_version: int
    step: int
    payer_id: int
    priority: int
    due_at: datetime
    context: dict[str, Any]


def _denial(session: Session, denial_id: int) -> tuple[Denial, Claim, Payer]:
    denial = session.get(Denial, denial_id)
    if denial is None:
        raise NotFound(f"no denial {denial_id}")
    claim = session.get(Claim, denial.claim_id)
    assert claim is not None
    payer = session.get(Payer, claim.payer_id)
    assert payer is not None
    return denial, claim, payer


def denial_route(denial: Denial, payer: Payer, table: RoutingTable | None = None) -> Route:
    table = table or load_routing_table()
    return table.route(
        denial.group_code, denial.reason_code, denial.remark_codes, payer_kind=payer.kind
    )


def work_deadline(
    session: Session, denial: Denial, payer: Payer, table: RoutingTable | None = None
) -> date:
    """The date the denial must be acted on by: the next appeal level's deadline when the
    denial can be appealed, else the payer's corrected-claim (timely filing) window."""
    table = table or load_routing_table()
    if denial_route(denial, payer, table).appealable:
        levels = appeal_levels(
            payer.appeal_levels,
            payer_kind=payer.kind,
            default_window_days=table.settings.default_appeal_window_days,
        )
        level = find_level(levels, _next_level(session, denial)) or levels[-1]
        return appeal_deadline(_notice_for_level(session, denial), level)
    claim = session.get(Claim, denial.claim_id)
    assert claim is not None
    return claim.service_from + timedelta(days=payer.timely_filing_days)


def _next_level(session: Session, denial: Denial) -> int:
    levels = session.exec(select(Appeal.level).where(Appeal.denial_id == denial.id)).all()
    return max(levels, default=0) + 1


def _notice_for_level(session: Session, denial: Denial) -> date:
    """Level 1 counts from the 835; a later level from the previous level's decision."""
    rounds = session.exec(
        select(Appeal).where(Appeal.denial_id == denial.id).order_by(col(Appeal.level))
    ).all()
    decided = [a for a in rounds if a.decided_at is not None]
    return (
        decided[-1].decided_at.date() if decided and decided[-1].decided_at else denial.notice_date
    )


# A denial worked again (write-off refused, appeal upheld) gets a new review step:
# its ordinal plus this stride per earlier round; no claim carries 1000 denials.
_ROUND_STRIDE = 1000


def _step(session: Session, denial: Denial, claim_version: int) -> int:
    """The claim's n-th denial is step n; its k-th re-review is n + 1000·k.

    Deterministic per denial and round, so concurrent per-denial runs never share a task.
    """
    ordinal = len(
        session.exec(
            select(Denial.id).where(Denial.claim_id == denial.claim_id, col(Denial.id) <= denial.id)
        ).all()
    )
    finished = [
        task
        for task in session.exec(
            select(ReviewTask).where(
                ReviewTask.kind == "denial",
                ReviewTask.claim_id == denial.claim_id,
                ReviewTask.claim_version == claim_version,
                col(ReviewTask.status).in_(("resolved", "cancelled")),
            )
        ).all()
        if task.context.get("denial_id") == denial.id
    ]
    rounds = len(finished) if denial.status == "open" else max(len(finished) - 1, 0)
    return ordinal + _ROUND_STRIDE * rounds


def denial_review_spec(
    session: Session, denial_id: int, *, today: date | None = None
) -> DenialReviewSpec:
    table = load_routing_table()
    denial, claim, payer = _denial(session, denial_id)
    today = today or utcnow().date()
    deadline = work_deadline(session, denial, payer, table)
    due = due_date(deadline, table.settings.deadline_buffer_days)
    route = denial_route(denial, payer, table)
    assert claim.id is not None and payer.id is not None and denial.id is not None
    return DenialReviewSpec(
        kind="denial",
        claim_id=claim.id,
        claim_version=claim.version,
        step=_step(session, denial, claim.version),
        payer_id=payer.id,
        priority=denial_priority(denial.amount, deadline, today),
        due_at=datetime.combine(due, time(17), tzinfo=UTC),
        context={
            "denial_id": denial.id,
            "group_code": denial.group_code,
            "reason_code": denial.reason_code,
            "remark_codes": list(denial.remark_codes),
            "queue": route.queue,
            "suggested_action": route.action,
            "appealable": route.appealable,
            "deadline": deadline.isoformat(),
        },
    )


def open_denial_review(
    session: Session, denial_id: int, *, flow_run_id: str | None = None, today: date | None = None
) -> ReviewTask:
    """Find or create the denial's review task (idempotent).

    For a denial without appeal rights the task's form offers no appeal (its stored
    schema drops the choice); ``check_denial_decision`` refuses one in any case.
    """
    spec = denial_review_spec(session, denial_id, today=today)
    task = ensure_review_task(
        session=session,
        kind=spec.kind,
        claim_id=spec.claim_id,
        claim_version=spec.claim_version,
        step=spec.step,
        payer_id=spec.payer_id,
        flow_run_id=flow_run_id,
        priority=spec.priority,
        due_at=spec.due_at,
        context=spec.context,
    )
    if not spec.context["appealable"]:
        drop_action(task, "appeal")
        session.add(task)
        session.flush()
    return task


def drop_action(task: ReviewTask, action: str) -> None:
    schema = dict(task.decision_schema)
    properties = dict(schema.get("properties", {}))
    field = dict(properties.get("action", {}))
    choices = field.get("enum")
    if not isinstance(choices, list) or action not in choices:
        return
    field["enum"] = [c for c in choices if c != action]
    properties["action"] = field
    schema["properties"] = properties
    task.decision_schema = schema


def check_denial_decision(session: Session, denial_id: int, decision: DenialDecision) -> None:
    """Refuse what the denial does not allow; the UI can call it before recording."""
    denial, claim, payer = _denial(session, denial_id)
    route = denial_route(denial, payer)
    if decision.action == "appeal":
        if not route.appealable:
            raise ValidationFailed(
                f"decision.action: {denial.group_code}-{denial.reason_code} carries no appeal "
                "rights; send a corrected or new claim, or write it off.",
                field="action",
            )
        level = decision.appeal_level or _next_level(session, denial)
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
    _, claim, payer = _denial(session, denial.id)
    today = today or utcnow().date()
    match decision.action:
        case "corrected_claim":
            outcome = _corrected_claim(session, claim, payer, decision, actor)
            denial.status = "corrected"
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
            denial.status = "appealed"
            outcome = "appealed"
        case "bill_secondary":
            coverage = next_coverage(session, claim)
            assert coverage is not None
            create_secondary_claim(session, claim, coverage, actor=actor)
            move_claim(session, claim, "billed_secondary", actor, "denial_bill_secondary")
            denial.status = "billed_secondary"
            outcome = "billed_secondary"
        case "bill_patient":
            if denial.group_code != _PR:
                _post_denial_move(session, denial, claim, "transfer", "insurance", "patient", today)
            move_claim(session, claim, "billed_patient", actor, "denial_bill_patient")
            denial.status = "billed_patient"
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
                denial.status = "write_off_pending"
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
        denial.status = "open"  # back to the specialist: a new review round
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
    denial.status = "written_off"
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
                col(Denial.status).in_(("open", "write_off_pending")),
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
    from claimdesk.workqueue.appliers import apply_corrections  # (imports this module)

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


def denial_explanation(session: Session, denial_id: int) -> dict[str, Any]:
    """The payer's words and plain English for one denial (for the app and letters)."""
    table = load_routing_table()
    denial, _, payer = _denial(session, denial_id)
    route = denial_route(denial, payer, table)
    return {
        "code": f"{denial.group_code}-{denial.reason_code}",
        "payer_words": table.carc_description(denial.reason_code),
        "remarks": [(r, table.rarc_description(r)) for r in denial.remark_codes],
        "plain_english": route.explanation,
        "queue": route.queue,
        "suggested_action": route.action,
        "appealable": route.appealable,
        "amount": str(denial.amount),
    }


__all__ = [
    "DenialReviewSpec",
    "apply_denial_decision",
    "apply_write_off_approval",
    "check_denial_decision",
    "denial_explanation",
    "denial_review_spec",
    "open_denial_review",
    "work_deadline",
    "write_off_denial",
]
