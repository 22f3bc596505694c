"""Workflows II through the service layer, against the real simulator process.

The same steps the flows take, called directly (no Prefect): 30 demo claims are
submitted, their status polled, their 835s posted; each denial is walked to its
end the way the ``appeal`` run walks it (``next_denial_step``), decisions going
through ``resolve_review``; appeals with records are overturned by the payer and
paid in a later 835. The Prefect-driven variant is tests/e2e/test_workflows_ii_e2e.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.claims.ledger import check_all_ledger_identities
from claimdesk.claims.moves import set_claim_status
from claimdesk.clock import now, today
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.demo.sim_config import sim_config_from_database
from claimdesk.denials.workflow import (
    denials_without_a_review,
    next_denial_step,
    record_mail_appeal_outcome,
    send_appeal,
    track_appeal_outcomes,
)
from claimdesk.documents import DocumentStore, make_document_store
from claimdesk.errors import ValidationFailed
from claimdesk.migrate import upgrade_database
from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from claimdesk.remittance.retrieval import (
    RemittanceRun,
    post_file,
    retrieve_remittances,
    sender_payer_id,
)
from claimdesk.settings import Settings
from claimdesk.status_polling.service import claims_due, poll_claims
from claimdesk.submission.acknowledgements import retrieve_acknowledgements
from claimdesk.submission.service import (
    build_batches,
    mark_sent_claims,
    scrub_ready_claims,
    send_built_submission,
    unsent_submissions,
)
from claimdesk.workqueue.appliers import apply_recorded_decision
from claimdesk.workqueue.resolve import resolve_review
from models import (
    Appeal,
    Claim,
    ClaimPayment,
    Coverage,
    Denial,
    Document,
    LedgerEntry,
    Payer,
    ReviewTask,
    StatusCheck,
    User,
)
from tests.workflows.decide import decide

pytestmark = pytest.mark.slow
# Where a claim may rest once the payer has answered and people have worked it.
SETTLED = {
    "paid",
    "partially_paid",
    "written_off",
    "billed_patient",
    "billed_secondary",
    "appealed",
}
# Where a walked denial ends (``next_denial_step``'s outcome).
DENIAL_ENDS = {"appeal_sent", "overturned", "corrected", "closed", "write_off_pending"}


@dataclass
class World:
    engine: Engine
    settings: Settings
    store: DocumentStore
    sim: str

    def advance(self, days: int) -> None:
        httpx.post(f"{self.sim}/admin/clock/advance", json={"days": days}, timeout=10)

    def work(self, task_id: int) -> str:
        """Decide as a specialist (a lead for approvals), then apply it as the run would."""
        with Session(self.engine) as session:
            task = session.get(ReviewTask, task_id)
            assert task is not None
        user = "lee" if task.kind == "write_off_approval" else "sam"
        outcome = resolve_review(
            self.engine,
            task_id=task_id,
            username=user,
            decision=decide(task, self.engine, self.store),
            resumer=lambda _run, _decision: None,
        )
        with session_scope(self.engine) as session:
            return apply_recorded_decision(
                session=session, task_id=task_id, decision_id=outcome.decision_id
            )

    def walk(self, denial_id: int) -> str:
        """What the ``appeal`` flow does, without the pauses."""
        for _ in range(20):
            with session_scope(self.engine) as session:
                step = next_denial_step(
                    session, denial_id, store=self.store, today=today(self.settings)
                )
            if step.kind == "done":
                return step.outcome
            if step.kind == "send":
                send_appeal(self.engine, self.settings, step.appeal_id or 0, self.store)
            else:
                self.work(step.task_id or 0)
        raise AssertionError(f"denial {denial_id} never settled")

    def submit(self) -> None:
        scrubbed = scrub_ready_claims(self.engine, today=today(self.settings))
        for task_id in scrubbed.review_task_ids:
            self.work(task_id)
        build_batches(self.engine, self.settings)
        with Session(self.engine) as session:
            waiting = unsent_submissions(session)
        for submission_id in waiting:
            send_built_submission(self.engine, self.settings, submission_id)
        mark_sent_claims(self.engine)
        retrieve_acknowledgements(self.engine, self.settings)

    def poll(self) -> list[int]:
        """Status of every claim due a check; the denials an upheld appeal reopened."""
        reopened = []
        with Session(self.engine) as session:
            payers = session.exec(select(Payer)).all()
        for payer in payers:
            with Session(self.engine) as session:
                due = claims_due(session, payer=payer, now=now(self.settings))
            run = poll_claims(
                self.engine,
                self.settings,
                payer.id or 0,
                due,
                now=now(self.settings),
                today=today(self.settings),
            )
            for task_id in run.review_task_ids:
                self.work(task_id)
            outcomes = track_appeal_outcomes(self.engine, self.settings, payer.id or 0)
            reopened += [denial for denial, _ in outcomes.reopened]
        return reopened


# 30 claims in `make test`; a practice's fuller month under `make soak`.
@pytest.fixture(scope="module", params=[30, pytest.param(200, marks=pytest.mark.soak)])
def world(request, databases, tmp_path_factory) -> Iterator[World]:  # type: ignore[no-untyped-def]
    claims = request.param
    tmp = tmp_path_factory.mktemp("workflows-ii")
    base = databases.settings("sqlite", tmp)
    engine = make_engine(base)
    upgrade_database(engine)
    start = datetime.now(UTC).date()
    with session_scope(engine) as session:
        generate_demo_practice(session, claims=claims, seed=42, today=start, patients=claims)
        for name, role in (("sam", "specialist"), ("lee", "lead")):
            session.add(User(username=name, role=role, password_hash="unused-in-this-test"))
        for coverage in session.exec(select(Coverage)).all():
            coverage.effective_to = None  # eligibility is Workflows I's business, not this test's
            session.add(coverage)
        for claim in session.exec(select(Claim)).all():
            set_claim_status(session=session, claim=claim, status="ready", actor="test")
        config = sim_config_from_database(session, clock_start=start)
    # Some 835s are handed out again (not dequeued): each is still processed once.
    config["faults"] = {"duplicate_835": 0.3}
    url, process = start_payer_sim(tmp, seed=3, config=config)
    settings = base.model_copy(update={"payer_sim_url": f"{url}/core", "clock_source": "payer_sim"})
    try:
        yield World(engine, settings, make_document_store(settings), url)
    finally:
        stop_payer_sim(process)
        engine.dispose()


def test_claims_are_followed_until_paid_written_off_billed_or_in_appeal(world: World) -> None:
    world.submit()
    with Session(world.engine) as session:
        sent = session.exec(select(Claim.id).where(Claim.status == "accepted")).all()
    with Session(world.engine) as session:
        total = len(session.exec(select(Claim.id)).all())
    assert len(sent) >= total * 0.8

    # Status polling: a 276 per accepted claim; the simulator has not adjudicated yet.
    world.poll()
    with Session(world.engine) as session:
        checks = session.exec(select(StatusCheck)).all()
    assert {c.claim_id for c in checks} >= set(sent)
    assert {(c.category_code, c.status_code) for c in checks} == {("A2", "20")}
    world.poll()  # within each payer's interval: nothing is asked twice
    with Session(world.engine) as session:
        assert len(session.exec(select(StatusCheck)).all()) == len(checks)

    worked: dict[int, str] = {}
    for _round in range(8):
        world.advance(3)
        for denial_id in world.poll():
            worked[denial_id] = world.walk(denial_id)
        posted = retrieve_remittances(world.engine, world.settings)
        for task_id in posted.review_task_ids:
            world.work(task_id)
        for denial_id in posted.denial_ids:
            worked[denial_id] = world.walk(denial_id)
        world.submit()  # secondaries and corrected claims go out like any other
        with Session(world.engine) as session:
            statuses = {c.id: c.status for c in session.exec(select(Claim)).all()}
            pending_appeals = session.exec(
                select(Appeal).where(Appeal.outcome == "pending", col(Appeal.channel) != "mail")
            ).all()
        if set(statuses.values()) <= SETTLED and not pending_appeals:
            break

    assert set(statuses.values()) <= SETTLED, statuses
    with Session(world.engine) as session:
        denials = session.exec(select(Denial)).all()
        appeals = session.exec(select(Appeal)).all()
        assert check_all_ledger_identities(session) == []
    assert denials, "the demo practice's claims hit no denial at all"
    reasons = {d.reason_code for d in denials}
    assert reasons & {"50", "197"}, reasons  # appealable with records
    assert {d.status for d in denials} <= {
        "appealed",
        "written_off",
        "billed_patient",
        "billed_secondary",
        "closed",
        "corrected",
    }
    overturned = [a for a in appeals if a.outcome == "overturned"]
    assert overturned, [(a.channel, a.outcome) for a in appeals]
    for appeal in overturned:
        # The payer reversed its denial and adjudicated again in a later 835 (CLP02 22, then
        # the new processing; a deductible may leave it unpaid, a secondary may owe the rest).
        assert statuses[appeal.claim_id] in ("paid", "partially_paid", "billed_secondary")
        assert appeal.payer_appeal_id and appeal.letter_document_id
        with Session(world.engine) as session:
            codes = session.exec(
                select(ClaimPayment.status_code)
                .where(ClaimPayment.claim_id == appeal.claim_id)
                .order_by(col(ClaimPayment.id))
            ).all()
        assert "22" in codes and codes[-1] != "22", codes
    assert all(outcome in SETTLED | DENIAL_ENDS for outcome in worked.values()), worked


def test_an_835_delivered_again_posts_nothing_twice(world: World) -> None:
    """Every 835 the pipeline posted, offered again as a payer re-delivering it would."""
    with Session(world.engine) as session:
        files = session.exec(select(Document).where(Document.kind == "x12_835")).all()
        edi_ids = {p.payer_id.upper(): p.id or 0 for p in session.exec(select(Payer)).all()}
        entries = len(session.exec(select(LedgerEntry)).all())
    assert files
    run = RemittanceRun()
    for document in files:
        data = world.store.get(document.storage_key, sha256=document.sha256)
        payer_id = sender_payer_id(data, edi_ids)
        assert payer_id is not None
        post_file(world.engine, data, payer_id, document.id, run)
    assert run.posted == 0 and run.exceptions == 0 and run.duplicates >= len(files)
    with Session(world.engine) as session:
        assert len(session.exec(select(LedgerEntry)).all()) == entries
        assert check_all_ledger_identities(session) == []


def test_a_mailed_appeal_upheld_is_worked_again_at_the_next_level(world: World) -> None:
    with Session(world.engine) as session:
        appeal = session.exec(
            select(Appeal).where(Appeal.outcome == "pending", Appeal.channel == "mail")
        ).first()
    assert appeal is not None and appeal.id is not None, "no appeal went by mail"
    with session_scope(world.engine) as session:
        record_mail_appeal_outcome(session, appeal_id=appeal.id, outcome="upheld", username="sam")
    with Session(world.engine) as session:
        assert (appeal.denial_id, 1) in denials_without_a_review(session)

    outcome = world.walk(appeal.denial_id)  # the sweep's new run does exactly this

    with Session(world.engine) as session:
        levels = session.exec(
            select(Appeal.level, Appeal.outcome)
            .where(Appeal.denial_id == appeal.denial_id)
            .order_by(col(Appeal.level))
        ).all()
        assert denials_without_a_review(session) == []
        assert check_all_ledger_identities(session) == []
    assert outcome == "appeal_sent" and levels == [(1, "upheld"), (2, "pending")]
    with pytest.raises(ValidationFailed), session_scope(world.engine) as session:
        record_mail_appeal_outcome(session, appeal_id=appeal.id, outcome="upheld", username="sam")
