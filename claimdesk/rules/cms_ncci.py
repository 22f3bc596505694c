"""NCCI procedure-to-procedure (PTP) edits and medically unlikely edits (MUE), as CMS ships them.

PTP (``ccipra-v322r0-f1.txt``, tab-delimited; the ``.xlsx`` saved as CSV reads too): a
copyright preamble and two header lines, then one edit a line —

    Column 1 | Column 2 | * = in existence prior to 1996 | Effective Date (YYYYMMDD)
    | Deletion Date (YYYYMMDD, * = no data) | Modifier 0 = not allowed, 1 = allowed,
    9 = not applicable | PTP Edit Rationale

MUE (``MCR_MUE_PractitionerServices_Eff_04-01-2026.csv``): a preamble, the header
``HCPCS/CPT Code, Practitioner Services MUE Values, MUE Adjudication Indicator, MUE
Rationale``, then one code a line; the indicator cell reads ``1 Line Edit``, ``2 Date of
Service Edit: Policy`` or ``3 Date of Service Edit: Clinical``.

The preamble ends at the first line whose first field is a procedure code; after it,
every non-blank line must be an edit, or the file is refused naming that line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from claimdesk.rules.cms_files import (
    EditFileError,
    delimited_rows,
    is_procedure_code,
    parse_yyyymmdd,
)


@dataclass(frozen=True, slots=True)
class PtpRow:
    line: int
    column1: str
    column2: str
    prior_to_1996: bool
    effective: date
    # None: still in force. The edit no longer applies on and after this date.
    deletion: date | None
    modifier_indicator: str  # "0", "1" or "9"
    rationale: str


@dataclass(frozen=True, slots=True)
class MueRow:
    line: int
    code: str
    units: int
    # 1 per claim line, 2 per date of service (absolute), 3 per date of service (clinical).
    adjudication: str
    rationale: str


def _data_rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """The rows after the preamble (blank rows skipped)."""
    started = False
    for number, fields in delimited_rows(lines):
        if not any(fields):
            continue
        if not started and not is_procedure_code(fields[0].upper()):
            continue
        started = True
        yield number, fields


def parse_ptp(lines: Iterable[str], *, file: str) -> Iterator[PtpRow]:
    """Every edit of a PTP file; ``EditFileError`` at the first line that is not one."""
    seen = False
    for number, fields in _data_rows(lines):
        seen = True
        problem = _ptp_problem(fields)
        if problem:
            raise EditFileError("ncci-ptp", file, number, problem)
        try:
            effective = parse_yyyymmdd(fields[3])
            deletion = None if fields[4] in ("", "*") else parse_yyyymmdd(fields[4])
        except ValueError as exc:
            raise EditFileError(
                "ncci-ptp", file, number, f"effective or deletion date: {exc}"
            ) from None
        yield PtpRow(
            line=number,
            column1=fields[0].upper(),
            column2=fields[1].upper(),
            prior_to_1996=fields[2] == "*",
            effective=effective,
            deletion=deletion,
            modifier_indicator=fields[5],
            rationale=fields[6] if len(fields) > 6 else "",
        )
    if not seen:
        raise EditFileError("ncci-ptp", file, None, "no edit found (column 1, column 2, …)")


def _ptp_problem(fields: list[str]) -> str | None:
    if len(fields) < 6:
        return f"{len(fields)} fields; a PTP edit has 7 (column 1 … rationale)"
    for label, code in (("column 1", fields[0]), ("column 2", fields[1])):
        if not is_procedure_code(code.upper()):
            return f"{label} {code!r} is not a CPT or HCPCS code"
    if fields[2] not in ("", "*"):
        return f"the prior-to-1996 mark is {fields[2]!r}; expected '*' or nothing"
    if fields[5] not in ("0", "1", "9"):
        return f"modifier indicator {fields[5]!r}; expected 0, 1 or 9"
    return None


def parse_mue(lines: Iterable[str], *, file: str) -> Iterator[MueRow]:
    """Every code of an MUE table; ``EditFileError`` at the first line that is not one."""
    seen = False
    for number, fields in _data_rows(lines):
        seen = True
        if len(fields) < 3:
            raise EditFileError(
                "mue", file, number, f"{len(fields)} fields; an MUE has code, units, indicator"
            )
        units, indicator = fields[1], fields[2][:1]
        if not is_procedure_code(fields[0].upper()):
            raise EditFileError("mue", file, number, f"{fields[0]!r} is not a CPT or HCPCS code")
        if not units.isdigit():
            raise EditFileError("mue", file, number, f"MUE value {units!r} is not a whole number")
        if indicator not in ("1", "2", "3"):
            raise EditFileError(
                "mue", file, number, f"adjudication indicator {fields[2]!r}; expected 1, 2 or 3"
            )
        yield MueRow(
            line=number,
            code=fields[0].upper(),
            units=int(units),
            adjudication=indicator,
            rationale=fields[3] if len(fields) > 3 else "",
        )
    if not seen:
        raise EditFileError("mue", file, None, "no MUE found (HCPCS/CPT code, units, indicator)")
