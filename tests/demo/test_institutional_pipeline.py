"""The demo practice's 837Is through the whole pipeline, against the real simulator process.

Service level (no Prefect): scrubbed, batched as 837I, sent over HTTP, acknowledged by a
999 and a 277CA, adjudicated and paid in an 835 that posts to the ledger.
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
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.demo.sim_config import sim_config_from_database
from claimdesk.documents import DocumentStore, make_document_store
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
from claimdesk.x12 import validate_with_pyx12
from models import AuditEvent, Claim, ClaimPayment, Coverage, Document, DocumentLink

pytestmark = pytest.mark.slow
INSTITUTIONAL = 10


@dataclass
class World:
    engine: Engine
    settings: Settings
    store: DocumentStore
    sim: str


@pytest.fixture(scope="module")
def world(databases, tmp_path_factory) -> Iterator[World]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("institutional")
    base = databases.settings("sqlite", tmp)
    engine = make_engine(base)
    upgrade_database(engine)
    start = datetime.now(UTC).date()
    with session_scope(engine) as session:
        generate_demo_practice(
            session,
            claims=6,
            seed=77,
            today=start,
            patients=20,
            institutional_claims=INSTITUTIONAL,
        )
        for coverage in session.exec(select(Coverage)).all():
            coverage.effective_to = None  # eligibility is not this test's business
            session.add(coverage)
        for claim in session.exec(select(Claim)).all():
            set_claim_status(session=session, claim=claim, status="ready", actor="test")
        config = sim_config_from_database(session, clock_start=start)
    url, process = start_payer_sim(tmp, seed=5, config=config)
    settings = base.model_copy(update={"payer_sim_url": f"{url}/core", "clock_source": "payer_sim"})
    try:
        yield World(engine, settings, make_document_store(settings), url)
    finally:
        stop_payer_sim(process)
        engine.dispose()


def _institutional(engine: Engine) -> dict[int, str]:
    """The demo's 837Is (not the secondaries their payments make) and their statuses."""
    with Session(engine) as session:
        claims = session.exec(
            select(Claim).where(Claim.kind == "I", col(Claim.primary_claim_id).is_(None))
        ).all()
        return {c.id or 0: c.status for c in claims}


def test_demo_837is_are_sent_acknowledged_and_paid(world: World) -> None:
    with Session(world.engine) as session:
        claims = session.exec(select(Claim).where(Claim.kind == "I")).all()
        assert len(claims) == INSTITUTIONAL
        assert {c.facility_type_code for c in claims} == {"13", "83"}  # hospital OPD and ASC
        data = [c.institutional for c in claims]
        assert any(d.get("condition_codes") for d in data)
        assert any(d.get("occurrences") for d in data) and any(d.get("value_codes") for d in data)
        assert all(c.rendering_provider_id for c in claims)  # the attending physician

    scrubbed = scrub_ready_claims(world.engine, today=datetime.now(UTC).date())
    held = scrubbed.review_task_ids
    assert held == [], "the demo's 837Is should scrub clean"
    build_batches(world.engine, world.settings)
    with Session(world.engine) as session:
        waiting = unsent_submissions(session)
    for submission_id in waiting:
        send_built_submission(world.engine, world.settings, submission_id)
    mark_sent_claims(world.engine)

    # Each 837I sent passes pyx12 with zero errors.
    ids = set(_institutional(world.engine))
    with Session(world.engine) as session:
        sent = session.exec(
            select(Document)
            .join(DocumentLink, col(DocumentLink.document_id) == col(Document.id))
            .where(Document.kind == "x12_837", col(DocumentLink.claim_id).in_(ids))
        ).all()
    files = {d.id: world.store.get(d.storage_key, sha256=d.sha256) for d in sent}
    assert files and all(b"005010X223A2" in data for data in files.values())
    for data in files.values():
        assert validate_with_pyx12(data) == []

    retrieve_acknowledgements(world.engine, world.settings)
    statuses = _institutional(world.engine)
    assert set(statuses.values()) == {"accepted"}, statuses
    with Session(world.engine) as session:
        acks = session.exec(
            select(AuditEvent.action).where(col(AuditEvent.claim_id).in_(ids))
        ).all()
        kinds = {d.kind for d in session.exec(select(Document)).all()}
    assert {"x12_999", "x12_277ca"} <= kinds, kinds
    assert "claim.status_changed" in acks

    for _round in range(4):
        httpx.post(f"{world.sim}/admin/clock/advance", json={"days": 3}, timeout=10)
        retrieve_remittances(world.engine, world.settings)
        statuses = _institutional(world.engine)
        if "accepted" not in statuses.values():
            break
    # Paid (a deductible may leave the payer's part at 0), or handed on to the secondary;
    # the simulator denies a code it wants an authorization for (CO-197) like any claim.
    assert set(statuses.values()) <= {"paid", "partially_paid", "denied", "billed_secondary"}
    adjudicated = {c for c, status in statuses.items() if status != "denied"}
    assert len(adjudicated) >= INSTITUTIONAL // 2, statuses
    with Session(world.engine) as session:
        payments = session.exec(
            select(ClaimPayment).where(col(ClaimPayment.claim_id).in_(adjudicated))
        ).all()
        assert {p.claim_id for p in payments} == adjudicated
        assert {p.status_code for p in payments} <= {"1"}  # processed as primary
        assert sum(p.paid for p in payments) > 0
        assert check_all_ledger_identities(session) == []


def test_the_secondaries_their_835s_made_go_out_as_837is_and_are_accepted(world: World) -> None:
    """After the test above: a primary's payment made secondary 837Is (2320/2330B from its 835)."""
    with Session(world.engine) as session:
        secondaries = session.exec(
            select(Claim).where(Claim.kind == "I", col(Claim.primary_claim_id).is_not(None))
        ).all()
    ids = {c.id for c in secondaries}
    assert ids and {c.coverage_order for c in secondaries} == {2}
    assert scrub_ready_claims(world.engine, today=datetime.now(UTC).date()).review_task_ids == []
    build_batches(world.engine, world.settings)
    with Session(world.engine) as session:
        waiting = unsent_submissions(session)
    for submission_id in waiting:
        send_built_submission(world.engine, world.settings, submission_id)
    mark_sent_claims(world.engine)
    with Session(world.engine) as session:
        sent = session.exec(
            select(Document)
            .join(DocumentLink, col(DocumentLink.document_id) == col(Document.id))
            .where(Document.kind == "x12_837", col(DocumentLink.claim_id).in_(ids))
        ).all()
    assert sent
    for document in sent:
        data = world.store.get(document.storage_key, sha256=document.sha256)
        assert b"SBR*S*" in data and validate_with_pyx12(data) == []
    retrieve_acknowledgements(world.engine, world.settings)
    with Session(world.engine) as session:
        statuses = {c.status for c in session.exec(select(Claim).where(col(Claim.id).in_(ids)))}
    assert statuses == {"accepted"}
