"""One bad claim never holds up the others; names go out transliterated, stay as written.

200 queued claims against the real payer simulator: one whose subscriber's last name
is longer than NM103 allows once transliterated (it passes the scrub: no rule knows
lengths) is held with a scrub task naming the field and the rule; the other 199 are
built, pyx12-clean, and sent. Four of them belong to patients named in Spanish,
Polish, Icelandic and Chinese: the 837 carries them transliterated, the database
keeps them as written, and each claim's timeline names the fields, never the values.
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
from claimdesk.claims.snapshot import build_claim_snapshot
from claimdesk.clock import today
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.demo.sim_config import sim_config_from_database
from claimdesk.documents import make_document_store
from claimdesk.migrate import upgrade_database
from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from claimdesk.rules import DEFAULT_PACK, run_rules
from claimdesk.settings import Settings
from claimdesk.submission.service import (
    BuildRun,
    build_batch_run,
    scrub_ready_claims,
    send_built_submission,
    unsent_submissions,
)
from claimdesk.x12 import validate_with_pyx12
from models import (
    AuditEvent,
    Claim,
    Coverage,
    Document,
    Patient,
    ReviewTask,
    Submission,
    SubmissionClaim,
)

pytestmark = pytest.mark.slow
CLAIMS = 200
# 63 characters: a double-barrelled Spanish surname, longer than NM103's 60 as written.
TOO_LONG = "Fernández-Villaverde y Rodríguez de la Fuente Sánchez-Albornoz"
# (last, first, street, city) as written; what the 837 carries.
PEOPLE = {
    "Spanish": (("Nuñez Peña", "José", "Calle Añil 12", "Logroño"), ("Nunez Pena", "Jose")),
    "Polish": (("Wiśniewski", "Łukasz", "ul. Żółkiewskiego 3", "Łódź"), ("Wisniewski", "Lukasz")),
    "Icelandic": (("Þórsson", "Sigurður", "Þórsgata 5", "Reykjavík"), ("Thorsson", "Sigurdur")),
    "Chinese": (("王", "小明", "长安街 1号", "北京"), ("Wang", "XiaoMing")),
}


@dataclass
class World:
    engine: Engine
    settings: Settings
    bad_claim: int
    named_claims: dict[str, int]  # language → claim id
    run: BuildRun
    sent: list[bool]


def _self_pay_patients_with_one_claim(session: Session, claim_ids: list[int]) -> list[Claim]:
    claims = session.exec(select(Claim).where(col(Claim.id).in_(claim_ids))).all()
    per_patient: dict[int, list[Claim]] = {}
    for claim in claims:
        per_patient.setdefault(claim.patient_id, []).append(claim)
    picked = []
    for rows in per_patient.values():
        coverage = session.get(Coverage, rows[0].coverage_id)
        if len(rows) == 1 and coverage is not None and coverage.relationship == "self":
            picked.append(rows[0])
    return sorted(picked, key=lambda c: c.id or 0)


@pytest.fixture(scope="module")
def world(databases, tmp_path_factory) -> Iterator[World]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("batch-isolation")
    base = databases.settings("sqlite", tmp)
    engine = make_engine(base)
    upgrade_database(engine)
    start = datetime.now(UTC).date()
    # More claims than needed: the demo's own scrub errors hold some; 200 clean ones go on.
    with session_scope(engine) as session:
        generate_demo_practice(session, claims=CLAIMS + 60, seed=7, today=start, patients=CLAIMS)
        for coverage in session.exec(select(Coverage)).all():
            coverage.effective_to = None
            session.add(coverage)
        for claim in session.exec(select(Claim)).all():
            set_claim_status(session=session, claim=claim, status="ready", actor="test")
        config = sim_config_from_database(session, clock_start=start)
    url, process = start_payer_sim(tmp, seed=3, config=config)
    settings = base.model_copy(update={"payer_sim_url": f"{url}/core", "clock_source": "payer_sim"})
    try:
        scrubbed = scrub_ready_claims(engine, today=today(settings))
        assert scrubbed.clean >= CLAIMS
        with session_scope(engine) as session:
            queued = sorted(
                c for c in session.exec(select(Claim.id).where(Claim.status == "queued")) if c
            )
            for extra in session.exec(select(Claim).where(col(Claim.id).in_(queued[CLAIMS:]))):
                set_claim_status(session=session, claim=extra, status="voided", actor="test")
            chosen = _self_pay_patients_with_one_claim(session, queued[:CLAIMS])
            bad, named = chosen[0], dict(zip(PEOPLE, chosen[1:5], strict=True))
            patient = session.get(Patient, bad.patient_id)
            assert patient is not None
            patient.last_name = TOO_LONG
            session.add(patient)
            for language, claim in named.items():
                (last, first, street, city), _ = PEOPLE[language]
                person = session.get(Patient, claim.patient_id)
                assert person is not None
                person.last_name, person.first_name = last, first
                person.address_line1, person.city = street, city
                session.add(person)
        with Session(engine) as session:
            # The scrub passes it: the batch, not the rules, is where it used to stop everyone.
            snapshot = build_claim_snapshot(session=session, claim_id=bad.id or 0, today=start)
            assert not run_rules(snapshot, DEFAULT_PACK).has_errors
        run = build_batch_run(engine, settings)
        with Session(engine) as session:
            waiting = unsent_submissions(session)
        sent = [send_built_submission(engine, settings, s) for s in waiting]
        yield World(
            engine,
            settings,
            bad.id or 0,
            {language: c.id or 0 for language, c in named.items()},
            run,
            sent,
        )
    finally:
        stop_payer_sim(process)
        engine.dispose()


def test_one_unbuildable_claim_among_200_is_held_and_199_are_sent(world: World) -> None:
    assert world.run.held == 1 and len(world.run.review_task_ids) == 1
    assert world.sent and all(world.sent)
    with Session(world.engine) as session:
        sent = session.exec(select(Claim.id).where(Claim.status == "sent")).all()
        in_interchanges = session.exec(select(SubmissionClaim.claim_id)).all()
        bad = session.get(Claim, world.bad_claim)
        task = session.get(ReviewTask, world.run.review_task_ids[0])
        statuses = set(session.exec(select(Submission.status)).all())
    assert len(sent) == CLAIMS - 1 and world.bad_claim not in sent
    assert sorted(in_interchanges) == sorted(sent)
    assert statuses == {"sent"}
    assert bad is not None and bad.status == "scrub_hold"
    assert task is not None and (task.kind, task.claim_id) == ("scrub", world.bad_claim)
    assert task.context["field"] == "subscriber.last_name"
    assert task.context["rule"] == "too_long"  # pydantic's code for the max_length
    assert task.context["stage"] == "build" and task.context["errors"] == ["X12-BUILD"]
    assert "Villaverde" not in json.dumps(task.context)  # field and rule, never the name


def test_a_later_run_neither_rebuilds_nor_retries_the_held_claim(world: World) -> None:
    again = build_batch_run(world.engine, world.settings)
    assert (again.submissions, again.held, again.review_task_ids) == ([], 0, [])


def test_names_in_four_languages_go_out_transliterated_and_stay_as_written(world: World) -> None:
    with Session(world.engine) as session:
        documents = session.exec(
            select(Document).join(Submission, col(Submission.document_id) == col(Document.id))
        ).all()
        store = make_document_store(world.settings)
        wire = [store.get(d.storage_key, sha256=d.sha256) for d in documents]
        for language, claim_id in world.named_claims.items():
            (last, first, street, city), (wire_last, wire_first) = PEOPLE[language]
            claim = session.get(Claim, claim_id)
            assert claim is not None and claim.status == "sent", language
            patient = session.get(Patient, claim.patient_id)
            assert patient is not None
            assert (patient.last_name, patient.first_name) == (last, first)  # as written
            assert (patient.address_line1, patient.city) == (street, city)
            assert any(f"NM1*IL*1*{wire_last}*{wire_first}*".encode() in data for data in wire)
            [event] = session.exec(
                select(AuditEvent).where(
                    AuditEvent.claim_id == claim_id, AuditEvent.action == "claim.transliterated"
                )
            ).all()
            assert event.details["transaction"] == "837P"
            assert {"subscriber.last_name", "subscriber.first_name"} <= set(event.details["fields"])
            assert "subscriber.address.line1" in event.details["fields"]
            assert last not in json.dumps(event.details) and wire_last not in json.dumps(
                event.details
            )
    for data in wire:
        data.decode("ascii")  # X12 is ASCII; nothing else went out
        assert validate_with_pyx12(data) == []
