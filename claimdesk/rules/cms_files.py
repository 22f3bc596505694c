"""What CMS's edit files share: their kinds, the version a file name tells, errors by line.

CMS publishes each edit set in its own format (``cms_ncci`` reads NCCI PTP and MUE,
``cms_codesets`` the HCPCS Level II and ICD-10-CM code sets). Every parser here is pure:
it reads decoded lines and yields rows, raising ``EditFileError`` naming the file and
line of the first row it cannot read, so a loader can keep a file all or nothing.

File names carry the version: ``ccipra-v322r0-f1.txt`` is NCCI PTP practitioner
version 32.2 release 0 part 1 (2026 Q3), ``MCR_MUE_PractitionerServices_Eff_04-01-2026.csv``
the MUE table from 2026-04-01, ``HCPC2026_JAN_ANWEB.txt`` the January 2026 HCPCS file,
``icd10cm-order-2027.txt`` ICD-10-CM for fiscal year 2027 (Oct 1, 2026 – Sep 30, 2027).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

from claimdesk.errors import ValidationFailed

EditKind = Literal["ncci-ptp", "mue", "hcpcs", "icd10cm"]
EDIT_KINDS: tuple[EditKind, ...] = ("ncci-ptp", "mue", "hcpcs", "icd10cm")

# CPT (5 digits; 4 digits + F/T/U for Category II/III and PLA) or HCPCS Level II.
_PROCEDURE = re.compile(r"[0-9]{4}[0-9A-Z]|[A-Z][0-9]{4}")


class EditFileError(ValidationFailed):
    """A line of an edit file that cannot be read: names the file and the line."""

    def __init__(self, kind: str, file: str, line: int | None, problem: str) -> None:
        where = f"{file}, line {line}" if line is not None else file
        super().__init__(f"{kind} file {where}: {problem}", field=where)
        self.line = line


@dataclass(frozen=True)
class FileVersion:
    """The version a file belongs to, when it takes effect, and which part of it the file is."""

    name: str
    effective_from: date
    # None: in force until a later version takes effect.
    effective_to: date | None = None
    part: str = ""
    # NCCI's provider type: "practitioner" (837P), "outpatient hospital" (837I), "dme";
    # "" for the code sets, which apply to every claim.
    setting: str = ""


SETTINGS = ("practitioner", "outpatient hospital", "dme")


def setting_named(text: str) -> str:
    """The NCCI setting a file name or option names (practitioner when it names none)."""
    lowered = text.lower()
    if "oph" in lowered or "outpatient" in lowered or "hospital" in lowered:
        return "outpatient hospital"
    if "dme" in lowered:
        return "dme"
    return "practitioner"


def fiscal_year(on: date) -> int:
    """The federal fiscal year of ``on``: FY2027 runs from 2026-10-01 to 2027-09-30."""
    return on.year + 1 if on.month >= 10 else on.year


def is_procedure_code(value: str) -> bool:
    return bool(_PROCEDURE.fullmatch(value))


def decode(data: bytes) -> list[str]:
    """The file's lines: UTF-8 when it is, else Windows-1252 (CMS's text files often are)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.splitlines(keepends=True)


