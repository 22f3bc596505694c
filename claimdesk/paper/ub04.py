"""The UB-04 (CMS-1450) claim form as a PDF: the form's grid in red, the claim in black.

Like the CMS-1500 (``cms1500.py``): printed on plain paper, form locators and their
headings in the form's red, the data in black. Names and addresses print as written
(``pdf_fonts``: a Unicode face when Latin-1 cannot hold them). Twenty-two revenue lines a
page; a longer claim continues on further pages, line 23 of each page saying which page it
is, the total charges (FL47 line 23) on the last. Pure: facts in, bytes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from fpdf import FPDF

from claimdesk.paper._drawing import INK, FormCanvas, latin1, money, units
from claimdesk.paper.cms1500_facts import FormAddress
from claimdesk.paper.ub04_facts import Ub04Facts, Ub04Line, Ub04Party, Ub04Physician
from claimdesk.pdf_fonts import PdfFont, prepare_fonts

__all__ = ["render_ub04"]

X0, X1 = 8.0, 208.0
DATA_PT = 8.0
LINE_H = 4.0  # one revenue line, one payer row
Y_TOP = 8.0
Y_PATIENT = Y_TOP + 24.0  # FL8, FL9
Y_ADMISSION = Y_PATIENT + 8.0  # FL10-30
Y_OCCURRENCE = Y_ADMISSION + 8.0  # FL31-37
Y_VALUES = Y_OCCURRENCE + 12.0  # FL38-41
Y_LINES = Y_VALUES + 22.0  # FL42-49 headings
Y_PAYERS = Y_LINES + 5.0 + 23 * LINE_H  # FL50-57
Y_INSURED = Y_PAYERS + 17.0  # FL58-62
Y_AUTH = Y_INSURED + 17.0  # FL63-65
Y_DIAG = Y_AUTH + 17.0  # FL66-68
Y_ADMIT_DX = Y_DIAG + 12.0  # FL69-73
Y_PHYS = Y_ADMIT_DX + 8.0  # FL74-81
Y_END = Y_PHYS + 24.0
# FL42-49: left edges; the last column ends at X1.
_LINE_COLS = (
    (X0, "42 REV. CD."),
    (20.0, "43 DESCRIPTION"),
    (80.0, "44 HCPCS / RATE / HIPPS CODE"),
    (118.0, "45 SERV. DATE"),
    (138.0, "46 UNITS"),
    (156.0, "47 TOTAL CHARGES"),
    (182.0, "48 NON-COVERED"),
    (204.0, "49"),
)
_PAYER_COLS = (
    (X0, "50 PAYER NAME"),
    (70.0, "51 HEALTH PLAN ID"),
    (100.0, "52 REL"),
    (108.0, "53 ASG"),
    (116.0, "54 PRIOR PAYMENTS"),
    (142.0, "55 EST. AMOUNT DUE"),
    (168.0, "56 NPI"),
)
_INSURED_COLS = (
    (X0, "58 INSURED'S NAME"),
    (70.0, "59 REL"),
    (78.0, "60 INSURED'S UNIQUE ID"),
    (130.0, "61 GROUP NAME"),
    (170.0, "62 INSURANCE GROUP NO."),
)
_AUTH_COLS = (
    (X0, "63 TREATMENT AUTHORIZATION CODES"),
    (80.0, "64 DOCUMENT CONTROL NUMBER"),
    (150.0, "65 EMPLOYER NAME"),
)
_DX_LETTERS = "ABCDEFGHIJKLMNOPQ"


def _mdy(value: date | None) -> str:
    return value.strftime("%m%d%y") if value else ""


class _Form(FormCanvas):
    """The form's canvas with data drawn in a face that holds the claim's names."""

    def __init__(self, pdf: FPDF, font: PdfFont) -> None:
        super().__init__(pdf)
        self.font = font
        self.family = font.family if font.unicode else "Courier"

    def ink(self, x: float, y: float, text: str, *, size: float = DATA_PT) -> None:
        if not text:
            return
        self.pdf.set_font(self.family, size=size)
        self.pdf.set_text_color(*INK)
        self.pdf.text(x, y, self.font.text(text) if self.font.unicode else latin1(text))

    def ink_right(self, right: float, y: float, text: str) -> None:
        if not text:
            return
        self.pdf.set_font(self.family, size=DATA_PT)
        width = self.pdf.get_string_width(text if self.font.unicode else latin1(text))
        self.ink(right - width, y, text)

    def cell_box(self, x: float, y: float, w: float, h: float, heading: str) -> None:
        self.box(x, y, w, h)
        self.item(x, y, heading)


def _party(form: _Form, x: float, w: float, heading: str, party: Ub04Party | None) -> None:
    form.cell_box(x, Y_TOP, w, Y_PATIENT - Y_TOP, heading)
    if party is None:
        return
    lines = [party.name, *_address_lines(party.address)]
    if party.phone:
        lines.append(f"{party.phone[:3]} {party.phone[3:6]}-{party.phone[6:]}")
    for index, text in enumerate(lines[:4]):
        form.ink(x + 1.5, Y_TOP + 7.0 + index * 4.3, text)


def _address_lines(address: FormAddress | None) -> list[str]:
    if address is None:
        return []
    return [address.street, f"{address.city} {address.state} {address.zip_code}"]


def _top(form: _Form, f: Ub04Facts) -> None:
    _party(form, X0, 70.0, "1", f.provider)
    _party(form, 78.0, 70.0, "2", f.pay_to)
    form.cell_box(148.0, Y_TOP, 42.0, 8.0, "3a PAT. CNTL #")
    form.ink(150.0, Y_TOP + 6.8, f.patient_control_number)
    form.cell_box(148.0, Y_TOP + 8.0, 42.0, 8.0, "b. MED. REC. #")
    form.ink(150.0, Y_TOP + 14.8, f.medical_record_number)
    form.cell_box(190.0, Y_TOP, X1 - 190.0, 16.0, "4 TYPE OF BILL")
    form.ink(192.0, Y_TOP + 10.0, f.bill_type)
    form.cell_box(148.0, Y_TOP + 16.0, 22.0, 8.0, "5 FED. TAX NO.")
    form.ink(149.5, Y_TOP + 22.8, f.federal_tax_id)
    form.cell_box(170.0, Y_TOP + 16.0, X1 - 170.0, 8.0, "6 STATEMENT COVERS PERIOD")
    form.label(172.0, Y_TOP + 19.6, "FROM")
    form.label(190.0, Y_TOP + 19.6, "THROUGH")
    form.ink(172.0, Y_TOP + 22.8, _mdy(f.statement_from))
    form.ink(190.0, Y_TOP + 22.8, _mdy(f.statement_through))
    y = Y_PATIENT
    form.cell_box(X0, y, 70.0, 8.0, "8 PATIENT NAME")
    form.ink(X0 + 1.5, y + 6.8, f.patient_name)
    form.cell_box(78.0, y, X1 - 78.0, 8.0, "9 PATIENT ADDRESS")
    address = f.patient_address
    if address is not None:
        form.ink(80.0, y + 6.8, address.street)
        form.ink(140.0, y + 6.8, address.city)
        form.ink(182.0, y + 6.8, address.state)
        form.ink(190.0, y + 6.8, address.zip_code)


def _admission(form: _Form, f: Ub04Facts) -> None:
    y = Y_ADMISSION
    cells = (
        (X0, 22.0, "10 BIRTHDATE", _mdy(f.patient_birth_date)),
        (30.0, 8.0, "11 SEX", f.patient_sex),
        (38.0, 18.0, "12 ADMISSION", _mdy(f.admission_date)),
        (56.0, 7.0, "13 HR", f.admission_hour),
        (63.0, 7.0, "14 TYPE", f.admission_type),
        (70.0, 7.0, "15 SRC", f.admission_source),
        (77.0, 7.0, "16 DHR", ""),
        (84.0, 8.0, "17 STAT", f.patient_status),
    )
    for x, w, heading, value in cells:
        form.cell_box(x, y, w, 8.0, heading)
        form.ink(x + 1.2, y + 6.8, value)
    form.label(92.8, y + 2.2, "CONDITION CODES")
    for index in range(11):
        x = 92.0 + index * 9.0
        form.box(x, y, 9.0, 8.0)
        form.label(x + 0.8, y + 4.4, str(18 + index))
        if index < len(f.condition_codes):
            form.ink(x + 2.0, y + 7.2, f.condition_codes[index])
    form.cell_box(191.0, y, X1 - 191.0, 8.0, "29 ACDT STATE")


def _occurrences(form: _Form, f: Ub04Facts) -> None:
    y = Y_OCCURRENCE
    for box in range(4):
        x = X0 + box * 26.0
        form.cell_box(x, y, 26.0, 12.0, f"{31 + box} OCCURRENCE")
        for row in range(2):
            index = row * 4 + box  # a-row of FL31-34 first, then the b-row
            if index < len(f.occurrences):
                code, on = f.occurrences[index]
                base = y + 7.0 + row * LINE_H
                form.ink(x + 1.2, base, code)
                form.ink(x + 8.0, base, _mdy(on))
    for box in range(2):
        x = 112.0 + box * 44.0
        form.cell_box(x, y, 44.0, 12.0, f"{35 + box} OCCURRENCE SPAN  CODE  FROM  THROUGH")
        for row in range(2):
            index = row * 2 + box
            if index < len(f.occurrence_spans):
                code, start, end = f.occurrence_spans[index]
                base = y + 7.0 + row * LINE_H
                form.ink(x + 1.2, base, code)
                form.ink(x + 8.0, base, _mdy(start))
                form.ink(x + 26.0, base, _mdy(end))
    form.cell_box(200.0, y, X1 - 200.0, 12.0, "37")


def _values(form: _Form, f: Ub04Facts) -> None:
    y = Y_VALUES
    form.cell_box(X0, y, 96.0, 22.0, "38 RESPONSIBLE PARTY NAME AND ADDRESS")
    for box in range(3):
        x = 104.0 + box * (X1 - 104.0) / 3
        w = (X1 - 104.0) / 3
        form.cell_box(x, y, w, 22.0, f"{39 + box} VALUE CODES  CODE / AMOUNT")
        for row in range(4):
            base = y + 7.5 + row * LINE_H
            form.label(x + 0.8, base, "abcd"[row], size=5)
            index = row * 3 + box
            if index < len(f.value_codes):
                code, amount = f.value_codes[index]
                form.ink(x + 3.5, base, code)
                form.ink_right(x + w - 1.5, base, money(amount))


def _lines(form: _Form, lines: Sequence[Ub04Line], f: Ub04Facts, page: int) -> None:
    y = Y_LINES
    bottom = Y_PAYERS
    for index, (x, heading) in enumerate(_LINE_COLS):
        right = _LINE_COLS[index + 1][0] if index + 1 < len(_LINE_COLS) else X1
        form.box(x, y, right - x, 5.0)
        form.label(x + 0.8, y + 3.4, heading, size=4.6)
        form.rule(x, y, x, bottom)
    form.rule(X1, y, X1, bottom)
    for row in range(23):
        top = y + 5.0 + row * LINE_H
        if row % 2:
            form.shade(X0, top, X1 - X0, LINE_H)
        form.rule(X0, top + LINE_H, X1, top + LINE_H, width=0.1)
        form.label(X0 - 4.5, top + LINE_H - 0.9, str(row + 1), size=5)
    for row, line in enumerate(lines):
        base = y + 5.0 + row * LINE_H + LINE_H - 0.9
        form.ink(X0 + 1.2, base, line.revenue_code)
        form.ink(21.2, base, line.description[:34])
        form.ink(81.2, base, line.hcpcs)
        form.ink(119.2, base, _mdy(line.service_date))
        form.ink_right(155.0, base, units(line.units))
        form.ink_right(181.0, base, money(line.charge))
        if line.non_covered:
            form.ink_right(203.0, base, money(line.non_covered))
    base = y + 5.0 + 22 * LINE_H + LINE_H - 0.9
    form.ink(X0 + 1.2, base, "0001")
    form.ink(21.2, base, f"PAGE {page} OF {f.page_count}")
    form.label(100.0, base, "CREATION DATE", size=5)
    form.ink(119.2, base, _mdy(f.form_date))
    if page == f.page_count:
        form.ink(140.0, base, "TOTALS")
        form.ink_right(181.0, base, money(f.total_charge))
    else:
        form.ink(140.0, base, "CONTINUED", size=6.5)


def _row_table(
    form: _Form, y: float, columns: Sequence[tuple[float, str]], rows: list[list[str]]
) -> None:
    """A headed table of three rows (A, B, C) whose cells are ``rows``' strings."""
    for index, (x, heading) in enumerate(columns):
        right = columns[index + 1][0] if index + 1 < len(columns) else X1
        form.box(x, y, right - x, 17.0)
        form.label(x + 0.8, y + 2.6, heading, size=4.6)
    for row in range(3):
        base = y + 7.5 + row * LINE_H
        form.label(X0 - 4.0, base, "ABC"[row], size=5.5, bold=True)
        cells = rows[row] if row < len(rows) else []
        for (x, _heading), value in zip(columns, cells, strict=False):
            form.ink(x + 1.2, base, value)


