"""Credit balances: an encounter paid more than it owes becomes a refund review task.

``find_credit_balances`` scans the ledger: a negative patient balance the patient
paid is the patient's money; a credit beyond that went to the payer that paid. Each
becomes a ``Refund`` row and a ``refund`` review task with the amount and to whom;
Medicare-like payers (Medicare, Medicaid) carry the 60-day deadline from
identification (42 CFR 401.305: report and return within 60 days). One pending
refund per encounter at a time: the patient's first, the payer's on the next scan.

Posting keeps the ledger identity: a refund is the signed reversal of the payment it
returns (``patient_payment`` or ``payment``, negative, back into the account that was
overpaid), so payments fall and the credit closes to zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from claimdesk.billing.collections import account_balances
from claimdesk.billing.roles import require_billing
from claimdesk.claims.ledger import ZERO, claim_balance, post_entry
from claimdesk.errors import NotFound, ReviewConflict, ValidationFailed
from claimdesk.review.decisions import RefundDecision
from claimdesk.review.tasks import ensure_review_task
from claimdesk.states import StateMachine
from models import Claim, Payer, Refund, ReviewTask, User, append_audit_event
from models.ledger import LedgerEntry
from models.types import utcnow

# A credit balance to give back: approved and posted, or dismissed with a reason.
REFUND = StateMachine(
    "refund",
    initial=frozenset({"pending"}),
    moves={
        "pending": frozenset({"posted", "dismissed"}),
        "posted": frozenset(),
        "dismissed": frozenset(),
    },
)

MEDICARE_LIKE = ("medicare", "medicaid")
MEDICARE_REFUND_DAYS = 60  # the overpayment rule: 60 days from identification


@dataclass(frozen=True)
class RefundRow:
    refund_id: int
    claim_id: int
    payee: str
    payer_id: int | None
    patient_id: int
    amount: Decimal
    identified_on: date
    deadline: date | None
    status: str
    review_task_id: int | None


def _last_payer(session: Session, account: int) -> int | None:
    return session.exec(
        select(LedgerEntry.payer_id)
        .where(
            LedgerEntry.claim_id == account,
            LedgerEntry.kind == "payment",
            col(LedgerEntry.amount) > 0,
        )
        .order_by(col(LedgerEntry.effective_date).desc(), col(LedgerEntry.id).desc())
    ).first()


def find_credit_balances(
    session: Session, *, as_of: date, actor: str = "system:refunds"
) -> list[int]:
    """A refund (and its review task) for each new credit balance; their refund ids."""
    pending = set(session.exec(select(Refund.claim_id).where(Refund.status == "pending")).all())
    # A credit a person decided to keep is not flagged again until it changes.
    dismissed = set(
        session.exec(
            select(col(Refund.claim_id), col(Refund.amount)).where(Refund.status == "dismissed")
        ).all()
    )
    created: list[int] = []
    for account in account_balances(session):
        if account.claim_id in pending:
            continue
        credit = -(account.patient_balance + account.insurance_balance)
        if credit <= 0 or any(c == account.claim_id and a == credit for c, a in dismissed):
            continue
        patient_part = min(credit, max(-account.patient_balance, ZERO), account.paid_by_patient)
        if patient_part > 0:
            payee, amount, payer_id = "patient", patient_part, None
        else:
            payee, amount, payer_id = "payer", credit, _last_payer(session, account.claim_id)
        refund = _open_refund(
            session, account.claim_id, account.patient_id, payee, payer_id, amount, as_of, actor
        )
        created.append(refund.id or 0)
    return created


def _open_refund(
    session: Session,
    account: int,
    patient_id: int,
    payee: str,
    payer_id: int | None,
    amount: Decimal,
    as_of: date,
    actor: str,
) -> Refund:
    claim = session.get(Claim, account)
    assert claim is not None
    payer = session.get(Payer, payer_id) if payer_id else None
    deadline = (
        as_of + timedelta(days=MEDICARE_REFUND_DAYS)
        if payee == "payer" and payer is not None and payer.kind in MEDICARE_LIKE
        else None
    )
    task = ensure_review_task(
        session=session,
        kind="refund",
        claim_id=account,
        claim_version=claim.version,
        payer_id=payer_id,
        priority=70 if deadline else 50,
        due_at=datetime.combine(deadline - timedelta(days=14), time(17), tzinfo=UTC)
        if deadline
        else None,
        context={
            "payee": payee,
            "amount": str(amount),
            "payer_id": payer_id,
            "patient_id": patient_id,
            "deadline": deadline.isoformat() if deadline else None,
        },
    )
    if deadline is not None:
        task.deadline_at = datetime.combine(deadline, time(23, 59), tzinfo=UTC)
        session.add(task)
    refund = Refund(
        claim_id=account,
        payee=payee,
        payer_id=payer_id,
        patient_id=patient_id,
        amount=amount,
        reason=f"credit balance: {payee} overpaid",
        identified_on=as_of,
        deadline=deadline,
        review_task_id=task.id,
        created_by=actor,
    )
    session.add(refund)
    session.flush()
    task.context = {**task.context, "refund_id": refund.id}
    session.add(task)
    append_audit_event(
        session,
        actor=actor,
        action="refund.identified",
        entity_type="refund",
        entity_id=refund.id,
        claim_id=account,
        details={"payee": payee, "amount": str(amount), "task_id": task.id},
    )
    session.flush()
    return refund


def post_refund(
    session: Session,
    *,
    refund_id: int,
    method: str,
    reference: str | None,
    actor: str,
    effective_date: date | None = None,
) -> Refund:
    """Post an approved refund to the ledger; refused when the credit is no longer there."""
    refund = session.get(Refund, refund_id)
    if refund is None:
        raise NotFound(f"no refund {refund_id}")
    if refund.status != "pending":
        raise ReviewConflict(f"refund {refund_id} is already {refund.status}")
    balance = claim_balance(session, refund.claim_id)
    if -balance.open_balance < refund.amount:
        raise ValidationFailed(
            f"amount: refund {refund_id} of {refund.amount} is more than the credit left "
            f"({-balance.open_balance}); dismiss it and let the next scan find the credit.",
            field="amount",
        )
    day = effective_date or utcnow().date()
    if refund.payee == "patient":
        move = {"kind": "patient_payment", "from_account": "patient", "to_account": "paid"}
    else:
        move = {"kind": "payment", "from_account": "insurance", "to_account": "paid"}
    entry = post_entry(
        session=session,
        claim_id=refund.claim_id,
        amount=-refund.amount,
        effective_date=day,
        source_key=f"refund:{refund.id}",
        payer_id=refund.payer_id,
        reason_code="RFND",
        **move,
    )
    refund.ledger_entry_id = entry.id if entry else None
    REFUND.move(refund, "posted")
    refund.method = method
    refund.reference = reference
    refund.posted_by = actor
    refund.posted_at = utcnow()
    session.add(refund)
    append_audit_event(
        session,
        actor=actor,
        action="refund.posted",
        entity_type="refund",
        entity_id=refund.id,
        claim_id=refund.claim_id,
        details={"payee": refund.payee, "amount": str(refund.amount), "method": method},
    )
    session.flush()
    return refund


def apply_refund_decision(
    session: Session, task: ReviewTask, decision: RefundDecision, *, actor: str
) -> str:
    refund = session.exec(select(Refund).where(Refund.review_task_id == task.id)).first()
    if refund is None:
        raise NotFound(f"task {task.id} names no refund")
    if decision.action == "dismiss":
        REFUND.move(refund, "dismissed")
        session.add(refund)
        append_audit_event(
            session,
            actor=actor,
            action="refund.dismissed",
            entity_type="refund",
            entity_id=refund.id,
            claim_id=refund.claim_id,
        )
        return "refund_dismissed"
    assert decision.method is not None
    post_refund(
        session,
        refund_id=refund.id or 0,
        method=decision.method,
        reference=decision.reference,
        actor=actor,
    )
    return "refund_posted"


def list_refunds(
    session: Session, *, user: User, status: str | None = "pending"
) -> list[RefundRow]:
    require_billing(user, "billing.view")
    query = select(Refund).order_by(col(Refund.deadline), col(Refund.id))
    if status is not None:
        query = query.where(Refund.status == status)
    rows = [
        RefundRow(
            r.id or 0,
            r.claim_id,
            r.payee,
            r.payer_id,
            r.patient_id,
            r.amount,
            r.identified_on,
            r.deadline,
            r.status,
            r.review_task_id,
        )
        for r in session.exec(query).all()
    ]
    append_audit_event(
        session,
        actor=user.username,
        action="refunds.viewed",
        entity_type="refund",
        details={"status": status, "count": len(rows)},
    )
    return rows
