"""The appeal letter PDF, read back as text."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from pypdf import PdfReader

from claimdesk.denials.letter import AppealLetterFacts, DeniedCode, Enclosure, render_appeal_letter
from claimdesk.pdf_fonts import unicode_family

FACTS = AppealLetterFacts(
    letter_date=date(2026, 11, 7),
    practice_name="Jones Clinic",
    practice_npi="1234567893",
    payer_name="Acme Health",
    payer_address=("100 Payer Plaza", "Harrisburg PA 17101"),
    appeal_level=1,
    level_name="redetermination",
    deadline=date(2027, 3, 7),
    patient_name="Zoë Doe",
    member_id="M123",
    patient_control_number="PCN1",
    payer_claim_number="PCLM1",
    service_from=date(2026, 10, 1),
    service_to=date(2026, 10, 1),
    billed=Decimal("1200.00"),
    denied_amount=Decimal("1200.00"),
    notice_date=date(2026, 11, 2),
    denial=DeniedCode(
        group="CO",
        carc="50",
        payer_words="These are non-covered services: not deemed a medical necessity.",
        plain_english="The payer judged the service not medically necessary.",
        remarks=(("N130", "Consult plan benefit documents."),),
    ),
    argument="The MRI followed six weeks of failed therapy → see the notes.",
    enclosures=(Enclosure(document_id=7, kind="medical_records"),),
)


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_render_appeal_letter_carries_claim_denial_argument_and_enclosures() -> None:
    text = _text(render_appeal_letter(FACTS))
    assert "Acme Health" in text and "100 Payer Plaza" in text
    assert "Request for redetermination (appeal level 1)" in text
    assert "Zoë Doe" in text and "PCLM1" in text and "$1,200.00" in text
    assert "CO-50: These are non-covered services" in text
    assert "N130: Consult plan benefit documents." in text
    assert "In plain English: The payer judged the service not medically necessary." in text
    # Beyond Latin-1: drawn as written in a Unicode font, "?" only where none is installed.
    arrow = "→" if unicode_family() is not None else "?"
    assert f"six weeks of failed therapy {arrow} see the notes" in text
    assert "1. medical records (document 7)" in text


def test_render_appeal_letter_is_the_same_bytes_for_the_same_facts() -> None:
    assert render_appeal_letter(FACTS) == render_appeal_letter(FACTS)
