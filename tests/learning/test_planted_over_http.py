"""The planted quirks, found after simulated weeks against the real simulator over HTTP.

The simulator process is configured with a modifier SIMBLU requires (97110 without GP:
CO-4), a pair it bundles (97530 beside 97140: CO-97) and a 6% SIMACM rate cut for 99214
from 2026-10-01. Each simulated week the office's claims are scrubbed, sent as 837s,
acknowledged, and their 835s picked up and posted, the service calls the flows make.
Then the learners, through the Suggestions page's service, find each quirk with its
figures, a lead approves the modifier rule, and the next bare 97110 is held by the scrub
instead of being sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.clock import today
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.demo.sim_config import sim_config_from_database
from claimdesk.learning.rates import file_new_learned_underpayments, rate_cut_flags
from claimdesk.learning.suggestions import decide_rule, find_suggestions, read_rules
from claimdesk.migrate import upgrade_database
from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from claimdesk.remittance.retrieval import retrieve_remittances
from claimdesk.settings import Settings
from claimdesk.submission.acknowledgements import retrieve_acknowledgements
from claimdesk.submission.service import (
    build_batches,
    mark_sent_claims,
    scrub_ready_claims,
    send_built_submission,
    unsent_submissions,
)
from models import (
    Claim,
    Coverage,
    FeeSchedule,
    Patient,
    Payer,
    Practice,
    Provider,
    ReviewTask,
    User,
)
from tests.factories import make_claim, make_coverage

pytestmark = pytest.mark.slow
START = date(2026, 9, 19)  # a Saturday: each week's visits are on its Thursday and Friday
WEEKS = 4  # two weeks of September service, two of October
MIN_LINES = 4  # the learners' support (CLAIMDESK_LEARNING_MIN_LINES): four weeks' lines
CHARGE = Decimal("150.00")
# What each kind of claim bills: (payer, [(code, modifiers)]).
KINDS: dict[str, tuple[str, list[tuple[str, list[str]]]]] = {
    "bare": ("SIMBLU", [("97110", [])]),
    "gp": ("SIMBLU", [("97110", ["GP"])]),
    "pair": ("SIMBLU", [("97140", ["GP"]), ("97530", ["GP"])]),
    "alone": ("SIMBLU", [("97530", ["GP"])]),
    "visit": ("SIMACM", [("99214", [])]),
}


@dataclass
class World:
    engine: Engine
    settings: Settings
    sim: str
    coverages: dict[str, int]

    def claim(self, kind: str, served: date) -> int:
        payer_code, lines = KINDS[kind]
        with session_scope(self.engine) as session:
            coverage = session.get_one(Coverage, self.coverages[kind])
            patient = session.get_one(Patient, coverage.patient_id)
            payer = session.get_one(Payer, coverage.payer_id)
            assert payer.payer_id == payer_code
            claim = make_claim(
                session,
                practice=session.get_one(Practice, patient.practice_id),
                provider=session.exec(select(Provider).where(Provider.role == "billing")).one(),
                patient=patient,
                coverage=coverage,
                payer=payer,
                service_from=served,
                service_to=served,
                diagnoses=["M5450"],
                lines=[
                    {"procedure_code": code, "modifiers": mods, "charge": CHARGE,
                     "diagnosis_pointers": [1], "service_date": served}
                    for code, mods in lines
                ],
            )  # fmt: skip
            set_claim_status(session=session, claim=claim, status="ready", actor="test")
            assert claim.id is not None
            return claim.id

    def send(self) -> list[int]:
        """Scrub, build, send and acknowledge, as the submission flow does; the held ids."""
        scrubbed = scrub_ready_claims(self.engine, today=today(self.settings))
        build_batches(self.engine, self.settings)
        with Session(self.engine) as session:
            waiting = unsent_submissions(session)
        for submission_id in waiting:
            send_built_submission(self.engine, self.settings, submission_id)
        mark_sent_claims(self.engine)
        retrieve_acknowledgements(self.engine, self.settings)
        return list(scrubbed.review_task_ids)

    def advance(self, days: int) -> None:
        httpx.post(f"{self.sim}/admin/clock/advance", json={"days": days}, timeout=10)


@pytest.fixture(scope="module")
def world(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("planted-http")
    base = databases.settings("sqlite", tmp)
    engine = make_engine(base)
    upgrade_database(engine)
    with session_scope(engine) as session:
        generate_demo_practice(session, claims=0, seed=42, today=START, patients=len(KINDS))
        session.add(User(username="lou", role="lead", password_hash="unused"))
        session.add(User(username="max", role="manager", password_hash="unused"))
        payers = {p.payer_id: p for p in session.exec(select(Payer)).all()}
        patients = session.exec(select(Patient).order_by(col(Patient.id))).all()
        # One coverage per patient (no secondary to bill) and no fee schedule loaded: the
        # rates learned from the 835s are the only judge of what was allowed.
        for coverage in session.exec(select(Coverage)).all():
            session.delete(coverage)
        for fee in session.exec(select(FeeSchedule)).all():
            session.delete(fee)
        session.flush()
        coverages = {}
        for patient, (kind, (payer_code, _)) in zip(patients, KINDS.items(), strict=True):
            coverage = make_coverage(session, patient, payers[payer_code])
            coverages[kind] = coverage.id or 0
        config = sim_config_from_database(session, clock_start=START)
    config["authorization_required"] = []  # the demo's Medicaid wants one for 97110
    config["fee_schedule"] = {
        "97110": "40.00",
        "97140": "35.00",
        "97530": "45.00",
        "99214": "130.00",
    }
    for member in config["roster"]:  # no deductible or copay: every allowed dollar is paid
        member.update({"deductible_remaining": "0", "copay": "0"})
    for payer in config["payers"]:
        if payer["payer_id"] == "SIMBLU":
            payer["required_modifiers"] = {"97110": "GP"}
            payer["bundles"] = [["97530", "97140"]]
        if payer["payer_id"] == "SIMACM":
            payer["rate_changes"] = [{"code": "99214", "effective": "2026-10-01", "factor": "0.94"}]
    url, process = start_payer_sim(tmp, seed=11, config=config)
    settings = base.model_copy(
        update={
            "payer_sim_url": f"{url}/core",
            "clock_source": "payer_sim",
            "learning_min_lines": MIN_LINES,
        }
    )
    try:
        yield World(engine, settings, url, coverages)
    finally:
        stop_payer_sim(process)
        engine.dispose()


def test_planted_quirks_are_found_and_the_approved_rule_holds_the_next_claim(
    world: World,
) -> None:
    learned_tasks: list[int] = []
    for _week in range(WEEKS):
        day = today(world.settings)
        for kind in KINDS:
            world.claim(kind, day - timedelta(days=2))
        world.claim("visit", day - timedelta(days=1))
        assert world.send() == [], "the core pack holds none of the planted claims"
        world.advance(3)
        posted = retrieve_remittances(world.engine, world.settings)
        assert posted.posted >= 1 and not posted.exceptions
        # What the pickup then does: the learned rates judge lines without a fee schedule.
        learned_tasks += file_new_learned_underpayments(
            world.engine, world.settings, today=today(world.settings)
        )
        world.advance(4)
    on = today(world.settings)
    assert learned_tasks == [], "no line is underpaid, not even the cut month's"

    ids = find_suggestions(world.engine, world.settings, username="max", today=on)
    rules = {(r.kind, r.procedure_code): r for r in read_rules(world.engine, username="max")}
    assert set(rules) == {("required_modifier", "97110"), ("bundled_pair", "97530")}
    assert sorted(r.id for r in rules.values()) == sorted(ids)
    modifier = rules[("required_modifier", "97110")]
    assert (modifier.payer_code, modifier.modifier, modifier.carc) == ("SIMBLU", "GP", "CO-4")
    assert (modifier.denied, modifier.other_side_denied) == ((WEEKS, WEEKS), (0, WEEKS))
    assert modifier.dollars == CHARGE * WEEKS
    assert modifier.backtest is not None
    assert (
        modifier.backtest.denials_caught,
        modifier.backtest.dollars_caught,
        modifier.backtest.false_holds,
    ) == (WEEKS, CHARGE * WEEKS, 0)
    bundle = rules[("bundled_pair", "97530")]
    assert (bundle.other_code, bundle.carc) == ("97140", "CO-97")
    assert (bundle.denied, bundle.other_side_denied) == ((WEEKS, WEEKS), (0, WEEKS))
    assert bundle.backtest is not None
    assert (bundle.backtest.denials_caught, bundle.backtest.false_holds) == (WEEKS, 0)
    with session_scope(world.engine) as session:
        assert rate_cut_flags(session, world.settings, today=on) == [
            "SIMACM cut 99214 by 6% since 2026-10-01"
        ]

    approved = decide_rule(
        world.engine, username="lou", rule_id=modifier.id, decision="approve", reason="planted"
    )
    assert approved.status == "approved"
    bare = world.claim("bare", on - timedelta(days=1))
    gp = world.claim("gp", on - timedelta(days=1))
    [held_task] = world.send()
    with Session(world.engine) as session:
        task = session.get_one(ReviewTask, held_task)
        assert (task.kind, task.claim_id) == ("scrub", bare)
        [finding] = [
            f for f in task.context["findings"] if f["rule_id"] == f"CD-LEARN-{approved.id}"
        ]
        assert finding["message"].startswith("SIMBLU: 97110 without GP → hold; CO-4")
        statuses = {c.id: c.status for c in session.exec(select(Claim)).all()}
    # Held before it was sent; the same visit with GP went out and the payer accepted it.
    assert (statuses[bare], statuses[gp]) == ("scrub_hold", "accepted")
