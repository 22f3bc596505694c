"""The CMS-1500 (02/12) claim form as a PDF: the form's grid in red, the claim in black.

Printed on plain paper, like a form a practice management system prints: the
boxes, item numbers and labels drawn in the form's red, the data in a
monospaced black face on the form's 10-per-inch grid. Six service lines a
page; a longer claim continues on further pages, each page with its own lines
and page total (item 19), the claim's total charge (item 28) on the last page.
Pure: facts in, bytes out (fpdf2); the same facts give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from fpdf import FPDF

from claimdesk.paper._drawing import LABEL_PT, ROW, FormCanvas, latin1, mdy, money, units
from claimdesk.paper.cms1500_facts import (
    Cms1500Facts,
    FormAddress,
    FormLine,
    ProviderBlock,
)

__all__ = ["render_cms1500"]

# The grid (mm on a Letter page): the form's outer edges and its three columns.
X0, X1 = 8.0, 204.0
XM, XR = 82.0, 134.0
Y_ITEM1 = 34.0
Y_SIGN = Y_ITEM1 + 10 * ROW  # items 12 and 13
Y_PHYS = Y_SIGN + 13.0  # item 14: the physician or supplier half begins
Y_DIAG = Y_PHYS + 3 * ROW  # items 21-23
Y_24 = Y_DIAG + 17.0  # item 24's column headings
Y_LINES = Y_24 + 9.5
LINE_H = 8.5
Y_25 = Y_LINES + 6 * LINE_H
Y_31 = Y_25 + ROW
Y_END = Y_31 + 21.5
# Item 24's columns: left edge and heading lines; the last column ends at X1.
_COLS_24: tuple[tuple[float, tuple[str, ...]], ...] = (
    (X0, ("24. A.   DATE(S) OF SERVICE",)),
    (44.0, ("B.", "PLACE OF", "SERVICE")),
    (53.0, ("C.", "", "EMG")),
    (58.0, ("D. PROCEDURES, SERVICES, OR SUPPLIES", "(Explain Unusual Circumstances)")),
    (110.0, ("E.", "DIAGNOSIS", "POINTER")),
    (124.0, ("F.", "", "$ CHARGES")),
    (146.0, ("G.", "DAYS OR", "UNITS")),
    (155.0, ("H.", "EPSDT", "Family", "Plan")),
    (163.0, ("I.", "ID.", "QUAL.")),
    (171.0, ("J.", "RENDERING", "PROVIDER ID. #")),
)
# Item 24F: dollars left of this line, cents right (items 28 and 29 have their own).
_CENTS_DIVIDER = 140.0
# The form's printed wording, where it is too long for one line of code.
_READ_BACK = "READ BACK OF FORM BEFORE COMPLETING & SIGNING THIS FORM."
_ITEM_12 = (
    "12. PATIENT'S OR AUTHORIZED PERSON'S SIGNATURE  I authorize the release of any medical "
    "or other information necessary",
    "to process this claim. I also request payment of government benefits either to myself "
    "or to the party who accepts assignment below.",
)
_ITEM_13 = (
    "13. INSURED'S OR AUTHORIZED PERSON'S SIGNATURE  I authorize",
    "payment of medical benefits to the undersigned physician or supplier for",
    "services described below.",
)
_ITEM_21 = "21. DIAGNOSIS OR NATURE OF ILLNESS OR INJURY  Relate A-L to service line below (24E)"
# Item 1's seven boxes, from the form's left edge (mm): each wide enough for its caption.
_ITEM1_OFFSETS = (1.0, 17.0, 33.0, 49.0, 67.0, 91.0, 112.0)


def _address_rows(
    form: FormCanvas,
    x: float,
    y: float,
    w: float,
    split: float,
    address: FormAddress | None,
    *,
    telephone: str = "",
) -> None:
    """Items 5 and 7: street, city | state, zip | telephone."""
    form.box(x, y, w, ROW)
    form.box(x, y + ROW, split - x, ROW)
    form.box(split, y + ROW, x + w - split, ROW)
    zip_split = x + 32.0
    form.box(x, y + 2 * ROW, zip_split - x, ROW)
    form.box(zip_split, y + 2 * ROW, x + w - zip_split, ROW)
    form.item(x, y + ROW, "CITY")
    form.item(split, y + ROW, "STATE")
    form.item(x, y + 2 * ROW, "ZIP CODE")
    form.item(zip_split, y + 2 * ROW, "TELEPHONE (Include Area Code)")
    form.label(zip_split + 2, y + 3 * ROW - 2.0, "(          )", size=7)
    if address is not None:
        form.field(x, y, address.street[:34])
        form.field(x, y + ROW, address.city[:28])
        form.field(split, y + ROW, address.state)
        form.field(x, y + 2 * ROW, address.zip_code)
    if telephone:
        form.data(zip_split + 3.2, y + 3 * ROW - 1.8, f"{telephone[:3]}  {telephone[3:]}")


def _date_captions(form: FormCanvas, x: float, y: float) -> None:
    """MM DD YY over a date printed at ``x + 1.5`` on the box's data line."""
    for offset, caption in ((2.2, "MM"), (8.2, "DD"), (15.0, "YY")):
        form.label(x + offset, y + 4.4, caption, size=4.6)