def delimited_rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of a tab- or comma-delimited file, quotes honoured."""
    lines = list(lines)
    sample = "".join(lines[:200])
    reader = csv.reader(lines, delimiter="\t" if "\t" in sample else ",")
    start = 1
    for fields in reader:
        yield start, [f.strip() for f in fields]
        start = reader.line_num + 1


def parse_yyyymmdd(value: str) -> date:
    """``20260701`` (or ``2026-07-01``, ``07/01/2026``) as a date; ``ValueError`` if not one."""
    value = value.strip()
    if len(value) == 8 and value.isdigit():  # the usual case, kept quick for big files
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    if match:
        return date(int(match[3]), int(match[1]), int(match[2]))
    raise ValueError(f"{value!r} is not a date (YYYYMMDD)")


_MONTHS = {"jan": 1, "apr": 4, "jul": 7, "oct": 10}
_PTP_NAME = re.compile(r"cci(pra|oph)-v(\d{2})(\d)r(\d+)(?:-f(\d))?", re.IGNORECASE)
_MUE_NAME = re.compile(
    r"MUE_(Practitioner|OutpatientHospital|DME)\w*?_Eff_(\d{2})-(\d{2})-(\d{4})", re.IGNORECASE
)
_QUARTER = re.compile(r"(\d{4})q([1-4])", re.IGNORECASE)
_HCPCS_NAME = re.compile(r"HCPC(\d{4})(?:_(JAN|APR|JUL|OCT))?", re.IGNORECASE)
_HCPCS_ZIP = re.compile(r"(jan|apr|jul|oct)[a-z]*-(\d{4})-alpha-numeric", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


def version_from_name(kind: EditKind, file_name: str) -> FileVersion | None:
    """The version CMS's file name tells, or None when the name does not say."""
    if kind == "ncci-ptp":
        ptp = _PTP_NAME.search(file_name)
        if not ptp:
            return None
        setting = setting_named(ptp[1])
        # Version 31.x is 2025, 32.x 2026; .0 to .3 are its quarters.
        ptp_year, ptp_quarter = 1994 + int(ptp[2]), int(ptp[3]) + 1
        if not 1 <= ptp_quarter <= 4:
            return None
        return FileVersion(
            name=f"NCCI PTP {setting} v{ptp[2]}{ptp[3]}r{ptp[4]}",
            effective_from=date(ptp_year, 3 * ptp_quarter - 2, 1),
            part=f"f{ptp[5]}" if ptp[5] else "",
            setting=setting,
        )
    if kind == "mue":
        mue = _MUE_NAME.search(file_name)
        if mue:
            effective = date(int(mue[4]), int(mue[2]), int(mue[3]))
        else:
            quarter = _QUARTER.search(file_name)
            if not quarter:
                return None
            effective = date(int(quarter[1]), 3 * int(quarter[2]) - 2, 1)
        setting = setting_named(file_name)
        return FileVersion(
            name=f"MUE {setting} {effective.isoformat()}", effective_from=effective, setting=setting
        )
    if kind == "hcpcs":
        hcpcs = _HCPCS_NAME.search(file_name)
        if hcpcs:
            year, month = int(hcpcs[1]), _MONTHS[(hcpcs[2] or "jan").lower()]
        elif zipped := _HCPCS_ZIP.search(file_name):
            year, month = int(zipped[2]), _MONTHS[zipped[1][:3].lower()]
        else:
            return None
        effective = date(year, month, 1)
        return FileVersion(name=f"HCPCS {effective:%Y %b}", effective_from=effective)
    found = _YEAR.search(file_name)
    if "icd10cm" not in file_name.lower().replace("-", "").replace("_", "") or not found:
        return None
    fy, lowered = int(found[1]), file_name.lower()
    if "apr" in lowered:
        return icd10cm_version(fy, date(fy, 4, 1))
    if "jan" in lowered:
        return icd10cm_version(fy, date(fy, 1, 1))
    return icd10cm_version(fy)


def icd10cm_version(fy: int, effective: date | None = None) -> FileVersion:
    """ICD-10-CM for fiscal year ``fy`` (from Oct 1 before it, or a mid-year update's date)."""
    start = date(fy - 1, 10, 1)
    effective = effective or start
    if fiscal_year(effective) != fy:
        raise ValueError(f"{effective} is not in fiscal year {fy} ({start} to {fy}-09-30)")
    update = "" if effective == start else f" ({effective:%B} {effective.day} update)"
    return FileVersion(
        name=f"ICD-10-CM FY{fy}{update}",
        effective_from=effective,
        effective_to=date(fy, 9, 30),
    )
