"""Done-when: a month of the demo practice, against the real payer simulator process.

837s go out to the simulator, its 835s come back and are posted; statements are
produced, patients pay, the bank's deposits (built from the 835s' BPR02/TRN02, one
deliberately wrong) are reconciled, and a patient's overpayment is refunded. The
ledger identity holds for every claim and matched deposits equal their 835s.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.billing.deposits import import_bank_csv, match_deposits, matched_totals
from claimdesk.billing.payments import post_patient_payment
from claimdesk.billing.refunds import find_credit_balances
from claimdesk.billing.statements import run_statement_cycle, statement_pdf
from claimdesk.claims.ledger import check_all_ledger_identities, claim_balance
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.demo.sim_config import sim_config_from_database
from claimdesk.documents import make_document_store
from claimdesk.gateway.factory import client_for
from claimdesk.migrate import upgrade_database
from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from claimdesk.remittance.posting import post_remittance
from claimdesk.settings import Settings
from claimdesk.submission.service import build_batches, send_built_submission
from claimdesk.workqueue.appliers import apply_recorded_decision
from claimdesk.workqueue.resolve import record_decision
from models import Claim, DepositMatch, Payer, Refund, Remittance, ReviewTask, User
from tests.billing.helpers import pdf_text

START = date(2026, 11, 2)


@pytest.fixture
def practice(fresh_settings: Settings, tmp_path: Path) -> Iterator[tuple[Engine, Settings]]:
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        generate_demo_practice(session, claims=60, seed=8, today=START)
        config = sim_config_from_database(session, clock_start=START, seed=8)
        config["adjudication_delay_days"] = 2
        for claim in session.exec(select(Claim)).all():
            claim.status = "queued"  # eligibility and scrubbing are other tests' business
            session.add(claim)
        session.add(User(username="sam", role="specialist", password_hash="x"))
        session.add(User(username="lee", role="lead", password_hash="x"))
    url, process = start_payer_sim(tmp_path, seed=8, config=config)
    settings = fresh_settings.model_copy(update={"payer_sim_url": f"{url}/core"})
    try:
        yield engine, settings
    finally:
        stop_payer_sim(process)
        engine.dispose()


def _send_and_post_835s(engine: Engine, settings: Settings) -> list[int]:
    for submission_id in build_batches(engine, settings):
        assert send_built_submission(engine, settings, submission_id)
    httpx.post(f"{settings.payer_sim_base_url}/admin/clock/advance", json={"days": 3})
    remittance_ids: list[int] = []
    with Session(engine) as session:
        payers = list(session.exec(select(Payer)).all())
    for payer in payers:
        client = client_for(payer, settings=settings, engine=engine)
        try:
            files = client.retrieve("835")
        finally:
            client.close()
        for remit_file in files:
            with session_scope(engine) as session:
                report = post_remittance(
                    session,
                    document_bytes_or_parsed=remit_file.payload,
                    payer_id=payer.id or 0,
                    document_id=remit_file.document_id,
                )
                remittance_ids.extend(report.remittance_ids)
    return remittance_ids


def _user(session: Session, name: str) -> User:
    return session.exec(select(User).where(User.username == name)).one()


def test_a_month_of_the_demo_practice_balances_to_the_cent(
    practice: tuple[Engine, Settings], tmp_path: Path
) -> None:
    engine, settings = practice
    store = make_document_store(settings)
    remittance_ids = _send_and_post_835s(engine, settings)
    assert remittance_ids, "the simulator paid nothing"

    # Statements for everyone the 835s made owe something.
    day = START + timedelta(days=5)
    with session_scope(engine) as session:
        statements = run_statement_cycle(session, as_of=day, store=store)
        assert statements, "no patient responsibility in a month of 835s"
        first = statements[0]
        text = pdf_text(
            statement_pdf(session, store=store, statement_id=first.statement_id),
            tmp_path / "month" / "statement.pdf",
        )
        assert f"AMOUNT DUE: ${first.amount_due:,.2f}" in text

    # Patients pay: most their amount due, one pays 20.00 too much on a claim.
    with session_scope(engine) as session:
        sam = _user(session, "sam")
        for n, statement in enumerate(statements[:4]):
            extra = Decimal("20.00") if n == 0 else Decimal("0.00")
            allocations = (
                {
                    statement.claim_ids[0]: claim_balance(
                        session, statement.claim_ids[0]
                    ).patient_balance
                    + extra
                }
                if n == 0
                else None
            )
            post_patient_payment(
                session, user=sam, patient_id=statement.patient_id,
                amount=statement.amount_due + extra if n else allocations[statement.claim_ids[0]],  # type: ignore[index]
                method="check" if n % 2 else "cash", reference=f"10{n}" if n % 2 else None,
                received_on=day + timedelta(days=3), source_key=f"month-{n}", store=store,
                allocations=allocations,
            )  # fmt: skip
        overpaid_claim = statements[0].claim_ids[0]
        assert claim_balance(session, overpaid_claim).patient_balance == Decimal("-20.00")

    # The bank file: one line per 835 that moved money, one amount deliberately off.
    with Session(engine) as session:
        remits = session.exec(
            select(Remittance)
            .where(col(Remittance.id).in_(remittance_ids), col(Remittance.amount) > 0)
            .order_by(col(Remittance.id))
        ).all()
        lines = ["date,amount,trace_number,payer_name,reference"]
        for n, r in enumerate(remits):
            amount = r.amount - Decimal("1.00") if n == 0 else r.amount
            bank_day = (r.payment_date or START) + timedelta(days=1)
            lines.append(f"{bank_day},{amount},{r.trace_number},SIM,B{n}")
        wrong = remits[0]
    with session_scope(engine) as session:
        imported = import_bank_csv(
            session,
            user=_user(session, "sam"),
            data="\n".join(lines).encode(),
            source_file="bank.csv",
        )
        assert len(imported.created_ids) == len(remits)
        result = match_deposits(session, as_of=day + timedelta(days=10))
        assert len(result.matched) == len(remits) - 1
        assert wrong.id not in {r for _, r in result.matched}
        [task] = session.exec(
            select(ReviewTask).where(col(ReviewTask.id).in_(result.task_ids))
        ).all()
        assert task.kind == "deposit" and task.context["issue"] == "amount_difference"
        assert task.context["difference"] == "-1.00"
        deposits_total, remits_total = matched_totals(session)
        assert deposits_total == remits_total
        for match in session.exec(select(DepositMatch)).all():
            assert match.difference == 0

    # The overpayment becomes a refund, approved and posted.
    with session_scope(engine) as session:
        refund_ids = find_credit_balances(session, as_of=day + timedelta(days=10))
        refunds = [session.get(Refund, r) for r in refund_ids]
        [refund] = [r for r in refunds if r is not None and r.claim_id == overpaid_claim]
        assert (refund.payee, refund.amount) == ("patient", Decimal("20.00"))
        decision = record_decision(
            session=session, task_id=refund.review_task_id or 0, user=_user(session, "lee"),
            decision={"action": "approve", "method": "check", "reference": "R1"},
        )  # fmt: skip
        apply_recorded_decision(
            session=session, task_id=refund.review_task_id or 0, decision_id=decision.id or 0
        )
        assert claim_balance(session, overpaid_claim).open_balance == 0

    # A month later, statements again only for those who still owe.
    with session_scope(engine) as session:
        later = run_statement_cycle(session, as_of=day + timedelta(days=30), store=store)
        paid_up = {s.patient_id for s in statements[1:4]}
        assert not paid_up & {s.patient_id for s in later}
        assert check_all_ledger_identities(session) == []