def _payers(form: _Form, f: Ub04Facts) -> None:
    def amount(value: Decimal | None) -> str:
        return money(value) if value is not None else ""

    rows = [
        [
            p.payer_name[:30],
            p.health_plan_id,
            p.release,
            p.assignment,
            amount(p.prior_payments),
            amount(p.estimated_due),
            f.billing_npi if i == 0 else "",  # FL56 sits on row A
        ]
        for i, p in enumerate(f.payers)
    ]
    _row_table(form, Y_PAYERS, _PAYER_COLS, rows)
    form.label(168.8, Y_PAYERS + 7.5 + LINE_H, "57 OTHER PRV ID", size=4.6)
    insured = [
        [p.insured_name[:30], p.relationship, p.insured_id, p.group_name[:20], p.group_number]
        for p in f.payers
    ]
    _row_table(form, Y_INSURED, _INSURED_COLS, insured)
    # FL63-64 belong on the row of the payer this claim bills: the last one.
    auth = [["", "", ""] for _ in f.payers]
    auth[-1] = [f.treatment_authorization, f.document_control_number, ""]
    _row_table(form, Y_AUTH, _AUTH_COLS, auth)


def _diagnoses(form: _Form, f: Ub04Facts) -> None:
    y = Y_DIAG
    form.cell_box(X0, y, 6.0, 12.0, "66")
    form.ink(X0 + 1.5, y + 8.0, f.diagnosis_qualifier)
    form.box(14.0, y, X1 - 14.0, 12.0)
    form.label(14.8, y + 2.2, "67 PRINCIPAL DIAGNOSIS AND OTHER DIAGNOSES (A-Q)")
    codes = [f.principal_diagnosis, *f.other_diagnoses]
    width = (X1 - 14.0) / 9
    for index in range(18):
        row, column = divmod(index, 9)
        x = 14.0 + column * width
        base = y + 6.5 + row * LINE_H
        if index:
            form.label(x + 0.5, base, _DX_LETTERS[index - 1], size=5)
        if index < len(codes):
            form.ink(x + 3.0, base, codes[index])
    y = Y_ADMIT_DX
    cells = (
        (X0, 32.0, "69 ADMIT DX", f.admitting_diagnosis),
        (40.0, 50.0, "70 PATIENT REASON DX", ""),
        (90.0, 20.0, "71 PPS CODE", ""),
        (110.0, 40.0, "72 ECI", ""),
        (150.0, X1 - 150.0, "73", ""),
    )
    for x, w, heading, value in cells:
        form.cell_box(x, y, w, 8.0, heading)
        form.ink(x + 1.5, y + 6.8, value)


