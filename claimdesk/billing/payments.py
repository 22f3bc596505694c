"""Patient payments: cash, check or card, applied to claims (named, or oldest first) or
kept on account, each applied part one ``patient_payment`` ledger entry, with a receipt.

``source_key`` makes a post idempotent (a till retrying the same transaction finds
the first payment). Money on account is applied later, oldest balance first, by
``apply_on_account``. A payment to a payment plan also pays its installments in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from claimdesk.billing.collections import account_balances
from claimdesk.billing.receipt_pdf import ReceiptFacts, render_receipt
from claimdesk.billing.roles import require_billing
from claimdesk.billing.statements import store_generated
from claimdesk.claims.ledger import ZERO, account_claim_id, post_entry
from claimdesk.documents import DocumentStore
from claimdesk.errors import NotFound, ValidationFailed
from models import (
    Claim,
    Patient,
    PatientPayment,
    PatientPaymentAllocation,
    PaymentPlan,
    PaymentReceipt,
    Practice,
    User,
    append_audit_event,
)
from models.patient_billing import PAYMENT_METHODS


@dataclass(frozen=True)
class PaymentResult:
    payment_id: int
    receipt_number: str
    receipt_document_id: int | None
    applied: tuple[tuple[int, Decimal], ...]  # (claim id, amount)
    on_account: Decimal
    created: bool


@dataclass(frozen=True)
class PaymentRow:
    payment_id: int
    patient_id: int
    received_on: date
    method: str
    reference: str | None
    amount: Decimal
    unapplied: Decimal
    receipt_number: str | None


def _check(method: str, reference: str | None, amount: Decimal) -> None:
    if method not in PAYMENT_METHODS:
        raise ValidationFailed(
            f"method: {method!r} is not one of {', '.join(PAYMENT_METHODS)}.", field="method"
        )
    if method in ("check", "card") and not (reference or "").strip():
        raise ValidationFailed(
            f"reference: a {method} payment needs its reference (check number or card "
            "authorisation code).",
            field="reference",
        )
    if method == "card" and reference and sum(ch.isdigit() for ch in reference) >= 12:
        raise ValidationFailed(
            "reference: that looks like a card number; give the authorisation code instead.",
            field="reference",
        )
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(
            f"amount: {amount!r} must be positive with at most two decimals.", field="amount"
        )


def post_patient_payment(
    session: Session,
    *,
    user: User,
    patient_id: int,
    amount: Decimal,
    method: str,
    received_on: date,
    source_key: str,
    reference: str | None = None,
    allocations: dict[int, Decimal] | None = None,
    on_account: bool = False,
    store: DocumentStore | None = None,
    plan_id: int | None = None,
) -> PaymentResult:
    """Post a payment; ``allocations`` (claim → amount) or, when absent, oldest balance first.

    ``on_account=True`` applies nothing now. Named claims may be paid beyond what they
    owe (a copay taken before the 835): the excess shows as a credit for a refund review.
    """
    require_billing(user, "billing.post")
    _check(method, reference, amount)
    found = session.exec(
        select(PatientPayment).where(PatientPayment.source_key == source_key)
    ).first()
    if found is not None:
        return _result(session, found, created=False)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    if plan_id is not None:
        plan = session.get(PaymentPlan, plan_id)
        if plan is None or plan.patient_id != patient_id:
            raise ValidationFailed(
                f"plan_id: no payment plan {plan_id} for patient {patient_id}", field="plan_id"
            )
    named: list[tuple[int, Decimal]] = []
    for claim_id, part in (allocations or {}).items():
        claim = session.get(Claim, claim_id)
        if claim is None or claim.patient_id != patient_id:
            raise ValidationFailed(
                f"allocations: claim {claim_id} is not patient {patient_id}'s", field="allocations"
            )
        if part <= 0:
            raise ValidationFailed(
                f"allocations: claim {claim_id} amount must be positive", field="allocations"
            )
        named.append((account_claim_id(session, claim_id), part))
    if sum((p for _, p in named), ZERO) > amount:
        raise ValidationFailed(
            "allocations: the parts add up to more than the payment.", field="allocations"
        )
    payment = PatientPayment(
        patient_id=patient_id,
        method=method,
        reference=(reference or "").strip() or None,
        amount=amount,
        unapplied=amount,
        received_on=received_on,
        source_key=source_key,
        plan_id=plan_id,
        posted_by=user.username,
    )
    session.add(payment)
    session.flush()
    if named:
        plan_parts = named
    elif on_account:
        plan_parts = []
    else:
        plan_parts = _oldest_first(session, patient_id, amount, received_on)
    _apply(session, payment, plan_parts, received_on, actor=user.username)
    if plan_id is not None:
        from claimdesk.billing.plans import credit_installments

        credit_installments(session, plan_id=plan_id, amount=amount)
    receipt = PaymentReceipt(
        payment_id=payment.id or 0, receipt_number=f"R{payment.id:08d}", issued_by=user.username
    )
    session.add(receipt)
    session.flush()
    if store is not None:
        receipt.document_id = _receipt_document(session, store, payment, receipt, patient)
        session.add(receipt)
    append_audit_event(
        session,
        actor=user.username,
        action="patient_payment.posted",
        entity_type="patient_payment",
        entity_id=payment.id,
        details={
            "patient_id": patient_id,
            "amount": str(amount),
            "method": method,
            "unapplied": str(payment.unapplied),
        },
    )
    session.flush()
    return _result(session, payment, created=True)


def _oldest_first(
    session: Session, patient_id: int, amount: Decimal, as_of: date
) -> list[tuple[int, Decimal]]:
    owing = [
        a
        for a in account_balances(session, patient_id=patient_id, as_of=as_of)
        if a.patient_balance > 0
    ]
    owing.sort(key=lambda a: (a.responsibility_since or as_of, a.claim_id))
    parts: list[tuple[int, Decimal]] = []
    left = amount
    for account in owing:
        if left <= 0:
            break
        part = min(left, account.patient_balance)
        parts.append((account.claim_id, part))
        left -= part
    return parts


def _apply(
    session: Session,
    payment: PatientPayment,
    parts: list[tuple[int, Decimal]],
    effective: date,
    *,
    actor: str,
) -> None:
    for account, part in parts:
        if part <= 0:
            continue
        allocation = PatientPaymentAllocation(
            payment_id=payment.id or 0, claim_id=account, amount=part
        )
        session.add(allocation)
        session.flush()
        entry = post_entry(
            session=session,
            claim_id=account,
            kind="patient_payment",
            from_account="patient",
            to_account="paid",
            amount=part,
            effective_date=effective,
            source_key=f"ptpay:{payment.id}:{allocation.id}",
        )
        allocation.ledger_entry_id = entry.id if entry else None
        session.add(allocation)
        payment.unapplied -= part
        append_audit_event(
            session,
            actor=actor,
            action="patient_payment.applied",
            entity_type="claim",
            entity_id=account,
            claim_id=account,
            details={"payment_id": payment.id, "amount": str(part)},
        )
    session.add(payment)
    session.flush()


def apply_on_account(
    session: Session, *, patient_id: int, as_of: date, actor: str = "system:payments"
) -> list[tuple[int, Decimal]]:
    """Apply money kept on account to the patient's balances, oldest first (idempotent)."""
    applied: list[tuple[int, Decimal]] = []
    payments = session.exec(
        select(PatientPayment)
        .where(PatientPayment.patient_id == patient_id, col(PatientPayment.unapplied) > 0)
        .order_by(col(PatientPayment.received_on), col(PatientPayment.id))
    ).all()
    for payment in payments:
        parts = _oldest_first(session, patient_id, payment.unapplied, as_of)
        _apply(session, payment, parts, as_of, actor=actor)
        applied.extend(parts)
    return applied


