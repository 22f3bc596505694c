"""Patient and claim search: names as people type them, account, member id and claim number;
the minimum necessary shown, a reason where the role works some queues only, every search
audited with the ids it showed (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.db import make_engine, session_scope
from claimdesk.errors import PermissionDenied, ValidationFailed
from claimdesk.intake import charge_entry as ce
from claimdesk.intake.office import import_office
from claimdesk.intake.patients import import_patients
from claimdesk.migrate import upgrade_database
from claimdesk.reporting.search import PatientHit, needs_reason, search
from claimdesk.review.tasks import ensure_review_task
from claimdesk.settings import Settings
from models import AuditEvent, Coverage, Patient, User
from tests.conftest import DB_BACKENDS

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples"
WHY = "patient called about a bill"


@pytest.fixture(scope="module", params=DB_BACKENDS)
def world(
    request: pytest.FixtureRequest, databases: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, ce.SavedCharge, int]]:
    """The example office and patients; one keyed claim for Wiśniewski with an open task."""
    settings: Settings = databases.settings(request.param, tmp_path_factory.mktemp("s"))  # type: ignore[attr-defined]
    engine = make_engine(settings)
    upgrade_database(engine)
    import_office(engine, EXAMPLE / "office.yaml", actor="tester")
    import_patients(engine, data=(EXAMPLE / "patients.csv").read_bytes(), actor="tester")
    with session_scope(engine) as session:
        for name, role in (("sam", "specialist"), ("lee", "lead"), ("adm", "admin")):
            session.add(User(username=name, role=role, password_hash="x"))
        patient = session.exec(select(Patient).where(Patient.last_name == "Wiśniewski")).one()
        coverage = session.exec(select(Coverage).where(Coverage.patient_id == patient.id)).one()
    saved = ce.save_charge(
        engine,
        username="sam",
        entry=ce.ChargeEntry(
            patient.id, coverage.id, date(2026, 3, 2), ["I10"], [ce.LineEntry("99213")]
        ),
        today=date(2026, 12, 4),
    )
    with session_scope(engine) as session:
        task = ensure_review_task(
            session=session, kind="scrub", claim_id=saved.claim_id, claim_version=1, step=1
        )
        task_id = task.id or 0
    yield engine, saved, task_id
    engine.dispose()


def _searched(engine: Engine) -> AuditEvent:
    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.action).in_(("phi.searched", "access.refused")))
            .order_by(col(AuditEvent.id).desc())
        ).first()
        assert event is not None
        return event


def _names(hits: list[PatientHit]) -> list[str]:
    return [h.name for h in hits]


@pytest.mark.parametrize(
    ("query", "by", "name"),
    [
        ("wisniewski", "name", "Wiśniewski, Łukasz"),
        ("ŁUKASZ", "name", "Wiśniewski, Łukasz"),
        ("jose nunez", "name", "Nuñez, José Luis"),
        ("guðmundsdóttir", "name", "Guðmundsdóttir, Þórunn"),
        ("王", "name", "王, 小明"),
        ("王小明", "name", "王, 小明"),
        ("wang xiaoming", "name", "王, 小明"),
        ("A10003", "account", "Guðmundsdóttir, Þórunn"),
        ("blu7730021", "member_id", "Guðmundsdóttir, Þórunn"),
    ],
)
def test_patients_are_found_and_shown_as_written(
    world: tuple[Engine, ce.SavedCharge, int], query: str, by: str, name: str
) -> None:
    engine = world[0]
    hits = search(engine, username="lee", query=query, by=by)  # type: ignore[arg-type]
    assert _names(hits) == [name]
    (hit,) = hits
    # Minimum necessary: the member id's last four only.
    assert all("••" in m and len(m.split()[-1]) >= 6 for m in hit.member_ids)
    event = _searched(engine)
    assert (event.action, event.actor, event.entity_type) == ("phi.searched", "lee", "search")
    assert event.details["patient_ids"] == [hit.patient_id] and event.details["by"] == by
    assert query.casefold() not in str(event.details).casefold()  # the words typed stay out


def test_a_claim_is_found_by_its_number_with_its_patient_and_open_task(
    world: tuple[Engine, ce.SavedCharge, int],
) -> None:
    engine, saved, task_id = world
    for query in (saved.patient_control_number.lower(), str(saved.claim_id)):
        (hit,) = search(engine, username="sam", query=query, by="claim", reason=WHY)
        assert hit.name == "Wiśniewski, Łukasz"
        (claim,) = hit.claims
        assert (claim.claim_id, claim.status, claim.task_ids) == (
            saved.claim_id,
            "draft",
            (task_id,),
        )
        event = _searched(engine)
        assert event.details["claim_ids"] == [saved.claim_id] and event.details["reason"] == WHY
    # A name search lists the patient's claims too.
    (hit,) = search(engine, username="lee", query="lukasz", by="name")
    assert [c.claim_id for c in hit.claims] == [saved.claim_id]


def test_a_specialist_gives_a_reason_and_a_refusal_is_audited(
    world: tuple[Engine, ce.SavedCharge, int],
) -> None:
    engine = world[0]
    assert needs_reason("specialist") and not needs_reason("lead")
    with pytest.raises(PermissionDenied, match="needs a reason"):
        search(engine, username="sam", query="nunez", by="name", reason="   ")
    event = _searched(engine)
    assert (event.action, event.actor, event.details["action"]) == (
        "access.refused",
        "sam",
        "phi.search",
    )
    assert _names(search(engine, username="sam", query="nunez", by="name", reason=WHY)) == [
        "Nuñez, José Luis"
    ]


def test_an_admin_manages_accounts_not_patients(world: tuple[Engine, ce.SavedCharge, int]) -> None:
    with pytest.raises(PermissionDenied):
        search(world[0], username="adm", query="nunez", by="name")
    assert _searched(world[0]).details["action"] == "phi.search"


def test_nothing_found_is_audited_and_empty_queries_are_named(
    world: tuple[Engine, ce.SavedCharge, int],
) -> None:
    engine = world[0]
    assert search(engine, username="lee", query="nobody here", by="name") == []
    assert _searched(engine).details["patient_ids"] == []
    with pytest.raises(ValidationFailed) as empty:
        search(engine, username="lee", query="  ", by="name")
    assert empty.value.field == "query"
    with pytest.raises(ValidationFailed) as wrong:
        search(engine, username="lee", query="x", by="ssn")  # type: ignore[arg-type]
    assert wrong.value.field == "by"