def _header(form: FormCanvas, facts: Cms1500Facts, page: int) -> None:
    pdf = form.pdf
    form.label(X0, 15.5, "1500", size=22, bold=True)
    form.label(X0, 23.0, "HEALTH INSURANCE CLAIM FORM", size=11, bold=True)
    form.label(X0, 26.5, "APPROVED BY NATIONAL UNIFORM CLAIM COMMITTEE (NUCC) 02/12", size=5.5)
    # Carrier block: the payer's name and mailing address, where a window envelope shows it.
    for offset, line in enumerate((facts.payer_name, *facts.payer_address)[:4]):
        form.data(112.0, 11.0 + offset * 4.3, line[:38])
    form.label(X0, Y_ITEM1 - 1.2, "PICA", size=6, bold=True)
    form.box(X0 + 6.5, Y_ITEM1 - 3.6, 3.0, 3.0)
    form.label(X1 - 14.0, Y_ITEM1 - 1.2, "PICA", size=6, bold=True)
    form.box(X1 - 7.0, Y_ITEM1 - 3.6, 3.0, 3.0)
    with pdf.rotation(-90, X1 + 2.2, 9.0):
        form.label(X1 + 2.2, 9.0, "CARRIER", size=6, bold=True)
    with pdf.rotation(-90, X1 + 2.2, Y_ITEM1 + 22):
        form.label(X1 + 2.2, Y_ITEM1 + 22, "PATIENT AND INSURED INFORMATION", size=6, bold=True)
    with pdf.rotation(-90, X1 + 2.2, Y_PHYS + 40):
        form.label(X1 + 2.2, Y_PHYS + 40, "PHYSICIAN OR SUPPLIER INFORMATION", size=6, bold=True)
    if facts.page_count > 1:
        form.data(X0 + 90.0, 30.0, f"PAGE {page} OF {facts.page_count}")


