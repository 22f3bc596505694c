"""A payment receipt as a PDF: who paid what, how, and to which visits it was applied."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from fpdf import FPDF
from pydantic import BaseModel, ConfigDict

from claimdesk.billing.statement_pdf import money

_ENCODING = "latin-1"


class ReceiptFacts(BaseModel):
    model_config = ConfigDict(frozen=True)

    receipt_number: str
    received_on: date
    practice_name: str
    patient_name: str
    account_number: str
    method: str
    reference: str | None
    amount: Decimal
    applied: tuple[tuple[str, Decimal], ...]  # (claim number, amount)
    on_account: Decimal


def _text(value: str) -> str:
    return value.encode(_ENCODING, "replace").decode(_ENCODING)


def render_receipt(facts: ReceiptFacts) -> bytes:
    pdf = FPDF(format=(148, 210))  # A5, in millimetres
    pdf.set_title(_text(f"Receipt {facts.receipt_number}"))
    pdf.set_creator("claimdesk")
    day = facts.received_on
    pdf.set_creation_date(datetime(day.year, day.month, day.day, tzinfo=UTC))
    pdf.add_page()

    def line(text: str, *, bold: bool = False, size: int = 10) -> None:
        pdf.set_font("Helvetica", style="B" if bold else "", size=size)
        pdf.multi_cell(0, 5, _text(text), new_x="LMARGIN", new_y="NEXT")

    line(facts.practice_name, bold=True, size=12)
    line(f"RECEIPT {facts.receipt_number}", bold=True)
    line(f"Date {day:%Y-%m-%d}")
    line(f"Received from {facts.patient_name} (account {facts.account_number})")
    method = facts.method + (f" {facts.reference}" if facts.reference else "")
    line(f"Amount {money(facts.amount)} by {method}", bold=True)
    for claim_number, amount in facts.applied:
        line(f"  Applied to claim {claim_number}: {money(amount)}")
    if facts.on_account:
        line(f"  Kept on account: {money(facts.on_account)}")
    line("Thank you.")
    return bytes(pdf.output())
