"""The appeal letter as a PDF: payer, claim facts, the denial in the payer's words and in
plain English, the argument, and the enclosures. Pure: facts in, bytes out (fpdf2).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class DeniedCode(BaseModel):
    model_config = ConfigDict(frozen=True)

    group: str
    carc: str
    payer_words: str
    plain_english: str
    remarks: tuple[tuple[str, str], ...] = ()  # (RARC, its text)


class Enclosure(BaseModel):
    model_config = ConfigDict(frozen=True)

    document_id: int
    kind: str


class AppealLetterFacts(BaseModel):
    model_config = ConfigDict(frozen=True)

    letter_date: date
    practice_name: str
    practice_npi: str
    payer_name: str
    payer_address: tuple[str, ...] = ()
    appeal_level: int
    level_name: str
    deadline: date
    patient_name: str
    member_id: str
    patient_control_number: str
    payer_claim_number: str
    service_from: date
    service_to: date
    billed: Decimal
    denied_amount: Decimal
    notice_date: date
    denial: DeniedCode
    argument: str
    enclosures: tuple[Enclosure, ...] = ()


def render_appeal_letter(facts: AppealLetterFacts) -> bytes:
    """The letter as PDF bytes."""
    # fpdf (and the font search) load only when a letter is drawn: a flow run that
    # merely walks a denial should not pay for them at start.
    from fpdf import FPDF

    from claimdesk.pdf_fonts import prepare_fonts

    pdf = FPDF(format="Letter")
    # The patient's name as written ("Wiśniewski"): a Unicode font when Latin-1 falls short.
    denial = facts.denial
    written = (facts.practice_name, facts.payer_name, *facts.payer_address, facts.patient_name)
    said = (denial.payer_words, denial.plain_english, *(w for _, w in denial.remarks))
    font = prepare_fonts(pdf, (*written, facts.member_id, *said, facts.argument), styles=("", "B"))
    pdf.set_title(
        font.text(f"Appeal of claim {facts.payer_claim_number or facts.patient_control_number}")
    )
    pdf.set_creator("claimdesk")
    # The letter date, not the wall clock: the same facts give the same bytes.
    pdf.set_creation_date(
        datetime(facts.letter_date.year, facts.letter_date.month, facts.letter_date.day, tzinfo=UTC)
    )
    pdf.add_page()
    pdf.set_margins(20, 20, 20)
    pdf.set_font(font.family, size=11)

    def line(text: str = "", *, bold: bool = False, size: int = 11) -> None:
        pdf.set_font(font.family, style="B" if bold else "", size=size)
        pdf.multi_cell(0, 6, font.text(text), new_x="LMARGIN", new_y="NEXT")

    line(facts.practice_name, bold=True)
    line(f"NPI {facts.practice_npi}")
    line()
    line(facts.letter_date.strftime("%B %d, %Y").replace(" 0", " "))
    line()
    line(facts.payer_name, bold=True)
    for address_line in facts.payer_address:
        line(address_line)
    line()
    line(
        f"Request for {facts.level_name.replace('_', ' ')} (appeal level {facts.appeal_level})",
        bold=True,
        size=13,
    )
    line(f"Please file by: {facts.deadline:%Y-%m-%d}")
    line()
    line("Claim", bold=True)
    line(f"Patient: {facts.patient_name}    Member ID: {facts.member_id}")
    line(f"Payer claim number: {facts.payer_claim_number}")
    line(f"Our claim number: {facts.patient_control_number}")
    line(f"Dates of service: {facts.service_from:%Y-%m-%d} to {facts.service_to:%Y-%m-%d}")
    line(f"Billed: ${facts.billed:,.2f}    Denied: ${facts.denied_amount:,.2f}")
    line(f"Date of the notice: {facts.notice_date:%Y-%m-%d}")
    line()
    line("The denial", bold=True)
    line(f"{denial.group}-{denial.carc}: {denial.payer_words}")
    for code, words in denial.remarks:
        line(f"{code}: {words}")
    line(f"In plain English: {denial.plain_english}")
    line()
    line("Why the claim should be paid", bold=True)
    line(facts.argument)
    line()
    line("Enclosures", bold=True)
    if facts.enclosures:
        for number, enclosure in enumerate(facts.enclosures, start=1):
            line(f"{number}. {enclosure.kind.replace('_', ' ')} (document {enclosure.document_id})")
    else:
        line("None.")
    line()
    line("Sincerely,")
    line(facts.practice_name)
    return bytes(pdf.output())