def _patient_half(form: FormCanvas, f: Cms1500Facts) -> None:
    y = Y_ITEM1
    # Item 1 and 1a.
    form.box(X0, y, XR - X0, ROW)
    form.box(XR, y, X1 - XR, ROW)
    programs = (
        ("medicare", "1. MEDICARE", "(Medicare#)"),
        ("medicaid", "MEDICAID", "(Medicaid#)"),
        ("tricare", "TRICARE", "(ID#/DoD#)"),
        ("champva", "CHAMPVA", "(Member ID#)"),
        ("group", "GROUP HEALTH PLAN", "(ID#)"),
        ("feca", "FECA BLK LUNG", "(ID#)"),
        ("other", "OTHER", "(ID#)"),
    )
    for offset, (kind, name, caption) in zip(_ITEM1_OFFSETS, programs, strict=True):
        x = X0 + offset
        form.label(x, y + 2.3, name, size=4.8)
        form.checkbox(x, y + 3.8, f.insurance_type == kind, caption)
    form.item(XR, y, "1a. INSURED'S I.D. NUMBER")
    form.label(XR, y + 2.2, "(For Program in Item 1)", right=X1 - 1)
    form.field(XR, y, f.insured_id)
    y += ROW
    # Items 2, 3, 4.
    form.box(X0, y, XM - X0, ROW)
    form.box(XM, y, XR - XM, ROW)
    form.box(XR, y, X1 - XR, ROW)
    form.item(X0, y, "2. PATIENT'S NAME (Last Name, First Name, Middle Initial)")
    form.field(X0, y, f.patient_name[:34])
    form.item(XM, y, "3. PATIENT'S BIRTH DATE")
    _date_captions(form, XM, y)
    form.data(XM + 1.5, y + ROW - 1.8, mdy(f.patient_birth_date, year_digits=4))
    form.label(XM + 36.0, y + 2.2, "SEX")
    form.checkbox(XM + 33.0, y + 4.2, f.patient_sex == "M", "M")
    form.checkbox(XM + 42.0, y + 4.2, f.patient_sex == "F", "F")
    form.item(XR, y, "4. INSURED'S NAME (Last Name, First Name, Middle Initial)")
    form.field(XR, y, f.insured_name[:32])
    y += ROW
    # Items 5, 6, 7 and 8.
    _address_rows(form, X0, y, XM - X0, XM - 12.0, f.patient_address)
    form.item(X0, y, "5. PATIENT'S ADDRESS (No., Street)")
    form.box(XM, y, XR - XM, ROW)
    form.item(XM, y, "6. PATIENT RELATIONSHIP TO INSURED")
    for index, kind in enumerate(("self", "spouse", "child", "other")):
        form.checkbox(XM + 1.5 + index * 12.5, y + 4.2, f.relationship == kind, kind.title())
    form.box(XM, y + ROW, XR - XM, 2 * ROW)
    form.item(XM, y + ROW, "8. RESERVED FOR NUCC USE")
    _address_rows(form, XR, y, X1 - XR, X1 - 14.0, f.insured_address)
    form.item(XR, y, "7. INSURED'S ADDRESS (No., Street)")
    y += 3 * ROW
    # Items 9, 10, 11 with their a-d rows.
    other = f.other_insured
    left = (
        ("9. OTHER INSURED'S NAME (Last Name, First Name, Middle Initial)", other and other.name),
        ("a. OTHER INSURED'S POLICY OR GROUP NUMBER", other and other.policy_or_group),
        ("b. RESERVED FOR NUCC USE", ""),
        ("c. RESERVED FOR NUCC USE", ""),
        ("d. INSURANCE PLAN NAME OR PROGRAM NAME", other and other.plan_name),
    )
    for index, (heading, value) in enumerate(left):
        row_y = y + index * ROW
        form.box(X0, row_y, XM - X0, ROW)
        form.item(X0, row_y, heading)
        form.field(X0, row_y, (value or "")[:34])
        form.box(XM, row_y, XR - XM, ROW)
        form.box(XR, row_y, X1 - XR, ROW)
    form.item(XM, y, "10. IS PATIENT'S CONDITION RELATED TO:")
    questions = (
        ("a. EMPLOYMENT? (Current or Previous)", f.employment_related),
        ("b. AUTO ACCIDENT?", f.auto_accident),
        ("c. OTHER ACCIDENT?", f.other_accident),
    )
    for index, (heading, answer) in enumerate(questions, start=1):
        row_y = y + index * ROW
        form.item(XM, row_y, heading)
        form.checkbox(XM + 8.0, row_y + 4.2, answer, "YES")
        form.checkbox(XM + 22.0, row_y + 4.2, not answer, "NO")
    form.label(XM + 35.0, y + 2 * ROW + 2.2, "PLACE (State)")
    form.data(XM + 40.0, y + 3 * ROW - 1.8, f.auto_accident_state)
    form.item(XM, y + 4 * ROW, "10d. CLAIM CODES (Designated by NUCC)")
    form.item(XR, y, "11. INSURED'S POLICY GROUP OR FECA NUMBER")
    form.field(XR, y, f.insured_group_number[:32])
    form.item(XR, y + ROW, "a. INSURED'S DATE OF BIRTH")
    _date_captions(form, XR, y + ROW)
    form.data(XR + 1.5, y + 2 * ROW - 1.8, mdy(f.insured_birth_date, year_digits=4))
    form.label(XR + 45.0, y + ROW + 2.2, "SEX")
    form.checkbox(XR + 42.0, y + ROW + 4.2, f.insured_sex == "M", "M")
    form.checkbox(XR + 54.0, y + ROW + 4.2, f.insured_sex == "F", "F")
    form.item(XR, y + 2 * ROW, "b. OTHER CLAIM ID (Designated by NUCC)")
    form.item(XR, y + 3 * ROW, "c. INSURANCE PLAN NAME OR PROGRAM NAME")
    form.field(XR, y + 3 * ROW, f.insured_plan_name[:32])
    form.item(XR, y + 4 * ROW, "d. IS THERE ANOTHER HEALTH BENEFIT PLAN?")
    form.checkbox(XR + 1.5, y + 4 * ROW + 4.2, f.another_plan, "YES")
    form.checkbox(XR + 13.0, y + 4 * ROW + 4.2, not f.another_plan, "NO")
    form.label(XR + 23.0, y + 4 * ROW + 6.6, "If yes, complete items 9, 9a, and 9d.", size=4.8)
    _signatures(form, f)


