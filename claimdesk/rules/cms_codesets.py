"""The HCPCS Level II and ICD-10-CM code sets, in the files CMS and NCHS publish.

HCPCS (``HCPC2026_JAN_ANWEB.txt``, the alpha-numeric file): fixed-width 320-character
records, laid out by ``HCPC<YYYY>_recordlayout.txt`` —

    1-5 code · 6-10 sequence · 11 record id (3 first line of a procedure, 4 its
    continuation; 7 and 8 the same for a modifier) · 12-91 long description ·
    92-119 short description · 269-276 code added (YYYYMMDD) · 277-284 action
    effective · 285-292 termination date (the last date the code may be used) · 293 action

The same file saved from its ``.xlsx`` as CSV (a header row naming HCPC, RECID,
LONG DESCRIPTION, SHORT DESCRIPTION, ADD DT, ACT EFF DT, TERM DT) reads too.

ICD-10-CM: the order file (``icd10cm-order-2027.txt``: 1-5 order number, 7-13 code
without its dot, 15 ``1`` when valid for submission or ``0`` for a header, 17-76 short
description, 78- long description) or the codes file (``icd10cm-codes-2027.txt``: a
billable code, spaces, its description).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from claimdesk.rules.cms_files import EditFileError, delimited_rows, parse_yyyymmdd

_LEVEL_II = re.compile(r"[A-Z][0-9]{4}")
_ICD10CM = re.compile(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}")
_CODES_LINE = re.compile(r"([A-Z][0-9][0-9A-Z][0-9A-Z]{0,4})\s+(\S.*)")
# CDT (dental, D codes) text belongs to the ADA: the code is kept, never its words.
_CDT = "D"


@dataclass(slots=True)
class HcpcsRow:
    line: int
    code: str
    long_description: str
    short_description: str
    added: date | None
    action_effective: date | None
    terminated: date | None


@dataclass(frozen=True, slots=True)
class Icd10Row:
    line: int
    code: str
    billable: bool
    description: str


def _date_or_none(value: str) -> date | None:
    return parse_yyyymmdd(value) if value.strip() else None


def parse_hcpcs(lines: Iterable[str], *, file: str) -> Iterator[HcpcsRow]:
    """Every procedure code of a HCPCS Level II file (modifiers and CPT left out)."""
    lines = list(lines)
    first = next((ln for ln in lines if ln.strip()), "")
    header = first.strip().strip('"').upper()
    if header.startswith("HCPC") and not _LEVEL_II.match(header[:5]):
        yield from _hcpcs_delimited(lines, file=file)
    else:
        yield from _hcpcs_fixed(lines, file=file)


def _hcpcs_fixed(lines: list[str], *, file: str) -> Iterator[HcpcsRow]:
    pending: HcpcsRow | None = None
    seen = False
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        record = text[10:11]
        if record not in ("3", "4", "7", "8"):
            raise EditFileError(
                "hcpcs", file, number, f"record id {record!r} (position 11); expected 3, 4, 7 or 8"
            )
        seen = True
        if record in ("7", "8"):  # a modifier
            continue
        code = text[:5].strip().upper()
        if record == "4":  # the long description goes on
            if pending is not None and pending.code == code:
                pending.long_description += " " + text[11:91].strip()
            continue
        if pending is not None:
            yield _finished(pending)
            pending = None
        if not _LEVEL_II.fullmatch(code):
            continue  # not a Level II code (the alpha-numeric file holds no CPT)
        if len(text) < 276:
            raise EditFileError(
                "hcpcs", file, number, f"{len(text)} characters; a code's first record has 320"
            )
        try:
            pending = HcpcsRow(
                line=number,
                code=code,
                long_description=text[11:91].strip(),
                short_description=text[91:119].strip(),
                added=_date_or_none(text[268:276]),
                action_effective=_date_or_none(text[276:284]),
                terminated=_date_or_none(text[284:292]),
            )
        except ValueError as exc:
            raise EditFileError("hcpcs", file, number, f"positions 269-292: {exc}") from None
    if pending is not None:
        yield _finished(pending)
    if not seen:
        raise EditFileError("hcpcs", file, None, "no HCPCS record found")


_COLUMNS = {
    "code": ("HCPC", "HCPCS"),
    "record": ("RECID", "REC ID"),
    "long": ("LONG DESCRIPTION",),
    "short": ("SHORT DESCRIPTION",),
    "added": ("ADD DT", "ADD DATE"),
    "action": ("ACT EFF DT", "ACTION EFFECTIVE DATE"),
    "terminated": ("TERM DT", "TERMINATION DATE"),
}


def _hcpcs_delimited(lines: list[str], *, file: str) -> Iterator[HcpcsRow]:
    rows = delimited_rows(lines)
    _, names = next(rows)
    upper = [n.upper() for n in names]
    where: dict[str, int] = {}
    for key, options in _COLUMNS.items():
        found = next((upper.index(o) for o in options if o in upper), None)
        if found is None and key in ("code", "added", "terminated"):
            raise EditFileError("hcpcs", file, 1, f"no {options[0]!r} column in the header")
        if found is not None:
            where[key] = found
    pending: HcpcsRow | None = None
    for number, fields in rows:
        if not any(fields):
            continue

        def cell(key: str, fields: list[str] = fields) -> str:
            index = where.get(key)
            return fields[index] if index is not None and index < len(fields) else ""

        record, code = cell("record") or "3", cell("code").upper()
        if record in ("7", "8"):
            continue
        if record == "4":
            if pending is not None and pending.code == code:
                pending.long_description += " " + cell("long")
            continue
        if pending is not None:
            yield _finished(pending)
            pending = None
        if not _LEVEL_II.fullmatch(code):
            if len(code) == 2:  # a modifier row without a record id
                continue
            raise EditFileError("hcpcs", file, number, f"{code!r} is not a HCPCS Level II code")
        try:
            pending = HcpcsRow(
                line=number,
                code=code,
                long_description=cell("long"),
                short_description=cell("short"),
                added=_date_or_none(cell("added")),
                action_effective=_date_or_none(cell("action")),
                terminated=_date_or_none(cell("terminated")),
            )
        except ValueError as exc:
            raise EditFileError("hcpcs", file, number, f"a date: {exc}") from None
    if pending is not None:
        yield _finished(pending)


def _finished(row: HcpcsRow) -> HcpcsRow:
    if row.code.startswith(_CDT):
        row.long_description = row.short_description = ""
    return row


def parse_icd10cm(lines: Iterable[str], *, file: str) -> Iterator[Icd10Row]:
    """Every code of an ICD-10-CM order or codes file, with whether it is billable."""
    seen = False
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        seen = True
        if text[:5].isdigit() and text[5:6] == " ":  # the order file
            code, flag = text[6:13].strip(), text[14:15]
            if not _ICD10CM.fullmatch(code) or flag not in ("0", "1"):
                raise EditFileError(
                    "icd10cm",
                    file,
                    number,
                    f"code {code!r} (positions 7-13) and flag {flag!r} (position 15, 0 or 1) "
                    "do not read as an order-file line",
                )
            yield Icd10Row(number, code, flag == "1", text[77:].strip() or text[16:76].strip())
            continue
        match = _CODES_LINE.fullmatch(text.strip())
        if not match:
            raise EditFileError(
                "icd10cm",
                file,
                number,
                "neither an order-file line (00001 A00     0 …) nor a code and its description",
            )
        yield Icd10Row(number, match[1], True, match[2].strip())
    if not seen:
        raise EditFileError("icd10cm", file, None, "no ICD-10-CM code found")
