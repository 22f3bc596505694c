"""Patient payments, receipts, payment plans, ageing and collections."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from claimdesk.billing.collections import (
    age_patient_balances,
    create_collection_tasks,
)
from claimdesk.billing.payments import apply_on_account, post_patient_payment
from claimdesk.billing.plans import (
    check_missed_installments,
    create_plan,
    list_plans,
)
from claimdesk.claims.ledger import check_all_ledger_identities, claim_balance
from claimdesk.documents import LocalDocumentStore
from claimdesk.errors import PermissionDenied, ValidationFailed
from claimdesk.workqueue.appliers import apply_recorded_decision
from claimdesk.workqueue.resolve import record_decision
from models import Document, Patient, PaymentPlanInstallment, PaymentReceipt, ReviewTask
from tests.billing.helpers import make_user, pdf_text, posted_claim

DAY = date(2026, 11, 20)


def _pay(session: Session, patient_id: int, amount: str, key: str, **kw: object) -> object:
    return post_patient_payment(
        session,
        user=kw.pop("user", None) or make_user(session),  # type: ignore[arg-type]
        patient_id=patient_id,
        amount=Decimal(amount),
        method=str(kw.pop("method", "cash")),
        received_on=DAY,
        source_key=key,
        **kw,  # type: ignore[arg-type]
    )


def test_payment_applies_oldest_balance_first_keeps_the_rest_on_account_with_a_receipt(
    session: Session, tmp_path: Path
) -> None:
    old, _ = posted_claim(session, pay_date="20261002")  # owes 50.00 since Oct 2
    patient = session.get(Patient, old.patient_id)
    new, _ = posted_claim(session, patient=patient, pay_date="20261102")  # 50.00 since Nov 2
    store = LocalDocumentStore(tmp_path / "docs")

    result = post_patient_payment(
        session,
        user=make_user(session),
        patient_id=old.patient_id,
        amount=Decimal("120.00"),
        method="check",
        reference="1042",
        received_on=DAY,
        source_key="till-1",
        store=store,
    )

    assert dict(result.applied) == {old.id: Decimal("50.00"), new.id: Decimal("50.00")}  # type: ignore[attr-defined]
    assert result.on_account == Decimal("20.00")  # type: ignore[attr-defined]
    assert claim_balance(session, old.id or 0).patient_balance == 0
    assert claim_balance(session, new.id or 0).paid_by_patient == Decimal("50.00")
    assert check_all_ledger_identities(session) == []
    receipt = session.exec(select(PaymentReceipt)).one()
    document = session.get(Document, receipt.document_id)
    assert document is not None and document.kind == "receipt"
    text = pdf_text(store.get(document.storage_key, sha256=document.sha256), tmp_path / "r.pdf")
    assert "$120.00" in text and "check 1042" in text and "Kept on account: $20.00" in text
    # The till retries: the same payment, nothing posted twice.
    again = _pay(session, old.patient_id, "120.00", "till-1", method="check", reference="1042")
    assert again.payment_id == result.payment_id and not again.created  # type: ignore[attr-defined]
    assert check_all_ledger_identities(session) == []


def test_money_on_account_is_applied_when_a_balance_arises(session: Session) -> None:
    claim, _ = posted_claim(session)
    patient = session.get(Patient, claim.patient_id)
    _pay(session, claim.patient_id, "50.00", "k1")  # pays the first claim in full
    _pay(session, claim.patient_id, "30.00", "k2", on_account=True)
    second, _ = posted_claim(session, patient=patient)
    applied = apply_on_account(session, patient_id=claim.patient_id, as_of=DAY)
    assert applied == [(second.id, Decimal("30.00"))]
    assert claim_balance(session, second.id or 0).patient_balance == Decimal("20.00")


@pytest.mark.parametrize(
    ("method", "reference", "amount", "field"),
    [
        ("check", None, "10.00", "reference"),
        ("card", "4111111111111111", "10.00", "reference"),
        ("bitcoin", "x", "10.00", "method"),
        ("cash", None, "-5.00", "amount"),
    ],
)
def test_payment_refused_with_the_field_named_and_nothing_posted(
    session: Session, method: str, reference: str | None, amount: str, field: str
) -> None:
    claim, _ = posted_claim(session)
    with pytest.raises(ValidationFailed) as caught:
        _pay(session, claim.patient_id, amount, "bad", method=method, reference=reference)
    assert caught.value.field == field
    assert claim_balance(session, claim.id or 0).paid_by_patient == 0


def test_an_auditor_may_not_post_a_payment(session: Session) -> None:
    claim, _ = posted_claim(session)
    with pytest.raises(PermissionDenied):
        _pay(session, claim.patient_id, "10.00", "a", user=make_user(session, role="auditor"))


def test_missed_installment_becomes_a_review_task_and_a_reschedule_is_applied(
    session: Session,
) -> None:
    claim, _ = posted_claim(session)
    user = make_user(session)
    plan = create_plan(
        session,
        user=user,
        patient_id=claim.patient_id,
        total_amount=Decimal("50.00"),
        installment_amount=Decimal("20.00"),
        cadence_days=30,
        start_date=date(2026, 11, 1),
    )
    _pay(session, claim.patient_id, "20.00", "p1", plan_id=plan.id)  # the first installment
    assert check_missed_installments(session, as_of=date(2026, 12, 3)) == []  # within grace
    [task_id] = check_missed_installments(session, as_of=date(2026, 12, 10))
    assert check_missed_installments(session, as_of=date(2026, 12, 11)) == []  # once
    task = session.get(ReviewTask, task_id)
    assert task is not None and task.kind == "payment_plan" and task.claim_id is None
    assert task.context["amount"] == "20.00" and task.context["number"] == 2
    decision = record_decision(
        session=session,
        task_id=task_id,
        user=user,
        decision={"action": "reschedule", "new_due_date": "2026-12-15"},
    )
    outcome = apply_recorded_decision(
        session=session, task_id=task_id, decision_id=decision.id or 0
    )
    assert outcome == "installment_rescheduled"
    second = session.exec(
        select(PaymentPlanInstallment).where(
            PaymentPlanInstallment.plan_id == plan.id, PaymentPlanInstallment.number == 2
        )
    ).one()
    assert second.status == "due" and second.due_date == date(2026, 12, 15)
    [row] = list_plans(session, user=user, patient_id=claim.patient_id)
    assert row.paid == Decimal("20.00") and row.next_due_date == date(2026, 12, 15)


def test_balances_age_from_the_day_responsibility_arose_and_collections_follow(
    session: Session,
) -> None:
    claim, _ = posted_claim(session, pay_date="20260701")
    patient = session.get(Patient, claim.patient_id)
    posted_claim(session, patient=patient, pay_date="20261101")
    as_of = date(2026, 11, 20)
    [ageing] = age_patient_balances(session, as_of=as_of)
    assert ageing.buckets["120+"] == Decimal("50.00")  # 142 days
    assert ageing.buckets["0-30"] == Decimal("50.00")
    assert ageing.total == Decimal("100.00")
    created = create_collection_tasks(session, as_of=as_of, thresholds=(90, 120))
    assert len(created) == 1
    assert create_collection_tasks(session, as_of=as_of + timedelta(days=1)) == []
    task = session.get(ReviewTask, created[0])
    assert task is not None and task.kind == "collections" and task.claim_id == claim.id
    assert task.step == 2 and task.context["threshold_days"] == 120
    user = make_user(session, role="lead")
    decision = record_decision(
        session=session,
        task_id=created[0],
        user=user,
        decision={"action": "write_off", "reason": "agency returned it uncollectable"},
    )
    apply_recorded_decision(session=session, task_id=created[0], decision_id=decision.id or 0)
    balance = claim_balance(session, claim.id or 0)
    assert balance.patient_balance == 0 and balance.written_off == Decimal("50.00")
    assert check_all_ledger_identities(session) == []