def _signatures(form: FormCanvas, f: Cms1500Facts) -> None:
    y, h = Y_SIGN, Y_PHYS - Y_SIGN
    form.box(X0, y, XR - X0, h)
    form.box(XR, y, X1 - XR, h)
    form.label(X0 + 22.0, y + 2.4, _READ_BACK, size=5.8, bold=True)
    for index, text in enumerate(_ITEM_12):
        form.label(X0 + 0.8, y + 4.8 + index * 2.0, text)
    form.label(X0 + 0.8, y + h - 1.8, "SIGNED", size=6, bold=True)
    form.rule(X0 + 10.0, y + h - 1.2, X0 + 80.0, y + h - 1.2, width=0.15)
    form.label(X0 + 82.0, y + h - 1.8, "DATE", size=6, bold=True)
    form.rule(X0 + 89.0, y + h - 1.2, XR - 3.0, y + h - 1.2, width=0.15)
    form.data(X0 + 12.0, y + h - 1.9, f.patient_signature)
    for index, text in enumerate(_ITEM_13):
        form.label(XR + 0.8, y + 2.4 + index * 2.0, text)
    form.label(XR + 0.8, y + h - 1.8, "SIGNED", size=6, bold=True)
    form.rule(XR + 10.0, y + h - 1.2, X1 - 3.0, y + h - 1.2, width=0.15)
    form.data(XR + 12.0, y + h - 1.9, f.insured_signature)
    form.rule(X0, Y_PHYS, X1, Y_PHYS, width=0.6)


