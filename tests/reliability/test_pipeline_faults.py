"""The Workflows II pipeline (service level, real simulator process) with the payer misbehaving.

tests/workflows/test_pipeline_services.py's 30 demo claims go through submission,
acknowledgements, status polling, 835 posting and denials worked to their end while
the simulator answers 10% of CORE requests with a 5xx, lets 5% time out, sends 2%
malformed answers (half a broken envelope, half broken X12) and offers 835s again
after they were picked up. Then the faults stop and a clean pass runs, as the next
scheduled runs would. Held, each asserted: every claim ends in a known state (after
the faulty rounds: settled or where the next pass retries it; after the clean pass:
settled), none submitted twice (each claim version in one interchange at the payer),
none posted twice (each 835 trace, each claim payment and each ledger source key
once; every ledger identity holds), none lost (every claim accounted for).

The faults injected are counted by replaying the simulator's seeded draws
(``random.Random(f"{seed}:fault:{n}")`` for each of its ``n`` CORE requests, kept in
its state file) and from its ``/admin/files`` (835s offered more than once).
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from claimdesk.claims.ledger import check_all_ledger_identities
from claimdesk.claims.moves import set_claim_status
from claimdesk.claims.status import ClaimStatus
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.demo.sim_config import sim_config_from_database
from claimdesk.documents import make_document_store
from claimdesk.migrate import upgrade_database
from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from claimdesk.remittance.retrieval import retrieve_remittances
from claimdesk.status_polling.service import PENDING_REVIEW_DAYS
from models import (
    Appeal,
    Claim,
    ClaimPayment,
    Coverage,
    LedgerEntry,
    Payer,
    Remittance,
    ReviewTask,
    StatusCheck,
    User,
)
from tests.workflows.test_pipeline_services import SETTLED, World

pytestmark = pytest.mark.slow

SEED = 11
FAULTS: dict[str, Any] = {
    "server_error": 0.10,
    "timeout": 0.05,
    "timeout_seconds": 1.0,  # the client gives up at 0.6 s: a timeout costs under a second
    "malformed_envelope": 0.01,
    "malformed_x12": 0.01,
    "duplicate_835": 0.3,
}
# The payers' connectivity for this test: short timeouts and backoff so faults cost little.
CONNECTIVITY = {
    "batch_timeout_s": 0.6,
    "backoff_base_s": 0.02,
    "backoff_cap_s": 0.1,
    "cooldown_s": 0.5,
}
# Where the next scheduled pass picks a claim up again (or people are working it).
RETRYABLE = {"ready", "queued", "sent", "accepted", "pending", "denied", "rejected", "scrub_hold"}
FAULTY_ROUNDS = 4
CLEAN_ROUNDS = 4


class FaultWorld(World):
    state: Path
    unsettled: set[int] | None = None  # claims the faulty run left open, for the next test

    def rounds(self, count: int, worked: dict[int, str]) -> dict[int, str]:
        """The pipeline's passes (status, 835s, denials, submission), ``count`` times or settled."""
        statuses: dict[int, str] = {}
        for _round in range(count):
            self.advance(3)
            for denial_id in self.poll():
                worked[denial_id] = self.walk(denial_id)
            posted = retrieve_remittances(self.engine, self.settings)
            for task_id in posted.review_task_ids:
                self.work(task_id)
            for denial_id in posted.denial_ids:
                worked[denial_id] = self.walk(denial_id)
            self.submit()
            with Session(self.engine) as session:
                statuses = {c.id or 0: c.status for c in session.exec(select(Claim)).all()}
                pending = session.exec(
                    select(Appeal).where(Appeal.outcome == "pending", col(Appeal.channel) != "mail")
                ).all()
            if set(statuses.values()) <= SETTLED and not pending:
                break
        return statuses

    def set_faults(self, faults: dict[str, Any]) -> None:
        httpx.put(f"{self.sim}/admin/faults", json=faults, timeout=10).raise_for_status()

    def core_requests(self) -> int:
        """How many CORE requests the simulator drew faults for (its persisted counter)."""
        with sqlite3.connect(f"file:{self.state}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'seq:rng:fault'").fetchone()
        return int(row[0]) if row else 0

    def claims_of_835s_not_received(self) -> set[int]:
        """Claims the payer paid in an 835 whose trace claimdesk never posted."""
        with sqlite3.connect(f"file:{self.state}?mode=ro", uri=True) as conn:
            rows = conn.execute(
                "SELECT claim_ref, check_number FROM claims WHERE check_number IS NOT NULL"
            ).fetchall()
        with Session(self.engine) as session:
            traces = set(
                session.exec(
                    select(Remittance.trace_number).where(Remittance.status == "posted")
                ).all()
            )
        return {int(ref.rsplit("-v", 1)[0]) for ref, check in rows if check not in traces}