def _receipt_document(
    session: Session,
    store: DocumentStore,
    payment: PatientPayment,
    receipt: PaymentReceipt,
    patient: Patient,
) -> int:
    practice = session.get(Practice, patient.practice_id)
    allocations = session.exec(
        select(PatientPaymentAllocation, Claim.patient_control_number)
        .join(Claim, col(Claim.id) == col(PatientPaymentAllocation.claim_id))
        .where(PatientPaymentAllocation.payment_id == payment.id)
    ).all()
    facts = ReceiptFacts(
        receipt_number=receipt.receipt_number,
        received_on=payment.received_on,
        practice_name=practice.name if practice else "",
        patient_name=f"{patient.first_name} {patient.last_name}",
        account_number=patient.account_number,
        method=payment.method,
        reference=payment.reference,
        amount=payment.amount,
        applied=tuple((pcn, a.amount) for a, pcn in allocations),
        on_account=payment.unapplied,
    )
    return store_generated(
        session,
        store,
        render_receipt(facts),
        kind="receipt",
        claim_ids=[a.claim_id for a, _ in allocations],
    )


def _result(session: Session, payment: PatientPayment, *, created: bool) -> PaymentResult:
    receipt = session.exec(
        select(PaymentReceipt).where(PaymentReceipt.payment_id == payment.id)
    ).first()
    applied = session.exec(
        select(col(PatientPaymentAllocation.claim_id), col(PatientPaymentAllocation.amount)).where(
            PatientPaymentAllocation.payment_id == payment.id
        )
    ).all()
    return PaymentResult(
        payment_id=payment.id or 0,
        receipt_number=receipt.receipt_number if receipt else "",
        receipt_document_id=receipt.document_id if receipt else None,
        applied=tuple((c, a) for c, a in applied),
        on_account=payment.unapplied,
        created=created,
    )


def list_payments(
    session: Session, *, user: User, patient_id: int | None = None, limit: int = 200
) -> list[PaymentRow]:
    require_billing(user, "billing.view")
    query = (
        select(PatientPayment, PaymentReceipt.receipt_number)
        .outerjoin(PaymentReceipt, col(PaymentReceipt.payment_id) == col(PatientPayment.id))
        .order_by(col(PatientPayment.id).desc())
        .limit(limit)
    )
    if patient_id is not None:
        query = query.where(PatientPayment.patient_id == patient_id)
    rows = [
        PaymentRow(
            p.id or 0, p.patient_id, p.received_on, p.method, p.reference, p.amount, p.unapplied, r
        )
        for p, r in session.exec(query).all()
    ]
    append_audit_event(
        session,
        actor=user.username,
        action="patient_payments.viewed",
        entity_type="patient_payment",
        details={"patient_id": patient_id, "count": len(rows)},
    )
    return rows


def patients_with_money_on_account(session: Session) -> list[int]:
    """Patients who left money on account that is not applied to a balance yet."""
    return sorted(
        set(session.exec(select(PatientPayment.patient_id).where(PatientPayment.unapplied > 0)))
    )