def _physician_top(form: FormCanvas, f: Cms1500Facts) -> None:
    y = Y_PHYS
    form.box(X0, y, XM - X0, ROW)
    form.box(XM, y, XR - XM, ROW)
    form.box(XR, y, X1 - XR, ROW)
    form.item(X0, y, "14. DATE OF CURRENT ILLNESS, INJURY, or PREGNANCY (LMP)")
    _date_captions(form, X0, y)
    form.label(X0 + 40.0, y + ROW - 1.8, "QUAL.")
    form.item(XM, y, "15. OTHER DATE")
    form.label(XM + 1.0, y + ROW - 1.8, "QUAL.")
    _date_captions(form, XM + 18.0, y)
    form.item(XR, y, "16. DATES PATIENT UNABLE TO WORK IN CURRENT OCCUPATION")
    form.label(XR + 1.0, y + ROW - 1.8, "FROM")
    form.label(XR + 36.0, y + ROW - 1.8, "TO")
    y += ROW
    form.box(X0, y, XM - X0, ROW)
    form.box(XM, y, XR - XM, ROW / 2, fill=True)
    form.box(XM, y + ROW / 2, XR - XM, ROW / 2)
    form.box(XR, y, X1 - XR, ROW)
    form.item(X0, y, "17. NAME OF REFERRING PROVIDER OR OTHER SOURCE")
    form.label(XM + 0.8, y + 3.0, "17a.")
    form.label(XM + 0.8, y + ROW - 1.2, "17b.  NPI")
    referring = f.referring_provider
    if referring is not None:
        form.data(X0 + 1.5, y + ROW - 1.8, f"{f.referring_qualifier} {referring.name}"[:34])
        form.data(XM + 16.0, y + ROW - 0.9, referring.npi)
        form.data(XM + 8.0, y + 3.6, referring.other_id)
    form.item(XR, y, "18. HOSPITALIZATION DATES RELATED TO CURRENT SERVICES")
    form.label(XR + 1.0, y + ROW - 1.8, "FROM")
    form.label(XR + 36.0, y + ROW - 1.8, "TO")
    y += ROW
    form.box(X0, y, XR - X0, ROW)
    form.box(XR, y, X1 - XR, ROW)
    form.item(X0, y, "19. ADDITIONAL CLAIM INFORMATION (Designated by NUCC)")
    form.field(X0, y, f.additional_information[:60])
    form.item(XR, y, "20. OUTSIDE LAB?")
    form.label(XR + 40.0, y + 2.2, "$ CHARGES")
    form.checkbox(XR + 1.5, y + 4.2, False, "YES")
    form.checkbox(XR + 13.0, y + 4.2, True, "NO")
    _diagnoses(form, f)


def _diagnoses(form: FormCanvas, f: Cms1500Facts) -> None:
    y, h = Y_DIAG, Y_24 - Y_DIAG
    form.box(X0, y, XR - X0, h)
    form.item(X0, y, _ITEM_21)
    form.label(X0 + 96.0, y + 2.2, "ICD Ind.")
    form.box(X0 + 105.0, y + 0.6, 5.0, 3.4)
    form.data(X0 + 106.5, y + 3.5, f.icd_indicator)
    for index in range(12):
        row, column = divmod(index, 4)
        x = X0 + 1.5 + column * 31.0
        base = y + 8.2 + row * 4.2
        form.label(x, base, f"{'ABCDEFGHIJKL'[index]}.", size=6)
        form.rule(x + 3.0, base + 0.6, x + 27.0, base + 0.6, width=0.15)
        if index < len(f.diagnoses):
            form.data(x + 4.0, base, f.diagnoses[index])
    form.box(XR, y, X1 - XR, h / 2)
    form.box(XR, y + h / 2, X1 - XR, h / 2)
    form.item(XR, y, "22. RESUBMISSION")
    form.label(XR + 0.8, y + 4.2, "CODE")
    form.label(XR + 26.0, y + 2.2, "ORIGINAL REF. NO.")
    form.rule(XR + 24.0, y + 3.2, XR + 24.0, y + h / 2)
    form.data(XR + 8.0, y + h / 2 - 1.6, f.resubmission_code)
    form.data(XR + 26.0, y + h / 2 - 1.6, f.original_reference[:20])
    form.item(XR, y + h / 2, "23. PRIOR AUTHORIZATION NUMBER")
    form.field(XR, y + h / 2, f.prior_authorization[:30], h=h / 2)


