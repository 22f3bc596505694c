"""Payment plans: a balance paid in installments on a cadence; a missed installment
becomes a ``payment_plan`` review task (no claim: its ``step`` is the installment id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from claimdesk.billing.roles import require_billing
from claimdesk.claims.ledger import ZERO
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.review.decisions import PaymentPlanDecision
from claimdesk.review.tasks import ensure_review_task
from claimdesk.states import StateMachine
from models import (
    Patient,
    PaymentPlan,
    PaymentPlanInstallment,
    ReviewTask,
    User,
    append_audit_event,
)
from models.types import utcnow

PLAN = StateMachine(
    "payment plan",
    initial=frozenset({"active"}),
    moves={
        "active": frozenset({"completed", "cancelled"}),
        "completed": frozenset(),
        "cancelled": frozenset(),
    },
)
# A missed installment is rescheduled (due again, a new date), waived or paid late;
# rescheduling a due one keeps it due with the new date.
INSTALLMENT = StateMachine(
    "installment",
    initial=frozenset({"due"}),
    moves={
        "due": frozenset({"due", "paid", "missed", "waived"}),
        "missed": frozenset({"due", "paid", "waived"}),
        "paid": frozenset(),
        "waived": frozenset(),
    },
)

MAX_INSTALLMENTS = 120  # ten years of monthly payments: anything longer is a typo


@dataclass(frozen=True)
class PlanRow:
    plan_id: int
    patient_id: int
    total_amount: Decimal
    installment_amount: Decimal
    cadence_days: int
    next_due_date: date | None
    status: str
    paid: Decimal
    missed: int


def create_plan(
    session: Session,
    *,
    user: User,
    patient_id: int,
    total_amount: Decimal,
    installment_amount: Decimal,
    cadence_days: int,
    start_date: date,
) -> PaymentPlan:
    """A plan and its installments (the last one takes the remainder)."""
    require_billing(user, "billing.post")
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient {patient_id}")
    if total_amount <= 0:
        raise ValidationFailed("total_amount: must be positive", field="total_amount")
    if installment_amount <= 0 or installment_amount > total_amount:
        raise ValidationFailed(
            f"installment_amount: {installment_amount} must be positive and at most the total "
            f"{total_amount}.",
            field="installment_amount",
        )
    if not 1 <= cadence_days <= 366:
        raise ValidationFailed(
            f"cadence_days: {cadence_days} must be 1-366 (7 weekly, 14, 30 monthly).",
            field="cadence_days",
        )
    count = -(-total_amount // installment_amount)  # ceiling
    if count > MAX_INSTALLMENTS:
        raise ValidationFailed(
            f"installment_amount: {count} installments is more than {MAX_INSTALLMENTS}; "
            "raise the installment.",
            field="installment_amount",
        )
    plan = PaymentPlan(
        patient_id=patient_id,
        total_amount=total_amount,
        installment_amount=installment_amount,
        cadence_days=cadence_days,
        start_date=start_date,
        next_due_date=start_date,
        created_by=user.username,
    )
    session.add(plan)
    session.flush()
    left = total_amount
    for number in range(1, int(count) + 1):
        part = min(installment_amount, left)
        session.add(
            PaymentPlanInstallment(
                plan_id=plan.id or 0,
                number=number,
                due_date=start_date + timedelta(days=cadence_days * (number - 1)),
                amount=part,
            )
        )
        left -= part
    append_audit_event(
        session,
        actor=user.username,
        action="payment_plan.created",
        entity_type="payment_plan",
        entity_id=plan.id,
        details={"patient_id": patient_id, "total": str(total_amount), "installments": int(count)},
    )
    session.flush()
    return plan


def _installments(session: Session, plan_id: int) -> list[PaymentPlanInstallment]:
    return list(
        session.exec(
            select(PaymentPlanInstallment)
            .where(PaymentPlanInstallment.plan_id == plan_id)
            .order_by(col(PaymentPlanInstallment.number))
        ).all()
    )


def credit_installments(session: Session, *, plan_id: int, amount: Decimal) -> None:
    """A payment toward the plan pays its open installments in order (missed ones first)."""
    plan = session.get(PaymentPlan, plan_id)
    if plan is None:
        raise NotFound(f"no payment plan {plan_id}")
    left = amount
    for item in _installments(session, plan_id):
        if left <= 0:
            break
        if item.status not in ("due", "missed"):
            continue
        part = min(left, item.amount - item.paid_amount)
        item.paid_amount += part
        left -= part
        if item.paid_amount >= item.amount:
            INSTALLMENT.move(item, "paid")
        item.updated_at = utcnow()
        session.add(item)
    _refresh(session, plan)


def _refresh(session: Session, plan: PaymentPlan) -> None:
    items = _installments(session, plan.id or 0)
    open_items = [i for i in items if i.status in ("due", "missed")]
    plan.next_due_date = min((i.due_date for i in open_items), default=None)
    if not open_items and plan.status == "active":
        PLAN.move(plan, "completed")
    session.add(plan)
    session.flush()


def check_missed_installments(session: Session, *, as_of: date, grace_days: int = 5) -> list[int]:
    """Installments unpaid ``grace_days`` after their due date → missed, with a review task."""
    rows = session.exec(
        select(PaymentPlanInstallment, PaymentPlan)
        .join(PaymentPlan, col(PaymentPlan.id) == col(PaymentPlanInstallment.plan_id))
        .where(
            PaymentPlan.status == "active",
            PaymentPlanInstallment.status == "due",
            PaymentPlanInstallment.due_date < as_of - timedelta(days=grace_days),
        )
    ).all()
    task_ids: list[int] = []
    for item, plan in rows:
        task = ensure_review_task(
            session=session,
            kind="payment_plan",
            claim_id=None,
            claim_version=None,
            step=item.id,
            priority=45,
            context={
                "plan_id": plan.id,
                "patient_id": plan.patient_id,
                "installment_id": item.id,
                "number": item.number,
                "due_date": item.due_date.isoformat(),
                "amount": str(item.amount - item.paid_amount),
            },
        )
        INSTALLMENT.move(item, "missed")
        item.review_task_id = task.id
        item.updated_at = utcnow()
        session.add(item)
        if task.id is not None:
            task_ids.append(task.id)
    session.flush()
    return task_ids


def apply_payment_plan_decision(
    session: Session, task: ReviewTask, decision: PaymentPlanDecision, *, actor: str
) -> str:
    item = session.get(PaymentPlanInstallment, int(task.context.get("installment_id", 0)))
    if item is None:
        raise NotFound(f"task {task.id} names no installment")
    plan = session.get(PaymentPlan, item.plan_id)
    assert plan is not None
    if decision.action == "reschedule":
        assert decision.new_due_date is not None
        item.due_date = decision.new_due_date
        INSTALLMENT.move(item, "due")
        outcome = "installment_rescheduled"
    elif decision.action == "waive":
        INSTALLMENT.move(item, "waived")
        outcome = "installment_waived"
    else:
        PLAN.move(plan, "cancelled")
        for other in _installments(session, plan.id or 0):
            if other.status in ("due", "missed"):
                INSTALLMENT.move(other, "waived")
                session.add(other)
        outcome = "plan_cancelled"
    item.updated_at = utcnow()
    session.add(item)
    _refresh(session, plan)
    append_audit_event(
        session,
        actor=actor,
        action=f"payment_plan.{outcome}",
        entity_type="payment_plan",
        entity_id=plan.id,
        details={"installment_id": item.id},
    )
    return outcome


def list_plans(
    session: Session, *, user: User, patient_id: int | None = None, status: str | None = None
) -> list[PlanRow]:
    require_billing(user, "billing.view")
    query = select(PaymentPlan).order_by(col(PaymentPlan.id).desc())
    if patient_id is not None:
        query = query.where(PaymentPlan.patient_id == patient_id)
    if status is not None:
        query = query.where(PaymentPlan.status == status)
    rows = []
    for plan in session.exec(query).all():
        items = _installments(session, plan.id or 0)
        rows.append(
            PlanRow(
                plan.id or 0,
                plan.patient_id,
                plan.total_amount,
                plan.installment_amount,
                plan.cadence_days,
                plan.next_due_date,
                plan.status,
                sum((i.paid_amount for i in items), ZERO),
                sum(1 for i in items if i.status == "missed"),
            )
        )
    append_audit_event(
        session,
        actor=user.username,
        action="payment_plans.viewed",
        entity_type="payment_plan",
        details={"patient_id": patient_id, "count": len(rows)},
    )
    return rows
