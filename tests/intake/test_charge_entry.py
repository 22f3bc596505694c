"""Charge entry: find the patient, look the codes up for the date of service, charges from the
fee schedule, saved as a draft claim through the claim import's path; refusals named at their
field with nothing stored, and every look and save audited (SQLite and PostgreSQL).

The office and patients are the shipped examples (docs/examples), imported as an office would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from claimdesk.claims.snapshot import build_claim_snapshot
from claimdesk.cms_edits.store import load_edit_file
from claimdesk.db import make_engine, session_scope
from claimdesk.errors import PermissionDenied
from claimdesk.intake import charge_entry as ce
from claimdesk.intake.office import import_office
from claimdesk.intake.patients import import_patients
from claimdesk.intake.problems import ImportRefused
from claimdesk.migrate import upgrade_database
from claimdesk.rules import CORE_PACK, run_rules
from claimdesk.settings import Settings
from models import AuditEvent, Claim, ClaimLine, Coverage, Diagnosis, Patient, User
from tests.conftest import DB_BACKENDS
from tests.rules.cms_samples import hcpcs_record, icd10cm_order_line

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples"
DOS = date(2026, 3, 10)
TODAY = date(2026, 12, 4)


@pytest.fixture(scope="module", params=DB_BACKENDS)
def engine(
    request: pytest.FixtureRequest, databases: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    settings: Settings = databases.settings(request.param, tmp_path_factory.mktemp("ce"))  # type: ignore[attr-defined]
    engine = make_engine(settings)
    upgrade_database(engine)
    import_office(engine, EXAMPLE / "office.yaml", actor="tester")
    import_patients(engine, data=(EXAMPLE / "patients.csv").read_bytes(), actor="tester")
    with session_scope(engine) as session:
        for name, role in (("sam", "specialist"), ("aud", "auditor"), ("adm", "admin")):
            session.add(User(username=name, role=role, password_hash="x"))
    yield engine
    engine.dispose()


def _patient(engine: Engine, last_name: str) -> Patient:
    with Session(engine) as session:
        return session.exec(select(Patient).where(Patient.last_name == last_name)).one()


def _coverage(engine: Engine, patient: Patient) -> Coverage:
    with Session(engine) as session:
        return session.exec(select(Coverage).where(Coverage.patient_id == patient.id)).first()  # type: ignore[return-value]


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _last_audit(engine: Engine, action: str) -> AuditEvent:
    with Session(engine) as session:
        return session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == action)
            .order_by(col(AuditEvent.id).desc())
        ).first()  # type: ignore[return-value]


def _entry(engine: Engine, **changes: object) -> ce.ChargeEntry:
    patient = _patient(engine, "Nuñez")
    values: dict[str, object] = {
        "patient_id": patient.id,
        "coverage_id": _coverage(engine, patient).id,
        "service_date": DOS,
        "diagnoses": ["E11.9", "I10"],
        "lines": [ce.LineEntry("99213", diagnosis_pointers=[1, 2])],
        **changes,
    }
    return ce.ChargeEntry(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "by", "last_name"),
    [
        ("nunez jose", "name", "Nuñez"),
        ("NÚÑEZ", "name", "Nuñez"),
        ("lukasz wisniewski", "name", "Wiśniewski"),
        ("thorunn", "name", "Guðmundsdóttir"),
        ("小明", "name", "王"),
        ("a10002", "account", "Wiśniewski"),
        ("ACM551903", "member_id", "王"),
    ],
)
def test_a_patient_is_found_as_people_type_the_name(
    engine: Engine, query: str, by: ce.FindBy, last_name: str
) -> None:
    found = ce.find_patients(engine, username="sam", query=query, by=by)
    assert [p.name.split(",")[0] for p in found] == [last_name]
    event = _last_audit(engine, "patient.looked_up")
    assert event.actor == "sam" and event.details["patient_ids"] == [found[0].patient_id]
    assert query not in str(event.details)  # what was typed may be PHI: the ids are the record


def test_the_form_offers_the_patients_coverages_masked_and_is_audited(engine: Engine) -> None:
    patient = _patient(engine, "Nuñez")
    form = ce.read_charge_form(engine, username="sam", patient_id=patient.id or 0)
    (coverage,) = form.coverages
    assert "Medicare" in coverage.label and "1EG4TE5MK73" not in coverage.label
    assert coverage.label.endswith("from 2013-03-01 to open") and "•••" in coverage.label
    assert {p.label.split(" (")[0] for p in form.rendering} >= {"Morales, Ana", "Becker, Thomas"}
    assert ("11", "11 Office") in form.places_of_service
    event = _last_audit(engine, "patient.viewed")
    assert event.entity_id == str(patient.id) and event.details["page"] == "charge_entry"


def test_diagnoses_by_words_from_the_shipped_set(engine: Engine) -> None:
    found = ce.look_up_codes(
        engine, username="sam", kind="diagnosis", text="type 2 diabetes without compl", on=DOS
    )
    assert "E119" in [c.code for c in found]
    label = next(c.label for c in found if c.code == "E119")
    assert label == "E11.9 Type 2 diabetes mellitus without complications"
    # A category is no diagnosis: only billable codes are offered.
    assert "E11" not in [c.code for c in ce.look_up_codes(
        engine, username="sam", kind="diagnosis", text="E11", on=DOS)]  # fmt: skip


def test_a_loaded_fiscal_year_decides_what_is_offered_and_accepted(
    engine: Engine, tmp_path: Path
) -> None:
    fy2027 = tmp_path / "icd10cm-order-2027.txt"
    fy2027.write_text(
        icd10cm_order_line(1, "E119", True, "Type 2 diabetes mellitus w/o complications")
        + icd10cm_order_line(2, "I10", True, "Essential (primary) hypertension")
        + icd10cm_order_line(3, "M54501", True, "Low back pain, right side")
    )
    with session_scope(engine) as session:
        load_edit_file(session, "icd10cm", fy2027, actor="test")
    october = date(2026, 10, 15)
    found = ce.look_up_codes(
        engine, username="sam", kind="diagnosis", text="low back pain right", on=october
    )
    assert [(c.code, c.source) for c in found] == [("M54501", found[0].source)]
    assert "2027" in found[0].source
    # The same words before October read FY2026 (the shipped set), where M54501 does not exist.
    before = ce.look_up_codes(engine, username="sam", kind="diagnosis", text="M54501", on=DOS)
    assert before == []
    claims = _count(engine, Claim)
    with pytest.raises(ImportRefused) as refused:
        ce.save_charge(
            engine,
            username="sam",
            entry=_entry(engine, diagnoses=["M54501"], lines=[ce.LineEntry("99213")]),
            today=TODAY,
        )
    assert [(p.where, p.field) for p in refused.value.problems] == [("diagnosis 1", "code")]
    assert "not an ICD-10-CM code" in refused.value.problems[0].reason
    assert _count(engine, Claim) == claims


def test_hcpcs_by_words_from_the_loaded_file_and_cpt_by_shape(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "HCPC2026_JAN_ANWEB.txt"
    path.write_text(
        hcpcs_record("G0439", long="Annual wellness visit, subsequent", added="20110101")
        + hcpcs_record(
            "G0999", long="Old wellness service", added="20100101", terminated="20251231"
        )
    )
    with session_scope(engine) as session:
        load_edit_file(session, "hcpcs", path, actor="test")
    found = ce.look_up_codes(engine, username="sam", kind="procedure", text="wellness", on=DOS)
    assert [c.code for c in found] == ["G0439"]  # G0999 ended before the date of service
    assert found[0].label == "G0439 Annual wellness visit, subsequent"
    (cpt,) = ce.look_up_codes(engine, username="sam", kind="procedure", text="99213", on=DOS)
    assert cpt.code == "99213" and cpt.words == "" and "licence" in cpt.label


def test_a_charge_saved_from_the_fee_schedule_is_a_draft_claim_like_an_import(
    engine: Engine,
) -> None:
    patient = _patient(engine, "Nuñez")
    coverage = _coverage(engine, patient)
    fee = ce.fee_for(
        engine, username="sam", coverage_id=coverage.id or 0, code="99213", on=DOS, units=Decimal(2)
    )
    assert fee == Decimal("184.00")  # SIMMCR 99213 from 2026-01-01: 92.00 each
    entry = _entry(
        engine,
        lines=[
            ce.LineEntry("99213", diagnosis_pointers=[1, 2]),  # from the fee schedule
            ce.LineEntry("36415", charge="25.00", diagnosis_pointers=[1]),  # typed over
        ],
    )
    saved = ce.save_charge(engine, username="sam", entry=entry, today=TODAY)
    assert saved.total_charge == Decimal("117.00")
    assert saved.patient_control_number.startswith("CE")
    with Session(engine) as session:
        claim = session.get(Claim, saved.claim_id)
        assert claim is not None and claim.status == "draft" and claim.kind == "P"
        assert (claim.patient_id, claim.coverage_id) == (patient.id, coverage.id)
        assert (claim.service_from, claim.service_to, claim.place_of_service) == (DOS, DOS, "11")
        lines = session.exec(
            select(ClaimLine)
            .where(ClaimLine.claim_id == claim.id)
            .order_by(col(ClaimLine.line_number))
        ).all()
        assert [(ln.procedure_code, ln.charge, ln.diagnosis_pointers) for ln in lines] == [
            ("99213", Decimal("92.00"), [1, 2]),
            ("36415", Decimal("25.00"), [1]),
        ]
        dx = select(Diagnosis.code).where(Diagnosis.claim_id == claim.id)
        codes = session.exec(dx.order_by(col(Diagnosis.position))).all()
        assert list(codes) == ["E119", "I10"]
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.claim_id == claim.id)
        ).all()
        assert {"claim.created", "claim.entered"} <= set(actions)
        # The scrub reads it as any claim: a complete, clean professional claim.
        snapshot = build_claim_snapshot(session=session, claim_id=claim.id or 0, today=TODAY)
        assert [f.rule_id for f in run_rules(snapshot, CORE_PACK).errors] == []


def test_wrong_values_are_named_at_their_fields_and_nothing_is_stored(engine: Engine) -> None:
    other = _coverage(engine, _patient(engine, "Wiśniewski"))
    form = ce.read_charge_form(engine, username="sam", patient_id=_patient(engine, "Nuñez").id or 0)
    assert len(form.billing) == 1  # the example office bills under one provider
    entry = _entry(
        engine,
        coverage_id=other.id,  # another patient's coverage
        billing_provider_id=form.rendering[0].provider_id,  # renders, does not bill
        diagnoses=["E11", "E11.9", "E11.9"],  # a category; twice the same
        place_of_service="99x",
        lines=[
            ce.LineEntry("ABCDE", units="0"),
            ce.LineEntry("99213", modifiers=["25", "TOOLONG"], diagnosis_pointers=[7]),
            ce.LineEntry("99499"),  # nothing on the fee schedule and no charge given
        ],
    )
    before = (_count(engine, Claim), _count(engine, ClaimLine), _count(engine, Diagnosis))
    with pytest.raises(ImportRefused) as refused:
        ce.save_charge(engine, username="sam", entry=entry, today=TODAY)
    named = [(p.where, p.field) for p in refused.value.problems]
    assert named == [
        ("claim", "coverage"),
        ("claim", "billing_provider"),
        ("claim", "place_of_service"),
        ("diagnosis 1", "code"),
        ("diagnosis 3", "code"),
        ("line 1", "procedure_code"),
        ("line 1", "units"),
        ("line 2", "modifiers"),
        ("line 2", "diagnosis_pointers"),
    ]
    assert (_count(engine, Claim), _count(engine, ClaimLine), _count(engine, Diagnosis)) == before
    event = _last_audit(engine, "claim.entry_refused")
    assert event.actor == "sam" and "line 2: modifiers" in event.details["problems"]
    # Without a coverage the fee cannot be looked up; with one, a missing fee is named.
    with pytest.raises(ImportRefused) as no_fee:
        ce.save_charge(
            engine, username="sam", entry=_entry(engine, lines=[ce.LineEntry("99499")]), today=TODAY
        )
    assert [(p.where, p.field) for p in no_fee.value.problems] == [("line 1", "charge")]


def test_dates_outside_the_coverage_or_in_the_future_are_refused(engine: Engine) -> None:
    patient = _patient(engine, "Guðmundsdóttir")  # Bluebird from 2025-07-01
    coverage = _coverage(engine, patient)
    for service_date, reason in (
        (date(2025, 3, 1), "not in effect on the date of service"),
        (date(2027, 1, 5), "in the future"),
    ):
        entry = _entry(
            engine, patient_id=patient.id, coverage_id=coverage.id, service_date=service_date
        )
        with pytest.raises(ImportRefused) as refused:
            ce.save_charge(engine, username="sam", entry=entry, today=TODAY)
        assert reason in [p.reason for p in refused.value.problems]


@pytest.mark.parametrize("who", ["aud", "adm"])
def test_roles_that_do_not_key_charges_are_refused_and_audited(engine: Engine, who: str) -> None:
    claims = _count(engine, Claim)
    with pytest.raises(PermissionDenied):
        ce.save_charge(engine, username=who, entry=_entry(engine), today=TODAY)
    with pytest.raises(PermissionDenied):
        ce.find_patients(engine, username=who, query="nunez")
    assert _count(engine, Claim) == claims
    event = _last_audit(engine, "access.refused")
    assert event.actor == who and event.details["action"] == "claim.create"
