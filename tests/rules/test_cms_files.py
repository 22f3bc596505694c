"""The CMS edit-file parsers read CMS's layouts, name the line they cannot read, and tell
each file's version from its name."""

from __future__ import annotations

from datetime import date

import pytest

from claimdesk.rules.cms_codesets import parse_hcpcs, parse_icd10cm
from claimdesk.rules.cms_files import EditFileError, decode, fiscal_year, version_from_name
from claimdesk.rules.cms_ncci import parse_mue, parse_ptp
from tests.rules.cms_samples import hcpcs_record, icd10cm_order_line, mue_file, ptp_file


def test_ptp_reads_the_tab_delimited_layout_after_its_preamble() -> None:
    text = ptp_file(
        "29881|29880||20260101|*|1|Mutually exclusive procedures",
        "G0102|99213|*|19960101|20250101|9|Misuse of column two code with column one code",
    )
    rows = list(parse_ptp(decode(text.encode()), file="ccipra-v324r0-f1.txt"))
    assert [(r.line, r.column1, r.column2) for r in rows] == [
        (6, "29881", "29880"),
        (7, "G0102", "99213"),
    ]
    assert rows[0].effective == date(2026, 1, 1) and rows[0].deletion is None
    assert not rows[0].prior_to_1996 and rows[1].prior_to_1996
    assert rows[1].deletion == date(2025, 1, 1) and rows[1].modifier_indicator == "9"
    assert rows[0].rationale == "Mutually exclusive procedures"


def test_ptp_saved_as_csv_reads_the_same() -> None:
    text = '"Column 1","Column 2"\n"29881","29880","","20260101","*","0","Because"\n'
    (row,) = parse_ptp(decode(text.encode()), file="ptp.csv")
    assert (row.column1, row.column2, row.modifier_indicator, row.line) == (
        "29881",
        "29880",
        "0",
        2,
    )


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("29881|29880||2026013X|*|1|x", "effective or deletion date"),
        ("29881|29880||20260101|*|7|x", "modifier indicator '7'"),
        ("29881|2988||20260101|*|1|x", "column 2 '2988'"),
        ("29881|29880|yes|20260101|*|1|x", "prior-to-1996 mark"),
        ("29881|29880", "2 fields"),
    ],
)
def test_ptp_refuses_a_bad_line_by_its_number(bad: str, says: str) -> None:
    text = ptp_file("29881|29880||20260101|*|1|fine", bad)
    with pytest.raises(EditFileError) as caught:
        list(parse_ptp(decode(text.encode()), file="ccipra-v324r0-f1.txt"))
    assert "ccipra-v324r0-f1.txt, line 7" in str(caught.value)
    assert says in str(caught.value)
    assert caught.value.line == 7


def test_ptp_without_any_edit_is_refused() -> None:
    with pytest.raises(EditFileError, match="no edit found"):
        list(parse_ptp(decode(ptp_file().encode()), file="empty.txt"))


def test_mue_reads_the_csv_with_its_indicator_text() -> None:
    text = mue_file(
        "J1100|4|3 Date of Service Edit: Clinical|Prescribing information",
        "G0102|1|2 Date of Service Edit: Policy|CMS policy",
        "97110|8|1 Line Edit|Clinical: data",
    )
    rows = list(parse_mue(decode(text.encode()), file="mue.csv"))
    assert [(r.code, r.units, r.adjudication, r.line) for r in rows] == [
        ("J1100", 4, "3", 3),
        ("G0102", 1, "2", 4),
        ("97110", 8, "1", 5),
    ]


def test_mue_refuses_units_that_are_not_a_number_by_line() -> None:
    text = mue_file("J1100|4|3 Date of Service Edit: Clinical|x", "G0102|one|2 Policy|x")
    with pytest.raises(EditFileError, match=r"mue\.csv, line 4: MUE value 'one'"):
        list(parse_mue(decode(text.encode()), file="mue.csv"))


def test_hcpcs_fixed_width_records_join_continuations_and_skip_modifiers() -> None:
    text = "".join(
        [
            hcpcs_record("   A1", record="7", long="Test modifier", short="Test modifier"),
            hcpcs_record(
                "J1100",
                long="Injection, test drug, first part of a long description",
                short="Test drug inj",
                added="20200101",
                action="20260101",
            ),
            hcpcs_record("J1100", record="4", long="that goes on, per 1 mg"),
            hcpcs_record("G0999", long="Old test service", added="20100101", terminated="20251231"),
            hcpcs_record("D0120", long="Dental words", short="Dental", added="20000101"),
        ]
    )
    rows = list(parse_hcpcs(decode(text.encode()), file="HCPC2026_JAN_ANWEB.txt"))
    assert [r.code for r in rows] == ["J1100", "G0999", "D0120"]
    drug, old, dental = rows
    assert drug.long_description.endswith("long description that goes on, per 1 mg")
    assert drug.short_description == "Test drug inj"
    assert (drug.added, drug.action_effective, drug.terminated) == (
        date(2020, 1, 1),
        date(2026, 1, 1),
        None,
    )
    assert old.terminated == date(2025, 12, 31)
    # CDT's words belong to the ADA: the code is kept, its text is not.
    assert dental.long_description == dental.short_description == ""


