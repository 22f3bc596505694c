"""Eligibility and status runs with one bad row still ask the payer about every other one.

A patient whose last name is nothing X12 can carry (a zero-width space, pasted from
somewhere) cannot make a 270 or a 276. Against the real payer simulator, that row
becomes one review task naming the field and the rule; every other coverage gets its
270/271 and every other claim its 276/277.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.clock import now, today
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.demo.sim_config import sim_config_from_database
from claimdesk.eligibility.service import run_eligibility, select_coverages_to_check
from claimdesk.migrate import upgrade_database
from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from claimdesk.settings import Settings
from claimdesk.status_polling.service import claims_due, poll_claims
from claimdesk.submission.service import (
    build_batch_run,
    scrub_ready_claims,
    send_built_submission,
    unsent_submissions,
)
from models import (
    AuditEvent,
    Claim,
    Coverage,
    EligibilityCheck,
    Patient,
    Payer,
    ReviewTask,
    StatusCheck,
)

pytestmark = pytest.mark.slow
NOTHING_LEFT = "\u200b"  # a zero-width space: empty once transliterated


@dataclass
class World:
    engine: Engine
    settings: Settings


@pytest.fixture(scope="module")
def world(databases, tmp_path_factory) -> Iterator[World]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("one-bad-row")
    base = databases.settings("sqlite", tmp)
    engine = make_engine(base)
    upgrade_database(engine)
    start = datetime.now(UTC).date()
    with session_scope(engine) as session:
        generate_demo_practice(session, claims=16, seed=11, today=start, patients=16)
        for coverage in session.exec(select(Coverage)).all():
            coverage.effective_to = None
            session.add(coverage)
        config = sim_config_from_database(session, clock_start=start)
    url, process = start_payer_sim(tmp, seed=5, config=config)
    settings = base.model_copy(update={"payer_sim_url": f"{url}/core", "clock_source": "payer_sim"})
    try:
        yield World(engine, settings)
    finally:
        stop_payer_sim(process)
        engine.dispose()


def _break_patient_of(session: Session, claim: Claim) -> None:
    patient = session.get(Patient, claim.patient_id)
    assert patient is not None
    patient.last_name = NOTHING_LEFT
    session.add(patient)


def test_an_eligibility_run_with_one_bad_row_still_checks_the_others(world: World) -> None:
    day = today(world.settings)
    with session_scope(world.engine) as session:
        checks = select_coverages_to_check(
            session, today=day, horizon_days=3, recheck_days=30, limit=100
        )
        with_claims = [c for c in checks if c.claim_ids]
        bad = with_claims[0]
        coverage = session.get(Coverage, bad.coverage_id)
        assert coverage is not None and coverage.relationship == "self"
        claim = session.get(Claim, bad.claim_ids[0])
        assert claim is not None
        _break_patient_of(session, claim)
    assert len(checks) >= 10

    run = run_eligibility(world.engine, world.settings, checks, today=day)

    assert run.unbuildable == 1
    assert run.checked == len(checks) - 1
    with Session(world.engine) as session:
        asked = set(session.exec(select(EligibilityCheck.coverage_id)).all())
        held = [session.get(Claim, claim_id) for claim_id in bad.claim_ids]
        tasks = session.exec(
            select(ReviewTask).where(
                ReviewTask.kind == "eligibility", col(ReviewTask.claim_id).in_(bad.claim_ids)
            )
        ).all()
        skipped = session.exec(
            select(AuditEvent).where(AuditEvent.action == "eligibility.not_built")
        ).all()
    assert asked == {c.coverage_id for c in checks} - {bad.coverage_id}
    assert all(c is not None and c.status == "eligibility_hold" for c in held)
    assert len(tasks) == len(bad.claim_ids)
    for task in tasks:
        assert task.id in run.review_task_ids
        assert (task.context["outcome"], task.context["field"], task.context["rule"]) == (
            "unbuildable",
            "subscriber.last_name",
            "x12_text_empty",
        )
    assert [e.entity_id for e in skipped] == [str(bad.coverage_id)]
    assert NOTHING_LEFT not in json.dumps([e.details for e in skipped])


def test_a_status_run_with_one_bad_row_still_asks_about_the_others(world: World) -> None:
    with session_scope(world.engine) as session:
        for claim in session.exec(select(Claim).where(Claim.status == "draft")).all():
            set_claim_status(session=session, claim=claim, status="ready", actor="test")
    scrub_ready_claims(world.engine, today=today(world.settings))
    build_batch_run(world.engine, world.settings)
    with Session(world.engine) as session:
        waiting = unsent_submissions(session)
    assert all(send_built_submission(world.engine, world.settings, s) for s in waiting)
    with session_scope(world.engine) as session:
        sent = session.exec(select(Claim).where(Claim.status == "sent").order_by(col(Claim.id)))
        sent_claims = list(sent.all())
        assert len(sent_claims) >= 5
        bad = sent_claims[0]
        _break_patient_of(session, bad)
        payer_id, bad_id = bad.payer_id, bad.id
        payer_claims = [c.id for c in sent_claims if c.payer_id == payer_id]
    with Session(world.engine) as session:
        payer = session.get(Payer, payer_id)
        assert payer is not None
        due = claims_due(session, payer=payer, now=now(world.settings))
    assert set(payer_claims) <= set(due)

    run = poll_claims(
        world.engine,
        world.settings,
        payer_id,
        due,
        now=now(world.settings),
        today=today(world.settings),
    )

    assert run.asked == len(due) - 1
    with Session(world.engine) as session:
        asked = set(session.exec(select(StatusCheck.claim_id)).all())
        [task] = session.exec(
            select(ReviewTask).where(ReviewTask.kind == "status", ReviewTask.claim_id == bad_id)
        ).all()
    assert asked == set(due) - {bad_id}
    assert task.id in run.review_task_ids
    assert (task.context["reason"], task.context["field"], task.context["rule"]) == (
        "inquiry_unbuildable",
        "subscriber.last_name",
        "x12_text_empty",
    )
