"""The patient statement as a PDF: practice, patient, each claim with what the payer paid
and what it made the patient's, in the payer's words, the amount due and how to pay.
Pure: facts in, bytes out (fpdf2), the same facts give the same bytes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from fpdf import FPDF
from pydantic import BaseModel, ConfigDict

from claimdesk.pdf_fonts import PdfFont, prepare_fonts

# Patient responsibility as the 835 names it (CARC group PR).
PR_WORDS = {"1": "Deductible (PR-1)", "2": "Coinsurance (PR-2)", "3": "Copay (PR-3)"}


class StatementLineFacts(BaseModel):
    model_config = ConfigDict(frozen=True)

    claim_number: str
    service_date: date
    description: str
    billed: Decimal
    insurance_paid: Decimal
    adjustments: Decimal
    deductible: Decimal
    coinsurance: Decimal
    copay: Decimal
    other_patient: Decimal
    patient_paid: Decimal
    amount_due: Decimal


class StatementFacts(BaseModel):
    model_config = ConfigDict(frozen=True)

    statement_date: date
    statement_number: str
    practice_name: str
    practice_address: tuple[str, ...] = ()
    practice_phone: str = ""
    patient_name: str
    patient_address: tuple[str, ...] = ()
    account_number: str
    lines: tuple[StatementLineFacts, ...]
    amount_due: Decimal
    due_by: date
    how_to_pay: tuple[str, ...]


def _texts(facts: StatementFacts) -> list[str]:
    """Every text the statement prints that comes from the practice's or patient's rows."""
    return [
        facts.practice_name,
        *facts.practice_address,
        facts.practice_phone,
        facts.patient_name,
        *facts.patient_address,
        facts.account_number,
        *facts.how_to_pay,
        *(f"{item.description} {item.claim_number}" for item in facts.lines),
    ]


def money(value: Decimal) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def render_statement(facts: StatementFacts) -> bytes:
    """The statement as PDF bytes."""
    pdf = FPDF(format="Letter")
    # Names and addresses print as written ("Łukasz Wiśniewski", "王小明"): see pdf_fonts.
    font = prepare_fonts(pdf, _texts(facts), styles=("", "B", "I"))
    pdf.set_title(font.text(f"Statement {facts.statement_number}"))
    pdf.set_creator("claimdesk")
    day = facts.statement_date
    pdf.set_creation_date(datetime(day.year, day.month, day.day, tzinfo=UTC))
    pdf.set_margins(15, 15, 15)
    pdf.add_page()

    def line(text: str = "", *, bold: bool = False, size: int = 10) -> None:
        pdf.set_font(font.family, style="B" if bold else "", size=size)
        pdf.multi_cell(0, 5, font.text(text), new_x="LMARGIN", new_y="NEXT")

    line(facts.practice_name, bold=True, size=14)
    for part in facts.practice_address:
        line(part)
    if facts.practice_phone:
        line(f"Phone {facts.practice_phone}")
    line()
    line("PATIENT STATEMENT", bold=True, size=13)
    line(f"Statement {facts.statement_number}    Date {day:%Y-%m-%d}")
    line(f"Account {facts.account_number}")
    line()
    line(facts.patient_name, bold=True)
    for part in facts.patient_address:
        line(part)
    line()
    for item in facts.lines:
        line(
            f"{item.service_date:%Y-%m-%d}  {item.description}  (claim {item.claim_number})",
            bold=True,
        )
        rows = [
            ("Billed", item.billed),
            ("Insurance paid", -item.insurance_paid),
            ("Adjustments (insurance contract)", -item.adjustments),
        ]
        words = [
            (PR_WORDS["1"], item.deductible),
            (PR_WORDS["2"], item.coinsurance),
            (PR_WORDS["3"], item.copay),
            ("Other patient responsibility", item.other_patient),
        ]
        for label, amount in rows:
            _row(pdf, font, label, amount)
        pdf.set_font(font.family, style="I", size=9)
        pdf.cell(0, 5, "Your insurance says you owe:", new_x="LMARGIN", new_y="NEXT")
        for label, amount in words:
            if amount:
                _row(pdf, font, f"  {label}", amount)
        if item.patient_paid:
            _row(pdf, font, "Your payments", -item.patient_paid)
        _row(pdf, font, "Amount due for this visit", item.amount_due, bold=True)
        line()
    pdf.set_draw_color(0)
    pdf.line(15, pdf.get_y(), 200, pdf.get_y())
    line()
    line(f"AMOUNT DUE: {money(facts.amount_due)}", bold=True, size=14)
    line(f"Please pay by {facts.due_by:%Y-%m-%d}.")
    line()
    line("How to pay", bold=True)
    for part in facts.how_to_pay:
        line(part)
    return bytes(pdf.output())


def _row(pdf: FPDF, font: PdfFont, label: str, amount: Decimal, *, bold: bool = False) -> None:
    pdf.set_font(font.family, style="B" if bold else "", size=10)
    pdf.cell(140, 5, font.text(label))
    pdf.cell(0, 5, money(amount), align="R", new_x="LMARGIN", new_y="NEXT")
