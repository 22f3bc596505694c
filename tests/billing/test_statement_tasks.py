"""The ``statements`` deployment's tasks (tasks/statements.py), called directly, not by Prefect.

What the flow promises: missed installments, collections, credit balances and deposits
turned into review tasks (or matches), money left on account applied, and a statement
per patient owing; with only ids and counts in what the tasks return (Prefect stores
results), never a name, member id or birth date.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, func, select

from claimdesk.billing.deposits import import_bank_csv
from claimdesk.billing.payments import post_patient_payment
from claimdesk.billing.plans import create_plan
from claimdesk.claims.ledger import check_all_ledger_identities, claim_balance
from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings, get_settings
from models import (
    Coverage,
    Deposit,
    Document,
    Patient,
    PatientStatement,
    Refund,
    ReviewTask,
    User,
)
from tasks import _db
from tasks.statements import apply_money_on_account, follow_up_patients, run_statements
from tests.billing.helpers import posted_claim

AS_OF = date(2026, 11, 20)


def _yyyymmdd(days_ago: int) -> str:
    return f"{AS_OF - timedelta(days=days_ago):%Y%m%d}"


@pytest.fixture
def task_env(databases: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A migrated SQLite database the tasks find through ``CLAIMDESK_*`` (as a worker would)."""
    settings: Settings = databases.settings("sqlite", tmp_path)
    engine = make_engine(settings)
    upgrade_database(engine)
    engine.dispose()
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    _db.engine.cache_clear()
    yield settings
    _db.engine().dispose()
    _db.engine.cache_clear()
    get_settings.cache_clear()


def _seed(session: Session) -> dict[str, Any]:
    lead = User(username="lead5", role="lead", password_hash="x")
    session.add(lead)
    session.flush()
    # Owes 50.00 for 100 days (a collections follow-up) and pays toward a plan it missed.
    old, _ = posted_claim(session, pay_date=_yyyymmdd(100), trace="TT-OLD")
    create_plan(
        session, user=lead, patient_id=old.patient_id, total_amount=Decimal("50.00"),
        installment_amount=Decimal("25.00"), cadence_days=30, start_date=AS_OF - timedelta(days=20),
    )  # fmt: skip
    # Owes 50.00 and left 20.00 on account: applied by the task.
    kept, _ = posted_claim(session, pay_date=_yyyymmdd(10), trace="TT-KEPT")
    post_patient_payment(
        session, user=lead, patient_id=kept.patient_id, amount=Decimal("20.00"), method="cash",
        received_on=AS_OF, source_key="tasks-on-account", on_account=True,
    )  # fmt: skip
    # Paid 65.00 on a 50.00 balance: a 15.00 credit to refund.
    over, _ = posted_claim(session, pay_date=_yyyymmdd(10), trace="TT-OVER")
    post_patient_payment(
        session, user=lead, patient_id=over.patient_id, amount=Decimal("65.00"), method="cash",
        received_on=AS_OF, source_key="tasks-over", allocations={over.id or 0: Decimal("65.00")},
    )  # fmt: skip
    # The bank: the old claim's 835 paid in full, and a deposit no 835 explains.
    bank = (
        "date,amount,trace_number\n"
        f"{AS_OF - timedelta(days=99)},100.00,TT-OLD\n{AS_OF - timedelta(days=10)},42.00,NOSUCH\n"
    )
    import_bank_csv(session, user=lead, data=bank.encode(), source_file="bank.csv")
    patients = [session.get(Patient, c.patient_id) for c in (old, kept, over)]
    members = session.exec(select(Coverage.member_id)).all()
    return {
        "old": old.id,
        "kept": kept.id,
        "over": over.id,
        "phi": [p.last_name for p in patients if p]
        + [p.first_name for p in patients if p]
        + [f"{p.birth_date}" for p in patients if p]
        + list(members),
    }


def _ids_only(result: Any) -> None:
    """A task result is ints, or lists of ints, keyed by plain names."""
    values = result.values() if isinstance(result, dict) else [result]
    for value in values:
        items = value if isinstance(value, list) else [value]
        assert all(isinstance(i, int) for i in items), result


def test_statement_tasks_do_what_the_deployment_promises_with_ids_only(
    task_env: Settings,
) -> None:
    engine = make_engine(task_env)
    with session_scope(engine) as session:
        seeded = _seed(session)

    follow_up = follow_up_patients.fn(AS_OF, 5, [90, 120], 3)
    applied = apply_money_on_account.fn(AS_OF)
    statements = run_statements.fn(AS_OF, 30)

    with Session(engine) as session:

        def kinds(ids: list[int]) -> set[str]:
            return {t.kind for t in session.exec(select(ReviewTask).where(ReviewTask.id.in_(ids)))}  # type: ignore[union-attr]

        assert len(follow_up["missed_installment_task_ids"]) == 1  # due 20 days ago, unpaid
        assert kinds(follow_up["missed_installment_task_ids"]) == {"payment_plan"}
        assert kinds(follow_up["collection_task_ids"]) == {"collections"}
        [refund_id] = follow_up["refund_ids"]
        refund = session.get(Refund, refund_id)
        assert refund is not None
        assert (refund.claim_id, refund.payee, refund.amount) == (
            seeded["over"],
            "patient",
            Decimal("15.00"),
        )
        assert follow_up["deposits_matched"] == 1
        assert kinds(follow_up["deposit_task_ids"]) >= {"deposit", "deposit_missing"}
        assert session.exec(
            select(Deposit.status).where(Deposit.trace_number == "TT-OLD")
        ).one() == ("matched")
        # The 20.00 on account went to the balance it was kept for.
        assert applied == 1
        assert claim_balance(session, seeded["kept"]).patient_balance == Decimal("30.00")
        # One statement per patient owing (the overpaid one owes nothing), stored as a PDF.
        assert statements["statements"] == 2 == len(statements["statement_ids"])
        for statement_id in statements["statement_ids"]:
            statement = session.get(PatientStatement, statement_id)
            assert statement is not None and statement.document_id is not None
            document = session.get(Document, statement.document_id)
            assert document is not None and document.kind == "statement"
        assert check_all_ledger_identities(session) == []

    # What Prefect would store: ids and counts, no PHI.
    for result in (follow_up, applied, statements):
        _ids_only(result)
        text = json.dumps(result, default=str)
        for value in seeded["phi"]:
            assert value not in text, value

    # Run again (a retried flow run): nothing is created twice.
    again = follow_up_patients.fn(AS_OF, 5, [90, 120], 3)
    assert again["missed_installment_task_ids"] == again["refund_ids"] == []
    assert again["deposits_matched"] == 0
    assert run_statements.fn(AS_OF, 30) == {"statement_ids": [], "statements": 0}
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(PatientStatement)).one() == 2
    engine.dispose()
