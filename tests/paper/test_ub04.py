"""The UB-04 (CMS-1450) filled from an institutional claim, read back with pypdf."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import Session, col, select

from claimdesk.db import make_engine, session_scope
from claimdesk.documents import make_document_store
from claimdesk.errors import ValidationFailed
from claimdesk.migrate import upgrade_database
from claimdesk.paper import render_ub04
from claimdesk.pdf_fonts import unicode_family
from claimdesk.settings import Settings
from claimdesk.submission.paper import print_paper_claims, render_claim_form
from claimdesk.submission.ub04_paper import ub04_form_facts
from models import AuditEvent, Claim, ClaimLine, Document, DocumentLink, Patient
from tests.factories import make_provider, valid_npi
from tests.paper.conftest import TODAY, PaperWorld, make_paper_world, make_user, paper_claim

INSTITUTIONAL: dict[str, Any] = {
    "admission_date": "2026-10-01",
    "admission_hour": "0715",
    "admission_type": "3",
    "admission_source": "1",
    "patient_status": "01",
    "admitting_diagnosis": "R1031",
    "condition_codes": ["A9", "B3"],
    "occurrences": [{"code": "11", "on": "2026-09-28"}],
    "occurrence_spans": [{"code": "72", "start": "2026-09-20", "end": "2026-09-22"}],
    "value_codes": [{"code": "A1", "amount": "250.00"}],
}


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path)


def ub04_claim(session: Session, world: PaperWorld, *, lines: int = 3, **overrides: Any) -> Claim:
    """An outpatient hospital claim (bill type 131): revenue codes with HCPCS on each line."""
    operating = make_provider(
        session,
        world.practice,
        role="rendering",
        organization_name=None,
        last_name="CUTTER",
        first_name="ANNA",
        npi=valid_npi(5151),
    )
    claim = paper_claim(
        session,
        world,
        lines=lines,
        kind="I",
        facility_type_code="13",
        institutional={**INSTITUTIONAL, "operating_provider_id": operating.id},
        service_from=date(2026, 10, 1),
        service_to=date(2026, 10, 1),
        **overrides,
    )
    revenue = ("0450", "0300", "0320", "0250")
    rows = session.exec(
        select(ClaimLine).where(ClaimLine.claim_id == claim.id).order_by(col(ClaimLine.line_number))
    ).all()
    for index, line in enumerate(rows):
        line.revenue_code = revenue[index % len(revenue)]
        line.diagnosis_pointers = []
        session.add(line)
    session.flush()
    return claim


def test_ub04_shows_the_claim_s_form_locators(session: Session, settings: Settings) -> None:
    world = make_paper_world(session)
    claim = ub04_claim(session, world)
    facts = ub04_form_facts(session, settings=settings, claim_id=claim.id or 0, form_date=TODAY)
    data = render_ub04(facts)
    (text,) = _pages(data)
    assert "0131" in text  # FL4: outpatient hospital, original claim
    assert claim.patient_control_number in text  # FL3a
    assert "123456789" in text  # FL5: the practice's EIN
    assert "100126" in text  # FL6 and FL12: statement period and admission date, MMDDYY
    for value in ("07", "R1031"):  # FL13 admission hour, FL69 admitting diagnosis
        assert value in text
    assert "A9" in text and "B3" in text  # FL18-28 condition codes
    assert "11 092826" in text  # FL31 occurrence code and date
    assert "72 092026 092226" in text  # FL35 occurrence span
    assert "A1" in text and "250 00" in text  # FL39 value code and amount
    for revenue, hcpcs, charge in (
        ("0450", "9921325", "100 00"),  # the first line's modifier runs on, as FL44 prints it
        ("0300", "36415", "110 00"),
        ("0320", "85025", "120 00"),
    ):
        assert revenue in text and hcpcs in text and charge in text
    assert "EMERGENCY ROOM" in text and "LABORATORY" in text  # FL43 words
    assert "0001" in text and "330 00" in text and "TOTALS" in text  # FL47 line 23
    assert "PRAIRIE MUTUAL" in text.upper() and "PMX55501234" in text  # FL50, FL60
    assert "G77" in text  # FL62
    assert world.billing_npi in text  # FL56
    assert "E119" in text and "I10" in text  # FL67 principal and A
    assert world.rendering_npi in text and "WELBY" in text  # FL76 attending
    assert valid_npi(5151) in text and "CUTTER" in text  # FL77 operating
    assert "UB-04 CMS-1450" in text and "4 TYPE OF BILL" in text
    assert render_ub04(facts) == data  # the same facts give the same bytes


@pytest.mark.skipif(unicode_family() is None, reason="needs fonts-dejavu-core")
def test_ub04_prints_names_as_written(session: Session, settings: Settings) -> None:
    world = make_paper_world(session)
    claim = ub04_claim(session, world, lines=1)
    patient = session.get(Patient, claim.patient_id)
    assert patient is not None
    patient.first_name, patient.last_name = "Łukasz", "Wiśniewski"
    patient.address_line1, patient.city = "ul. Żółkiewskiego 3", "Łódź"
    session.add(patient)
    session.flush()
    facts = ub04_form_facts(session, settings=settings, claim_id=claim.id or 0, form_date=TODAY)
    (text,) = _pages(render_ub04(facts))
    assert "Wiśniewski, Łukasz" in text  # FL8 and FL58, not the 837's "WISNIEWSKI"
    assert "ul. Żółkiewskiego 3" in text and "Łódź" in text  # FL9


def test_ub04_of_a_replacement_claim_shows_bill_type_0137_and_the_original_number(
    session: Session, settings: Settings
) -> None:
    world = make_paper_world(session)
    claim = ub04_claim(
        session,
        world,
        lines=1,
        frequency_code="7",
        original_payer_claim_number="PM2026I0042",
        version=2,
    )
    facts = ub04_form_facts(session, settings=settings, claim_id=claim.id or 0, form_date=TODAY)
    assert (facts.bill_type, facts.document_control_number) == ("0137", "PM2026I0042")
    (text,) = _pages(render_ub04(facts))
    assert "0137" in text and "PM2026I0042" in text  # FL4 and FL64


def test_ub04_with_thirty_lines_continues_on_a_second_page(
    session: Session, settings: Settings
) -> None:
    world = make_paper_world(session)
    claim = ub04_claim(session, world, lines=30)
    facts = ub04_form_facts(session, settings=settings, claim_id=claim.id or 0, form_date=TODAY)
    first, second = _pages(render_ub04(facts))
    assert "PAGE 1 OF 2" in first and "PAGE 2 OF 2" in second
    # Lines 1-22 (100..310) on the first page, 23-30 (320..390) on the second.
    assert "310 00" in first and "320 00" not in first and "390 00" in second
    total = sum((Decimal(100 + 10 * n) for n in range(30)), Decimal(0))
    assert "CONTINUED" in first and "TOTALS" not in first  # FL47 line 23 on the last page
    assert f"TOTALS {int(total)} 00" in second and "CONTINUED" not in second
    assert "PMX55501234" in first and "PMX55501234" in second


def test_ub04_is_refused_for_a_professional_claim(session: Session, settings: Settings) -> None:
    world = make_paper_world(session)
    claim = paper_claim(session, world, lines=1)
    with pytest.raises(ValidationFailed) as refused:
        ub04_form_facts(session, settings=settings, claim_id=claim.id or 0, form_date=TODAY)
    assert refused.value.field == "kind" and "CMS-1500" in str(refused.value)


def test_a_person_s_look_at_an_institutional_claim_is_its_ub04_audited(
    session: Session, settings: Settings
) -> None:
    world = make_paper_world(session)
    claim = ub04_claim(session, world, lines=1)
    make_user(session, "pat.spec", "specialist")
    data = render_claim_form(
        session, settings=settings, claim_id=claim.id or 0, username="pat.spec", form_date=TODAY
    )
    assert "TYPE OF BILL" in _pages(data)[0]
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.action == "claim.ub04_rendered", AuditEvent.claim_id == claim.id
        )
    ).first()
    assert event is not None and event.actor == "pat.spec"


def test_a_paper_payer_s_institutional_claim_is_printed_on_a_ub04_and_sent(
    fresh_settings: Settings,
) -> None:
    settings = fresh_settings
    engine = make_engine(settings)
    upgrade_database(engine)
    store = make_document_store(settings)
    with session_scope(engine) as session:
        world = make_paper_world(session)
        institutional = ub04_claim(session, world, lines=2)
        professional = paper_claim(session, world, lines=1)
        ids = {institutional.id, professional.id}
    run = print_paper_claims(engine, settings, today=TODAY, store=store)
    assert {p.claim_id for p in run.printed} == ids and run.failed_claim_ids == []
    with Session(engine) as session:
        kinds = dict(
            session.exec(
                select(DocumentLink.claim_id, Document.kind).join(
                    Document, col(Document.id) == col(DocumentLink.document_id)
                )
            ).all()
        )
        assert kinds == {institutional.id: "ub04", professional.id: "cms1500"}
        claim = session.get(Claim, institutional.id)
        assert claim is not None and claim.status == "sent"
        document = session.exec(select(Document).where(Document.kind == "ub04")).one()
        text = _pages(store.get(document.storage_key, sha256=document.sha256))[0]
        assert "0131" in text and "0450" in text
    assert print_paper_claims(engine, settings, today=TODAY, store=store).printed == []
    engine.dispose()
