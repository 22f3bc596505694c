"""Refunds of credit balances and deposits reassociated with their 835s."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from claimdesk.billing.deposits import (
    _record_match,
    import_bank_csv,
    match_deposits,
    matched_totals,
)
from claimdesk.billing.payments import post_patient_payment
from claimdesk.billing.refunds import find_credit_balances, list_refunds
from claimdesk.claims.ledger import (
    check_all_ledger_identities,
    check_ledger_identity,
    claim_balance,
)
from claimdesk.errors import PermissionDenied, ReviewConflict, ValidationFailed
from claimdesk.remittance.posting import post_remittance
from claimdesk.reporting.patient_kpis import compute_patient_kpis
from claimdesk.workqueue.appliers import apply_recorded_decision
from claimdesk.workqueue.resolve import record_decision
from models import Deposit, DepositMatch, Refund, Remittance, ReviewTask
from tests.billing.helpers import make_user, posted_claim
from tests.denials.builders_835 import Clp, Svc, remit
from tests.factories import make_payer

TODAY = date(2026, 11, 20)


def test_a_patient_overpayment_becomes_a_refund_task_and_posting_it_keeps_the_ledger(
    session: Session,
) -> None:
    claim, _ = posted_claim(session)  # the patient owes 50.00
    user = make_user(session, role="lead")
    post_patient_payment(
        session, user=user, patient_id=claim.patient_id, amount=Decimal("65.00"), method="cash",
        received_on=TODAY, source_key="x1", allocations={claim.id or 0: Decimal("65.00")},
    )  # fmt: skip
    [refund_id] = find_credit_balances(session, as_of=TODAY)
    assert find_credit_balances(session, as_of=TODAY) == []  # one pending refund per encounter
    refund = session.get(Refund, refund_id)
    assert refund is not None
    assert (refund.payee, refund.amount, refund.deadline) == ("patient", Decimal("15.00"), None)
    task = session.get(ReviewTask, refund.review_task_id)
    assert task is not None and task.kind == "refund" and task.context["amount"] == "15.00"
    decision = record_decision(
        session=session,
        task_id=task.id or 0,
        user=user,
        decision={"action": "approve", "method": "check", "reference": "5001"},
    )
    assert (
        apply_recorded_decision(session=session, task_id=task.id or 0, decision_id=decision.id or 0)
        == "refund_posted"
    )
    balance = claim_balance(session, claim.id or 0)
    assert balance.open_balance == 0 and balance.paid_by_patient == Decimal("50.00")
    assert check_all_ledger_identities(session) == []
    assert list_refunds(session, user=user) == []


def test_a_medicare_overpayment_carries_the_60_day_deadline_from_identification(
    session: Session,
) -> None:
    medicare = make_payer(session, kind="medicare", claim_filing_indicator="MB")
    claim, _ = posted_claim(
        session, payer=medicare, charge="100.00", paid="100.00", contractual="0", pr=()
    )
    # The payer pays the same claim again under another trace: a credit of 100.00.
    again = remit(
        [
            Clp(
                claim.patient_control_number, "1", "100.00", "100.00", patient="0",
                services=(Svc("99213", "100.00", "100.00"),), payer_claim="PCDUP",
            )
        ],
        trace="EFT-DUP",
    )  # fmt: skip
    post_remittance(
        session, document_bytes_or_parsed=again, payer_id=medicare.id or 0, document_id=None
    )
    [refund_id] = find_credit_balances(session, as_of=TODAY)
    refund = session.get(Refund, refund_id)
    assert refund is not None
    assert refund.payee == "payer" and refund.payer_id == medicare.id
    assert refund.amount == Decimal("100.00")
    assert refund.deadline == TODAY + timedelta(days=60)
    task = session.get(ReviewTask, refund.review_task_id)
    assert task is not None and task.deadline_at is not None
    assert task.deadline_at.date() == TODAY + timedelta(days=60)
    kpis = compute_patient_kpis(session, as_of=TODAY)
    assert (kpis.refunds_pending_count, kpis.refunds_pending_amount) == (1, Decimal("100.00"))
    with pytest.raises(PermissionDenied, match="resolved by lead"):  # money out: a lead's call
        record_decision(
            session=session, task_id=task.id or 0, user=make_user(session),
            decision={"action": "approve", "method": "check", "reference": "7001"},
        )  # fmt: skip
    user = make_user(session, role="lead")
    decision = record_decision(
        session=session, task_id=task.id or 0, user=user,
        decision={"action": "approve", "method": "check", "reference": "7001"},
    )  # fmt: skip
    apply_recorded_decision(session=session, task_id=task.id or 0, decision_id=decision.id or 0)
    balance = claim_balance(session, claim.id or 0)
    # Refunded as a signed reversal: payments, charge and balance agree again, and the
    # ledger still agrees with the 835s once the money sent back is counted.
    assert balance.open_balance == 0 and balance.identity_holds()
    assert balance.paid_by_payers == Decimal("100.00")
    assert check_ledger_identity(session, claim.id or 0)


CSV = (
    "date,amount,trace_number,payer_name,reference\n"
    "2026-11-03,{a},{t},ACME HEALTH,BANK1\n"
    "2026-11-04,99.00,NOSUCHTRACE,SOMEONE,BANK2\n"
)


def test_deposits_match_their_835_by_trace_and_amount_once_and_the_rest_go_to_review(
    session: Session,
) -> None:
    user = make_user(session)
    matched_claim, _ = posted_claim(session, trace="EFT-MATCH")
    posted_claim(session, trace="EFT-DIFF")
    posted_claim(session, trace="EFT-NOBANK")
    data = (
        CSV.format(a="100.00", t="EFT-MATCH") + "2026-11-03,90.00,EFT-DIFF,ACME HEALTH,BANK3\n"
    ).encode()
    first = import_bank_csv(session, user=user, data=data, source_file="nov.csv")
    assert len(first.created_ids) == 3
    again = import_bank_csv(session, user=user, data=data, source_file="nov-again.csv")
    assert again.created_ids == () and again.skipped_rows == (2, 3, 4)

    result = match_deposits(session, as_of=TODAY)

    exact = session.exec(select(Remittance).where(Remittance.trace_number == "EFT-MATCH")).one()
    assert [r for _, r in result.matched] == [exact.id]
    kinds = sorted(
        (t.kind, t.context["issue"])
        for t in session.exec(select(ReviewTask).where(ReviewTask.id.in_(result.task_ids)))  # type: ignore[union-attr]
    )
    assert kinds == [
        ("deposit", "amount_difference"),
        ("deposit", "no_835"),
        ("deposit_missing", "no_deposit"),
    ]
    assert match_deposits(session, as_of=TODAY).matched == ()  # nothing matched twice
    deposits, remits = matched_totals(session)
    assert deposits == remits == Decimal("100.00")
    # The database refuses a second match of the same deposit, whoever tries.
    deposit = session.exec(select(Deposit).where(Deposit.trace_number == "EFT-MATCH")).one()
    other = session.exec(select(Remittance).where(Remittance.trace_number == "EFT-NOBANK")).one()
    with pytest.raises(ReviewConflict):
        _record_match(session, deposit, other, actor="test")
    assert len(session.exec(select(DepositMatch)).all()) == 1
    kpis = compute_patient_kpis(session, as_of=TODAY)
    assert kpis.deposits.matched_count == 1 and kpis.deposits.unmatched_deposits_count == 2
    assert kpis.deposits.mismatched_count == 1 and kpis.deposits.unmatched_835_count == 2
    del matched_claim


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("date,amount,trace_number\n2026-11-03,12.5.0,T1\n", "row 2, column 'amount'"),
        (
            "date,amount,trace_number\n2026-11-03,10.00,T1\n03/11/2026,1.00,T2\n",
            "row 3, column 'date'",
        ),
        ("date,amount,trace\n2026-11-03,10.00,T1\n", "row 1, column 'trace'"),
        ("date,amount,trace_number\n2026-11-03,10.001,T1\n", "row 2, column 'amount'"),
        ("date,amount,trace_number\n2026-11-03,10.00\n", "row 2, column 'row'"),
    ],
)
def test_a_malformed_bank_file_is_refused_naming_row_and_column_and_imports_nothing(
    session: Session, text: str, where: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        import_bank_csv(session, user=make_user(session), data=text.encode(), source_file="b.csv")
    assert where in str(caught.value) and "nothing was imported" in str(caught.value)
    assert session.exec(select(Deposit)).all() == []