def _service_lines(form: FormCanvas, lines: Sequence[FormLine]) -> None:
    y = Y_24
    form.box(X0, y, X1 - X0, Y_LINES - y)
    for x, heading in _COLS_24:
        form.rule(x, y, x, Y_25)
        for row, text in enumerate(heading):
            form.label(x + 0.8, y + 2.2 + row * 2.35, text, size=LABEL_PT if row == 0 else 4.3)
    for x in (X0 + 0.6, X0 + 18.6):
        form.label(x + 0.4, y + 4.9, "From" if x < X0 + 18 else "To", size=4.3)
        for offset, caption in ((0.6, "MM"), (6.6, "DD"), (12.6, "YY")):
            form.label(x + offset, y + 7.6, caption, size=4.3)
    form.label(58.8, y + 7.6, "CPT/HCPCS", size=4.3)
    form.label(76.5, y + 7.6, "MODIFIER", size=4.3)
    for index in range(6):
        top = Y_LINES + index * LINE_H
        form.shade(X0, top, X1 - X0, LINE_H / 2)
        form.rule(X0, top, X1, top)
        form.dotted(X0, top + LINE_H / 2, X1, top + LINE_H / 2)
        form.label(X0 - 4.0, top + LINE_H - 1.6, str(index + 1), size=8, bold=True)
        form.label(163.8, top + LINE_H - 1.4, "NPI", size=5.5)
        dividers = (X0 + 6.0, X0 + 12.0, X0 + 18.0, X0 + 24.0, X0 + 30.0, _CENTS_DIVIDER)
        for x in (*dividers, 75.0, 83.75, 92.5, 101.25):
            form.dotted(x, top + LINE_H / 2, x, top + LINE_H)
    form.rule(X1, Y_24, X1, Y_25)
    for index, line in enumerate(lines):
        base = Y_LINES + index * LINE_H + LINE_H - 1.6
        form.data(X0 + 0.6, base, mdy(line.from_date))
        form.data(X0 + 18.6, base, mdy(line.to_date))
        form.data(45.5, base, line.place_of_service)
        form.data(54.5, base, "Y" if line.emergency else "")
        form.data(59.0, base, line.procedure)
        for position, modifier in enumerate(line.modifiers[:4]):
            form.data(76.5 + position * 8.75, base, modifier)
        form.data(111.5, base, line.pointers)
        form.amount(base, line.charge, divider=_CENTS_DIVIDER)
        form.data_right(154.0, base, units(line.units))
        form.data(173.0, base, line.rendering_npi)


def _physician_bottom(form: FormCanvas, f: Cms1500Facts, *, last: bool) -> None:
    y = Y_25
    cells = (
        (X0, 62.0, "25. FEDERAL TAX I.D. NUMBER"),
        (62.0, 100.0, "26. PATIENT'S ACCOUNT NO."),
        (100.0, XR, "27. ACCEPT ASSIGNMENT?"),
        (XR, 160.0, "28. TOTAL CHARGE"),
        (160.0, 184.0, "29. AMOUNT PAID"),
        (184.0, X1, "30. Rsvd for NUCC Use"),  # drawn smaller below: a narrow box
    )
    for left, right, heading in cells:
        form.box(left, y, right - left, ROW)
        form.item(left, y, heading, size=LABEL_PT if left < 184.0 else 4.4)
    form.label(X0 + 38.0, y + 2.2, "SSN   EIN")
    form.checkbox(X0 + 38.5, y + 3.6, f.tax_id_kind == "SSN")
    form.checkbox(X0 + 44.5, y + 3.6, f.tax_id_kind == "EIN")
    form.field(X0, y, f.tax_id)
    form.field(62.0, y, f.patient_account_number[:17])
    form.label(100.8, y + 4.0, "(For govt. claims, see back)", size=4.4)
    form.checkbox(101.5, y + 5.0, f.accept_assignment, "YES")
    form.checkbox(115.0, y + 5.0, not f.accept_assignment, "NO")
    form.label(XR + 1.0, y + ROW - 1.8, "$", size=7)
    form.label(160.8, y + ROW - 1.8, "$", size=7)
    form.dotted(153.0, y + 3.0, 153.0, y + ROW)
    form.dotted(178.0, y + 3.0, 178.0, y + ROW)
    base = y + ROW - 1.8
    if last:
        form.amount(base, f.total_charge, divider=153.0)
        if f.amount_paid is not None:
            form.amount(base, f.amount_paid, divider=178.0)
    else:
        form.data(XR + 3.5, base, "CONTINUED", size=7)
    y += ROW
    h = Y_END - y
    form.box(X0, y, 62.0 - X0, h)
    form.label(X0 + 0.8, y + 2.2, "31. SIGNATURE OF PHYSICIAN OR SUPPLIER")
    form.label(X0 + 0.8, y + 4.2, "INCLUDING DEGREES OR CREDENTIALS")
    form.label(X0 + 0.8, y + 6.2, "(I certify that the statements on the reverse", size=4.8)
    form.label(X0 + 0.8, y + 8.0, "apply to this bill and are made a part thereof.)", size=4.8)
    form.data(X0 + 1.5, y + 13.0, f.physician_signature)
    form.label(X0 + 0.8, y + h - 1.8, "SIGNED", size=5.5, bold=True)
    form.label(X0 + 32.0, y + h - 1.8, "DATE", size=5.5, bold=True)
    form.data(X0 + 38.0, y + h - 1.8, f.form_date.strftime("%m %d %y"))
    _provider_box(
        form, 62.0, XR, y, h, "32. SERVICE FACILITY LOCATION INFORMATION", f.service_facility
    )
    _provider_box(form, XR, X1, y, h, "33. BILLING PROVIDER INFO & PH #", f.billing_provider)
    form.label(XR + 42.0, y + 2.2, "(          )", size=7)
    if f.billing_provider.phone:
        phone = f.billing_provider.phone
        form.data(XR + 43.3, y + 2.7, f"{phone[:3]}  {phone[3:6]}-{phone[6:]}", size=8)