def _physician(form: _Form, y: float, heading: str, doctor: Ub04Physician | None) -> None:
    form.cell_box(104.0, y, X1 - 104.0, 8.0, heading)
    form.label(105.0, y + 6.6, "NPI", size=5)
    form.label(150.0, y + 3.6, "LAST", size=5)
    form.label(150.0, y + 6.9, "FIRST", size=5)
    if doctor is not None:
        form.ink(110.0, y + 6.8, doctor.npi)
        form.ink(157.0, y + 3.9, doctor.last_name[:28], size=7)
        form.ink(157.0, y + 7.3, doctor.first_name[:28], size=7)


def _bottom(form: _Form, f: Ub04Facts) -> None:
    y = Y_PHYS
    form.cell_box(X0, y, 96.0, 8.0, "74 PRINCIPAL PROCEDURE  CODE / DATE")
    form.cell_box(X0, y + 8.0, 96.0, 16.0, "80 REMARKS")
    form.ink(X0 + 1.5, y + 14.0, f.remarks[:60])
    _physician(form, y, "76 ATTENDING", f.attending)
    _physician(form, y + 8.0, "77 OPERATING", f.operating)
    _physician(form, y + 16.0, "78 OTHER", f.other_physician)
    form.label(X0, Y_END + 3.0, "UB-04 CMS-1450", size=6, bold=True)
    form.label(X0 + 24.0, Y_END + 3.0, "APPROVED OMB NO. 0938-0997", size=5.5)
    form.label(X0, Y_END + 3.0, "NUBC  National Uniform Billing Committee", size=5.5, right=X1)


def render_ub04(facts: Ub04Facts) -> bytes:
    """The filled UB-04 as PDF bytes: one page per twenty-two revenue lines."""
    pdf = FPDF(orientation="portrait", unit="mm", format="Letter")
    pdf.set_title(latin1(f"UB-04 claim {facts.patient_control_number}"))
    pdf.set_creator("claimdesk")
    day = facts.form_date  # not the wall clock: the same facts give the same bytes
    pdf.set_creation_date(datetime(day.year, day.month, day.day, tzinfo=UTC))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    form = _Form(pdf, prepare_fonts(pdf, facts.texts(), styles=("",)))
    for page in range(1, facts.page_count + 1):
        pdf.add_page()
        _top(form, facts)
        _admission(form, facts)
        _occurrences(form, facts)
        _values(form, facts)
        _lines(form, facts.page_lines(page), facts, page)
        _payers(form, facts)
        _diagnoses(form, facts)
        _bottom(form, facts)
    return bytes(pdf.output())
