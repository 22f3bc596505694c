"""The CMS-1500 filled from a claim: read back with pypdf, rendered to PNG for a person to see."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from claimdesk.errors import PermissionDenied, ValidationFailed
from claimdesk.paper import render_cms1500
from claimdesk.settings import Settings
from claimdesk.submission.paper import claim_form_facts, render_claim_form
from models import AuditEvent
from tests.factories import make_claim, make_coverage, make_payer
from tests.paper.conftest import TODAY, make_paper_world, make_user, paper_claim


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _png(data: bytes, folder: Path, stem: str) -> list[Path]:
    """Each page as a 150 dpi PNG (pdfium), for a person to look at."""
    folder.mkdir(parents=True, exist_ok=True)
    document = pdfium.PdfDocument(data)
    paths = []
    for index in range(len(document)):
        path = folder / f"{stem}-p{index + 1}.png"
        document[index].render(scale=150 / 72).to_pil().save(path)
        paths.append(path)
    document.close()
    return paths


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path)


def test_cms1500_shows_the_claim_s_values(
    session: Session, settings: Settings, paper_output: Path
) -> None:
    world = make_paper_world(session)
    claim = paper_claim(session, world, lines=3)
    facts = claim_form_facts(session, settings=settings, claim_id=claim.id or 0, form_date=TODAY)
    data = render_cms1500(facts)
    (text,) = _pages(data)
    assert "PMX55501234" in text  # 1a: the insured's id
    assert world.billing_npi in text and world.rendering_npi in text  # 33a and 24J
    assert "PRAIRIE MUTUAL" in text.upper() and "PO BOX 4400" in text  # the carrier block
    for code, charge in (("99213", "100 00"), ("36415", "110 00"), ("85025", "120 00")):
        assert code in text and charge in text
    assert "330 00" in text  # 28: total charge
    assert "E119" in text and "I10" in text  # 21 A and B
    assert "ICD Ind." in text and "SIGNATURE ON FILE" in text
    assert claim.patient_control_number in text  # 26
    assert "123456789" in text  # 25: the practice's EIN
    assert "CONTINUED" not in text and "PAGE 1 OF" not in text
    # The form's own words are there too: it is the 02/12 form.
    assert "HEALTH INSURANCE CLAIM FORM" in text and "FORM 1500 (02-12)" in text
    (png,) = _png(data, paper_output, f"cms1500-{session.get_bind().dialect.name}")
    assert png.stat().st_size > 20_000
    assert render_cms1500(facts) == data  # the same facts give the same bytes


def test_cms1500_of_a_replacement_claim_fills_item_22(session: Session, settings: Settings) -> None:
    world = make_paper_world(session)
    claim = paper_claim(
        session,
        world,
        lines=1,
        frequency_code="7",
        original_payer_claim_number="PM2026X0042",
        version=2,
    )
    facts = claim_form_facts(session, settings=settings, claim_id=claim.id or 0, form_date=TODAY)
    assert (facts.resubmission_code, facts.original_reference) == ("7", "PM2026X0042")
    (text,) = _pages(render_cms1500(facts))
    assert "7 PM2026X0042" in text  # 22: resubmission code, original ref. no.


def test_cms1500_with_eight_lines_continues_on_a_second_page(
    session: Session, settings: Settings, paper_output: Path
) -> None:
    world = make_paper_world(session)
    claim = paper_claim(session, world, lines=8)
    facts = claim_form_facts(session, settings=settings, claim_id=claim.id or 0, form_date=TODAY)
    data = render_cms1500(facts)
    first, second = _pages(data)
    assert "PAGE 1 OF 2" in first and "PAGE 2 OF 2" in second
    # Lines 1-6 (100..150) on the first page, 7-8 (160, 170) on the second; each page totalled.
    assert all(f"{c} 00" in first for c in range(100, 160, 10))
    assert "160 00" not in first and "160 00" in second and "170 00" in second
    assert "PAGE TOTAL 750 00" in first and "PAGE TOTAL 330 00" in second
    assert "CONTINUED" in first and "1080 00" not in first
    assert "1080 00" in second and "CONTINUED" not in second  # 28 on the last page only
    assert "PMX55501234" in first and "PMX55501234" in second  # every page is a whole form
    assert len(_png(data, paper_output, "cms1500-eight-lines")) == 2


def test_cms1500_names_the_other_insured_when_the_patient_has_a_secondary(
    session: Session, settings: Settings
) -> None:
    world = make_paper_world(session)
    secondary = make_payer(session, name="Second Shield")
    make_coverage(session, world.kwargs["patient"], secondary, member_id="SS9001", coverage_order=2)
    claim = paper_claim(session, world, lines=1)
    facts = claim_form_facts(session, settings=settings, claim_id=claim.id or 0, form_date=TODAY)
    assert facts.another_plan and facts.other_insured is not None
    assert facts.other_insured.policy_or_group == "SS9001"
    (text,) = _pages(render_cms1500(facts))
    assert "SS9001" in text and "SECOND SHIELD" in text


def test_cms1500_is_refused_for_an_institutional_claim(
    session: Session, settings: Settings
) -> None:
    claim = make_claim(
        session,
        kind="I",
        facility_type_code="13",
        lines=[
            {
                "procedure_code": "99213",
                "revenue_code": "0450",
                "charge": Decimal("80.00"),
                "diagnosis_pointers": [1],
                "service_date": TODAY,
            }
        ],
        service_from=TODAY,
        service_to=TODAY,
    )
    with pytest.raises(ValidationFailed) as refused:
        claim_form_facts(session, settings=settings, claim_id=claim.id or 0, form_date=TODAY)
    assert refused.value.field == "kind" and "UB-04" in str(refused.value)


def test_rendering_a_form_for_a_person_is_role_checked_and_audited(
    session: Session, settings: Settings
) -> None:
    world = make_paper_world(session)
    claim = paper_claim(session, world, lines=1)
    make_user(session, "pat.spec", "specialist")
    make_user(session, "off.user", "specialist").active = False
    data = render_claim_form(
        session, settings=settings, claim_id=claim.id or 0, username="pat.spec", form_date=TODAY
    )
    assert data.startswith(b"%PDF")
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.action == "claim.cms1500_rendered", AuditEvent.claim_id == claim.id
        )
    ).first()
    assert event is not None and event.actor == "pat.spec"
    with pytest.raises(PermissionDenied):
        render_claim_form(
            session, settings=settings, claim_id=claim.id or 0, username="off.user", form_date=TODAY
        )