def _provider_box(
    form: FormCanvas,
    left: float,
    right: float,
    y: float,
    h: float,
    heading: str,
    block: ProviderBlock | None,
) -> None:
    form.box(left, y, right - left, h)
    form.label(left + 0.8, y + 2.2, heading)
    sub = y + h - 5.0
    middle = left + (right - left) * 0.45
    form.box(left, sub, middle - left, 5.0)
    form.box(middle, sub, right - middle, 5.0, fill=True)
    form.label(left + 0.8, sub + 2.0, "a.", size=5.5)
    form.label(left + 3.5, sub + 2.0, "NPI", size=5.5)
    form.label(middle + 0.8, sub + 2.0, "b.", size=5.5)
    if block is None:
        return
    lines = [block.name]
    if block.address is not None:
        a = block.address
        lines += [a.street, f"{a.city} {a.state} {a.zip_code}"]
    for index, text in enumerate(lines):
        form.data(left + 1.5, y + 6.2 + index * 3.9, text[:34], size=8.5)
    form.data(left + 9.0, sub + 4.3, block.npi, size=8.5)
    form.data(middle + 4.0, sub + 4.3, block.other_id, size=8.5)


def _footer(form: FormCanvas) -> None:
    base = Y_END + 3.5
    form.label(X0, base, "NUCC Instruction Manual available at: www.nucc.org", size=5.5)
    form.label(X0 + 82.0, base, "PLEASE PRINT OR TYPE", size=7, bold=True)
    form.label(X0, base, "APPROVED OMB-0938-1197 FORM 1500 (02-12)", size=5.5, right=X1)


def render_cms1500(facts: Cms1500Facts) -> bytes:
    """The filled form as PDF bytes: one page per six service lines."""
    pdf = FPDF(orientation="portrait", unit="mm", format="Letter")
    pdf.set_title(latin1(f"CMS-1500 claim {facts.patient_account_number}"))
    pdf.set_creator("claimdesk")
    # The form's date, not the wall clock: the same facts give the same bytes.
    day = facts.form_date
    pdf.set_creation_date(datetime(day.year, day.month, day.day, tzinfo=UTC))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    form = FormCanvas(pdf)
    for page in range(1, facts.page_count + 1):
        pdf.add_page()
        lines = facts.page_lines(page)
        page_total = sum((line.charge for line in lines), Decimal(0))
        if facts.page_count > 1:
            note = f"PAGE {page} OF {facts.page_count}  PAGE TOTAL {money(page_total)}"
            facts_for_page = facts.model_copy(update={"additional_information": note})
        else:
            facts_for_page = facts
        _header(form, facts_for_page, page)
        _patient_half(form, facts_for_page)
        _physician_top(form, facts_for_page)
        _service_lines(form, lines)
        _physician_bottom(form, facts_for_page, last=page == facts.page_count)
        _footer(form)
    return bytes(pdf.output())