def faults_drawn(first: int, last: int) -> Counter[str]:
    """The simulator's fault draws for requests ``first..last`` under ``FAULTS`` (its order)."""
    drawn: Counter[str] = Counter()
    for n in range(first, last + 1):
        rng = random.Random(f"{SEED}:fault:{n}")
        draws = {
            kind: rng.random()
            for kind in ("hang", "timeout", "server_error", "malformed_envelope", "slow",
                         "malformed_x12", "truncated_x12", "duplicate_835")
        }  # fmt: skip
        if draws["timeout"] < FAULTS["timeout"]:
            drawn["timeout"] += 1
        if draws["server_error"] < FAULTS["server_error"]:
            drawn["5xx"] += 1  # answered instead of the request being handled
        elif draws["malformed_envelope"] < FAULTS["malformed_envelope"]:
            drawn["malformed envelope"] += 1
        elif draws["malformed_x12"] < FAULTS["malformed_x12"]:
            drawn["malformed X12 (when the answer carries X12)"] += 1
    return drawn


@pytest.fixture(scope="module")
def world(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultWorld]:
    tmp = tmp_path_factory.mktemp("pipeline-faults")
    base = databases.settings("sqlite", tmp)
    engine = make_engine(base)
    upgrade_database(engine)
    start = datetime.now(UTC).date()
    with session_scope(engine) as session:
        generate_demo_practice(session, claims=30, seed=42, today=start, patients=30)
        for name, role in (("sam", "specialist"), ("lee", "lead")):
            session.add(User(username=name, role=role, password_hash="unused-in-this-test"))
        for coverage in session.exec(select(Coverage)).all():
            coverage.effective_to = None
            session.add(coverage)
        for claim in session.exec(select(Claim)).all():
            set_claim_status(session=session, claim=claim, status="ready", actor="test")
        for payer in session.exec(select(Payer)).all():
            payer.timeout_s = 0.6
            payer.connectivity = {**(payer.connectivity or {}), **CONNECTIVITY}
            session.add(payer)
        config = sim_config_from_database(session, clock_start=start)
    config["faults"] = FAULTS
    url, process = start_payer_sim(tmp, seed=SEED, config=config)
    settings = base.model_copy(update={"payer_sim_url": f"{url}/core", "clock_source": "payer_sim"})
    fault_world = FaultWorld(engine, settings, make_document_store(settings), url)
    fault_world.state = tmp / "payer-sim.db"
    try:
        yield fault_world
    finally:
        stop_payer_sim(process)
        engine.dispose()


