"""A scrub records the CMS data versions it read, beside its rule pack, in the audit trail
and in the scrub review it opens (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, select

from claimdesk.cms_edits.store import load_edit_file
from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from claimdesk.submission.service import scrub_ready_claims
from models import AuditEvent, ReviewTask
from tests.factories import make_claim
from tests.rules.cms_samples import mue_file


def test_the_scrub_names_the_mue_version_it_held_a_claim_by(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    table = tmp_path / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"
    table.write_text(mue_file("99213|1|2 Date of Service Edit: Policy|Nature of service"))
    line = {
        "procedure_code": "99213",
        "units": Decimal(2),
        "charge": Decimal("125.00"),
        "diagnosis_pointers": [1],
        "service_date": date(2026, 10, 1),
    }
    with session_scope(engine) as session:
        load_edit_file(session, "mue", table, actor="test")
        claim_id = make_claim(session, lines=[line], status="ready").id
    run = scrub_ready_claims(engine, today=date(2026, 12, 3))
    assert run.held == 1
    with Session(engine) as session:
        (event,) = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "claim.scrubbed", AuditEvent.claim_id == claim_id
            )
        ).all()
        task = session.exec(select(ReviewTask).where(ReviewTask.claim_id == claim_id)).one()
    assert event.details["errors"] == ["CD-MUE-001"]
    assert event.details["data"]["mue"] == "MUE practitioner 2026-10-01"
    assert event.details["data"]["ncci-ptp"] == "none loaded (not checked)"
    assert "simple-icd-10-cm" in event.details["data"]["icd10cm"]
    assert task.context["data"] == event.details["data"]
    assert "MUE practitioner 2026-10-01" in task.context["findings"][0]["message"]
    engine.dispose()
