"""Eligibility before a scheduled visit: a task when the 271 does not confirm the coverage.

A visit has no claim yet, so nothing is held: the front desk gets a ``visit_eligibility``
task (one per appointment and outcome, keyed by the appointment's id) saying in plain
words what the payer answered (coverage ended, member id not found or invalid, another
payer primary ...), to sort out with the patient before they come. The task's context
carries ids and codes only; the words are made from them when shown.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.review.decisions import VisitEligibilityDecision
from claimdesk.review.tasks import ensure_review_task
from models import Appointment, Coverage, Payer, ReviewTask, append_audit_event

KIND = "visit_eligibility"
# AAA03 reasons a front desk meets, in words (X12 005010X279A1 code list).
_AAA = {
    "71": "the patient's birth date does not match the payer's",
    "72": "the payer says the member id is invalid",
    "73": "the name does not match the payer's",
    "75": "the payer finds no member with this id",
    "76": "the payer finds this member twice (duplicate id)",
    "58": "the birth date is missing or invalid",
}
_NEW_COVERAGE = "get the new coverage or agree self-pay"
_OUTCOMES = {
    "terminated": ("the coverage ended before the visit", _NEW_COVERAGE),
    "inactive": ("the coverage is not active on the visit date", _NEW_COVERAGE),
    "unknown_member": ("the payer does not know the member", "check the member id with them"),
    "mismatch": ("the patient's details differ from the payer's", "correct the coverage"),
    "rejected": ("the payer refused the eligibility question", "check the coverage, ask again"),
    "other_primary": ("another payer is primary", "add the other payer as primary coverage"),
}


def visit_reason(context: dict[str, Any]) -> tuple[str, str]:
    """(why, what to do) in plain words, from a visit task's context (codes, no PHI)."""
    outcome = str(context.get("outcome", ""))
    why, action = _OUTCOMES.get(outcome, ("the coverage needs checking", "check the coverage"))
    codes = [str(c) for c in context.get("rejection_codes") or []]
    words = [_AAA[c] for c in codes if c in _AAA]
    if words:
        why = f"{why}: {'; '.join(words)} (AAA {', '.join(codes)})"
    elif codes:
        why = f"{why} (AAA {', '.join(codes)})"
    if outcome == "other_primary" and context.get("other_payer"):
        why = f"{why}: {context['other_payer']}"
        action = f"add {context['other_payer']} as primary coverage"
    return f"{why}, and the visit has no claim yet", f"{action} before the visit"


def open_visit_tasks(
    session: Session,
    *,
    coverage: Coverage,
    appointment_ids: tuple[int, ...],
    outcome: str,
    rejections: list[str],
    other_payer: str | None,
    eligibility_check_id: int | None,
    payer_id: int | None,
) -> list[int]:
    """A task per appointment for a 271 that did not confirm the coverage; new task ids."""
    new: list[int] = []
    for appointment_id in appointment_ids:
        task = ensure_review_task(
            session=session,
            kind=KIND,
            claim_id=None,
            claim_version=None,
            step=appointment_id,  # one task per appointment (claimless tasks key on step)
            payer_id=payer_id,
            priority=70,  # the patient is coming: before claims that can wait
            context={
                "appointment_id": appointment_id,
                "coverage_id": coverage.id,
                "patient_id": coverage.patient_id,
                "eligibility_check_id": eligibility_check_id,
                "outcome": outcome,
                "rejection_codes": rejections,
                **({"other_payer": other_payer} if other_payer else {}),
            },
        )
        if task.status == "open" and task.flow_run_id is None and task.id is not None:
            new.append(task.id)
    return new


def _appointment(session: Session, task: ReviewTask) -> Appointment:
    appointment_id = task.context.get("appointment_id")
    appointment = session.get(Appointment, int(appointment_id)) if appointment_id else None
    if appointment is None:
        raise NotFound(f"task {task.id} names no appointment")
    return appointment


def apply_visit_eligibility_decision(
    session: Session, task: ReviewTask, decision: VisitEligibilityDecision, *, actor: str
) -> str:
    """Correct the patient's coverage (asked again on the next run), or settle the visit."""
    appointment = _appointment(session, task)
    if decision.action == "visit_cancelled":
        appointment.status = "cancelled"
        session.add(appointment)
        return "visit_cancelled"
    if decision.action in ("self_pay", "patient_contacted"):
        return decision.action
    assert decision.coverage is not None
    correction = decision.coverage
    payer = session.exec(select(Payer).where(Payer.payer_id == correction.payer_id)).first()
    if payer is None:
        raise ValidationFailed(
            f"coverage.payer_id: no payer {correction.payer_id!r}", field="coverage.payer_id"
        )
    coverages = session.exec(
        select(Coverage)
        .where(Coverage.patient_id == appointment.patient_id)
        .order_by(col(Coverage.coverage_order))
    ).all()
    same = next((c for c in coverages if c.payer_id == payer.id), None)
    if same is not None and same.coverage_order == 1:
        same.member_id = correction.member_id
        same.group_number = correction.group_number
        same.effective_from = correction.effective_from
        same.effective_to = correction.effective_to
        same.verified_at = None  # asked again on the next eligibility run
        session.add(same)
        changed = same
    else:
        # Another payer is primary: it goes first, the others move down one place.
        others = [c for c in coverages if c is not same]
        if len(others) >= 3:
            raise ValidationFailed(
                "coverage.payer_id: the patient already has three coverages; "
                "end one before adding a primary",
                field="coverage.payer_id",
            )
        for order, coverage in sorted(
            enumerate(others, start=2), key=lambda pair: -pair[0]
        ):  # bottom first, so no two share an order on the way
            coverage.coverage_order = order
            session.add(coverage)
        session.flush()
        changed = same or Coverage(
            patient_id=appointment.patient_id,
            payer_id=payer.id or 0,
            member_id=correction.member_id,
            relationship="self",
            effective_from=correction.effective_from,
        )
        changed.coverage_order = 1
        changed.member_id = correction.member_id
        changed.group_number = correction.group_number
        changed.effective_from = correction.effective_from
        changed.effective_to = correction.effective_to
        changed.verified_at = None
        session.add(changed)
    session.flush()
    append_audit_event(
        session,
        actor=actor,
        action="coverage.corrected",
        entity_type="coverage",
        entity_id=changed.id,
        details={"task_id": task.id, "appointment_id": appointment.id, "payer_id": payer.id},
    )
    return "coverage_corrected"