def test_faulty_payer_nothing_twice_nothing_lost(world: FaultWorld) -> None:
    with Session(world.engine) as session:
        claim_ids = set(session.exec(select(Claim.id)).all())
    worked: dict[int, str] = {}

    world.submit()
    started = time.monotonic()
    after_faults = world.rounds(FAULTY_ROUNDS, worked)
    faulty_s = time.monotonic() - started
    requests = world.core_requests()
    world.set_faults({})
    after_clean = world.rounds(CLEAN_ROUNDS, worked)
    unsettled = {c for c, s in after_clean.items() if s not in SETTLED}
    if unsettled:  # a month on: what the status polls do with what is still open
        world.advance(PENDING_REVIEW_DAYS + 1)
        world.poll()

    # Known state: settled or waiting for the next pass; after the clean pass, settled.
    assert set(after_faults.values()) <= SETTLED | RETRYABLE, after_faults
    assert set(after_faults.values()) <= {s.value for s in ClaimStatus}
    # After the clean pass each claim is settled, or the 835 that paid it never reached
    # claimdesk intact (a pickup timed out after the payer had handed the file out; the
    # mailbox does not offer it again): still accepted, the payer's 277 saying finalized.
    lost = world.claims_of_835s_not_received()
    assert {after_clean[c] for c in unsettled} <= {"accepted", "pending"}, after_clean
    assert unsettled <= lost, (unsettled, lost)
    with Session(world.engine) as session:
        for claim_id in unsettled:
            last = session.exec(
                select(StatusCheck.category_code)
                .where(StatusCheck.claim_id == claim_id)
                .order_by(col(StatusCheck.id).desc())
            ).first()
            assert last is not None and last.startswith("F"), (claim_id, last)
    world.unsettled = unsettled
    # None lost: every claim of the practice is still there (no new ones appear from nowhere
    # beyond the secondaries and corrections the pipeline makes of them).
    assert claim_ids <= set(after_clean)

    # None submitted twice: each claim version reached the payer in one interchange.
    received = httpx.get(f"{world.sim}/admin/claims", timeout=10).json()
    repeats = [e["claim_ref"] for e in received if len(e["interchanges"]) != 1]
    assert received and not repeats, repeats
    submitted = {int(e["claim_ref"].rsplit("-v", 1)[0]) for e in received}
    assert claim_ids <= submitted

    # None posted twice: each 835 trace, each claim payment and each ledger source key once.
    with Session(world.engine) as session:
        remittances = session.exec(
            select(Remittance.payer_id, Remittance.trace_number).where(
                Remittance.status == "posted"
            )
        ).all()
        payments = [
            (r.payer_id, r.trace_number, p.patient_control_number, p.status_code,
             p.payer_claim_number)
            for p, r in session.exec(
                select(ClaimPayment, Remittance).join(
                    Remittance, col(Remittance.id) == col(ClaimPayment.remittance_id)
                )
            ).all()
        ]  # fmt: skip
        keys = session.exec(select(LedgerEntry.source_key)).all()
        assert check_all_ledger_identities(session) == []
    assert remittances and len(set(remittances)) == len(remittances)
    assert payments and len(set(payments)) == len(payments)
    assert len(set(keys)) == len(keys)

    files = httpx.get(f"{world.sim}/admin/files", timeout=10).json()
    offered_again = sum(1 for f in files if f["kind"] == "835" and f["offered"] > 1)
    drawn = faults_drawn(1, requests)
    assert drawn["5xx"] and drawn["timeout"] and offered_again  # the faults did happen
    settled = sum(1 for s in after_faults.values() if s in SETTLED)
    print(
        f"\npipeline faults: {requests} CORE requests under faults; drawn {dict(drawn)}; "
        f"835s offered again: {offered_again}; claims: {len(after_clean)} "
        f"({len(claim_ids)} demo + secondaries/corrections), after the faulty rounds "
        f"{settled} settled and {len(after_faults) - settled} left to retry "
        f"{dict(Counter(s for s in after_faults.values() if s not in SETTLED))}; after the clean "
        f"pass {dict(Counter(after_clean.values()))}; {len(received)} claim versions each in one "
        f"interchange; {len(remittances)} 835s, {len(payments)} claim payments and "
        f"{len(keys)} ledger entries each once; ledger identities hold; 835s not received "
        f"intact: their {len(lost)} claims, {len(unsettled)} left open, the payer's 277 "
        f"says finalized; "
        f"faulty rounds {faulty_s:.1f} s"
    )


def test_a_claim_whose_835_never_arrived_goes_to_a_person(world: FaultWorld) -> None:
    """A month after the payer said finalized with no 835 posted, someone asks for it again."""
    if world.unsettled is None:
        pytest.skip("the faulty run did not finish")
    if not world.unsettled:
        pytest.xfail("no 835 was lost in this run")  # nothing to check; the seed decides
    with Session(world.engine) as session:
        asked = set(
            session.exec(
                select(ReviewTask.claim_id).where(
                    ReviewTask.kind == "status", col(ReviewTask.claim_id).in_(world.unsettled)
                )
            ).all()
        )
    assert asked == world.unsettled