def test_hcpcs_refuses_a_bad_date_by_line() -> None:
    text = hcpcs_record("J1100", added="20200101") + hcpcs_record("J1200", added="2020XX01")
    with pytest.raises(EditFileError, match=r"HCPC\.txt, line 2: positions 269-292"):
        list(parse_hcpcs(decode(text.encode()), file="HCPC.txt"))


def test_hcpcs_saved_as_csv_reads_by_column_names() -> None:
    text = (
        "HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,ADD DT,ACT EFF DT,TERM DT\n"
        "A1,00100,7,Test modifier,Test modifier,20050101,20050101,\n"
        "J1100,00100,3,Injection test drug,Test drug inj,20200101,20260101,\n"
        "G0999,00100,3,Old test service,Old test,20100101,20100101,20251231\n"
    )
    rows = list(parse_hcpcs(decode(text.encode()), file="HCPC2026_JAN_ANWEB.csv"))
    assert [(r.code, r.terminated) for r in rows] == [
        ("J1100", None),
        ("G0999", date(2025, 12, 31)),
    ]


def test_icd10cm_order_file_marks_headers_and_the_codes_file_is_all_billable() -> None:
    order = icd10cm_order_line(1, "E11", False, "Type 2 diabetes mellitus") + icd10cm_order_line(
        2, "E119", True, "Type 2 diabetes mellitus without complications"
    )
    rows = list(parse_icd10cm(decode(order.encode()), file="icd10cm-order-2027.txt"))
    assert [(r.code, r.billable) for r in rows] == [("E11", False), ("E119", True)]
    assert rows[1].description == "Type 2 diabetes mellitus without complications"
    codes = "E119    Type 2 diabetes mellitus without complications\nI10     Hypertension\n"
    rows = list(parse_icd10cm(decode(codes.encode()), file="icd10cm-codes-2027.txt"))
    assert [(r.code, r.billable, r.description) for r in rows] == [
        ("E119", True, "Type 2 diabetes mellitus without complications"),
        ("I10", True, "Hypertension"),
    ]


def test_icd10cm_refuses_a_line_that_is_neither_layout() -> None:
    text = "E119    Fine\ne11.9 lower case and a dot\n"
    with pytest.raises(EditFileError, match=r"icd10cm-codes-2027\.txt, line 2"):
        list(parse_icd10cm(decode(text.encode()), file="icd10cm-codes-2027.txt"))


@pytest.mark.parametrize(
    ("kind", "name", "version", "starts", "ends", "part", "setting"),
    [
        ("ncci-ptp", "ccipra-v322r0-f1.txt", "NCCI PTP practitioner v322r0", "2026-07-01", None,
         "f1", "practitioner"),
        ("ncci-ptp", "medicare-ncci-2025q4-practitioner-ptp-edits-ccipra-v313r0-f4.zip",
         "NCCI PTP practitioner v313r0", "2025-10-01", None, "f4", "practitioner"),
        ("ncci-ptp", "ccioph-v320r1.txt", "NCCI PTP outpatient hospital v320r1", "2026-01-01",
         None, "", "outpatient hospital"),
        ("mue", "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv",
         "MUE practitioner 2026-04-01", "2026-04-01", None, "", "practitioner"),
        ("mue", "medicare-ncci-2026q3-outpatient-hospital-services-mue-table.zip",
         "MUE outpatient hospital 2026-07-01", "2026-07-01", None, "", "outpatient hospital"),
        ("hcpcs", "HCPC2026_JAN_ANWEB.txt", "HCPCS 2026 Jan", "2026-01-01", None, "", ""),
        ("hcpcs", "HCPC2026_OCT_ANWEB_v2.txt", "HCPCS 2026 Oct", "2026-10-01", None, "", ""),
        ("icd10cm", "icd10cm-order-2027.txt", "ICD-10-CM FY2027", "2026-10-01", "2027-09-30",
         "", ""),
        ("icd10cm", "icd10cm_codes_2024.txt", "ICD-10-CM FY2024", "2023-10-01", "2024-09-30",
         "", ""),
        ("icd10cm", "icd10cm-order-April-1-2026.txt", "ICD-10-CM FY2026 (April 1 update)",
         "2026-04-01", "2026-09-30", "", ""),
    ],
)  # fmt: skip
def test_the_file_name_tells_the_version(
    kind: str,
    name: str,
    version: str,
    starts: str,
    ends: str | None,
    part: str,
    setting: str,
) -> None:
    found = version_from_name(kind, name)  # type: ignore[arg-type]
    assert found is not None
    assert found.name == version and found.effective_from == date.fromisoformat(starts)
    assert found.effective_to == (date.fromisoformat(ends) if ends else None)
    assert (found.part, found.setting) == (part, setting)


@pytest.mark.parametrize("kind", ["ncci-ptp", "mue", "hcpcs", "icd10cm"])
def test_a_name_that_tells_nothing_gives_no_version(kind: str) -> None:
    assert version_from_name(kind, "edits.txt") is None  # type: ignore[arg-type]


def test_the_fiscal_year_turns_on_october_first() -> None:
    assert fiscal_year(date(2026, 9, 30)) == 2026
    assert fiscal_year(date(2026, 10, 1)) == 2027
    assert fiscal_year(date(2027, 9, 30)) == 2027
