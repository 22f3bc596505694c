"""Core rules on CMS's edit files and the sex and age edits.

NCCI PTP pairs billed together on one date of service, units over the MUE, HCPCS
Level II codes the HCPCS file in force does not list (or not on that date), and codes
that fit another sex or age. Every message names the data version it read, so a
finding says which quarter's edit (or which table of ``sex_age``) fired.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from claimdesk.rules.engine import Hit, Rule, hit
from claimdesk.rules.sex_age import (
    SEX_EDIT_OVERRIDE_MODIFIER,
    CodeEdit,
    diagnosis_edits,
    procedure_edits,
)
from claimdesk.rules.snapshot import ClaimSnapshot, LineSnapshot

# NCCI PTP-associated modifiers (NCCI Policy Manual for Medicare Services, chapter I):
# with one of these on either line, an edit whose modifier indicator is 1 lets both pay.
PTP_MODIFIERS: frozenset[str] = frozenset(
    {"E1", "E2", "E3", "E4", "FA", "LC", "LD", "LM", "LT", "RC", "RI", "RT", "TA"}
    | {f"F{n}" for n in range(1, 10)}
    | {f"T{n}" for n in range(1, 10)}
    | {"24", "25", "27", "57", "58", "59", "78", "79", "91", "XE", "XP", "XS", "XU"}
)
_SEX_WORD = {"F": "female", "M": "male"}


def _on(s: ClaimSnapshot, code: str, on: object) -> list[LineSnapshot]:
    return [ln for ln in s.lines if ln.procedure_code == code and ln.service_date == on]


def _ptp_pairs(s: ClaimSnapshot, indicator: str) -> Iterator[Hit]:
    for edit in s.edit_data.ptp:
        if edit.modifier_indicator != indicator:
            continue
        for first in _on(s, edit.column1, edit.service_date):
            for second in _on(s, edit.column2, edit.service_date):
                if indicator == "1" and PTP_MODIFIERS & {*first.modifiers, *second.modifiers}:
                    continue
                yield hit(
                    f"lines[{second.number}].procedure_code",
                    line=second.number,
                    other=first.number,
                    column1=edit.column1,
                    column2=edit.column2,
                    on=edit.service_date.isoformat(),
                    rationale=edit.rationale or "no rationale given",
                    version=edit.version,
                )


def _ptp_never(s: ClaimSnapshot) -> Iterator[Hit]:
    return _ptp_pairs(s, "0")


def _ptp_without_modifier(s: ClaimSnapshot) -> Iterator[Hit]:
    return _ptp_pairs(s, "1")


def _units_over_mue(s: ClaimSnapshot) -> Iterator[Hit]:
    for limit in s.edit_data.mue:
        lines = _on(s, limit.code, limit.service_date)
        if limit.adjudication == "1":
            over = [(ln, ln.units) for ln in lines if ln.units > limit.units]
        else:
            total = sum((ln.units for ln in lines), Decimal(0))
            over = [(lines[0], total)] if lines and total > limit.units else []
        for line, units in over:
            yield hit(
                f"lines[{line.number}].units",
                line=line.number,
                units=f"{units.normalize():f}",
                code=limit.code,
                on=limit.service_date.isoformat(),
                limit=limit.units,
                per="claim line" if limit.adjudication == "1" else "date of service",
                mai=limit.adjudication,
                version=limit.version,
            )


def _hcpcs_unlisted(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        entry = s.edit_data.hcpcs_entry(line.procedure_code, line.service_date)
        if entry is not None and not entry.listed:
            yield hit(
                f"lines[{line.number}].procedure_code",
                line=line.number,
                code=line.procedure_code,
                version=entry.version,
            )


def _hcpcs_not_in_force(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        entry = s.edit_data.hcpcs_entry(line.procedure_code, line.service_date)
        if entry is None or not entry.listed:
            continue
        on = line.service_date
        if entry.added is not None and on < entry.added:
            why = f"it was added on {entry.added.isoformat()}"
        elif entry.terminated is not None and on > entry.terminated:
            why = f"it was terminated after {entry.terminated.isoformat()}"
        else:
            continue
        yield hit(
            f"lines[{line.number}].procedure_code",
            line=line.number,
            code=line.procedure_code,
            on=on.isoformat(),
            why=why,
            version=entry.version,
        )


def _sex_conflicts(edits: tuple[CodeEdit, ...], sex: str) -> list[CodeEdit]:
    return [e for e in edits if e.sex is not None and sex in _SEX_WORD and e.sex != sex]


def _pointing_lines_all_carry_kx(s: ClaimSnapshot, position: int) -> bool:
    pointing = [ln for ln in s.lines if position in ln.diagnosis_pointers]
    return bool(pointing) and all(SEX_EDIT_OVERRIDE_MODIFIER in ln.modifiers for ln in pointing)


def _diagnosis_sex(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.patient is None:
        return
    for dx in s.diagnoses:
        if _pointing_lines_all_carry_kx(s, dx.position):
            continue
        for edit in _sex_conflicts(diagnosis_edits(dx.code), s.patient.sex):
            yield hit(
                f"diagnoses[{dx.position}].code",
                position=dx.position,
                code=dx.code,
                what=edit.what,
                sex=_SEX_WORD[edit.sex or ""],
                source=edit.source,
            )


def _diagnosis_age(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.patient is None:
        return
    for dx in s.diagnoses:
        for edit in diagnosis_edits(dx.code):
            if edit.ages is not None and not edit.ages[0] <= s.patient.age <= edit.ages[1]:
                yield hit(
                    f"diagnoses[{dx.position}].code",
                    position=dx.position,
                    code=dx.code,
                    what=edit.what,
                    low=edit.ages[0],
                    high=edit.ages[1],
                    source=edit.source,
                )


def _procedure_sex(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.patient is None:
        return
    for line in s.lines:
        if SEX_EDIT_OVERRIDE_MODIFIER in line.modifiers:
            continue
        for edit in _sex_conflicts(procedure_edits(line.procedure_code), s.patient.sex):
            yield hit(
                f"lines[{line.number}].procedure_code",
                line=line.number,
                code=line.procedure_code,
                what=edit.what,
                sex=_SEX_WORD[edit.sex or ""],
                source=edit.source,
            )


EDIT_FILE_RULES: tuple[Rule, ...] = (
    Rule(
        "CD-PTP-001",
        "error",
        "lines[*].procedure_code",
        "line {line}: {column2} is not paid with {column1} (line {other}) on {on}, and no "
        "modifier allows it (NCCI PTP modifier indicator 0: {rationale}; {version})",
        _ptp_never,
    ),
    Rule(
        "CD-PTP-002",
        "error",
        "lines[*].procedure_code",
        "line {line}: {column2} with {column1} (line {other}) on {on} needs an NCCI-associated "
        "modifier if the services were distinct: 59, or XE, XS, XP or XU "
        "(NCCI PTP modifier indicator 1: {rationale}; {version})",
        _ptp_without_modifier,
    ),
    Rule(
        "CD-MUE-001",
        "error",
        "lines[*].units",
        "line {line}: {units} units of {code} on {on}; the MUE is {limit} per {per} "
        "(MUE adjudication indicator {mai}; {version})",
        _units_over_mue,
    ),
    Rule(
        "CD-HCPCS-001",
        "error",
        "lines[*].procedure_code",
        "line {line}: {code} is not a HCPCS Level II code in {version}",
        _hcpcs_unlisted,
    ),
    Rule(
        "CD-HCPCS-002",
        "error",
        "lines[*].procedure_code",
        "line {line}: {code} cannot be billed for {on}: {why} ({version})",
        _hcpcs_not_in_force,
    ),
)

SEX_AGE_RULES: tuple[Rule, ...] = (
    Rule(
        "CD-DX-006",
        "error",
        "diagnoses[*].code",
        "diagnosis {position}: {code} is {what}, for {sex} patients, and the patient's recorded "
        "sex differs ({source}); if right, add modifier KX to the lines it supports",
        _diagnosis_sex,
    ),
    Rule(
        "CD-DX-007",
        "error",
        "diagnoses[*].code",
        "diagnosis {position}: {code} is {what}, for ages {low} to {high}, and the patient's "
        "age on the date of service is outside it ({source})",
        _diagnosis_age,
    ),
    Rule(
        "CD-PROC-002",
        "error",
        "lines[*].procedure_code",
        "line {line}: {code} is {what}, for {sex} patients, and the patient's recorded sex "
        "differs ({source}); if right, add modifier KX",
        _procedure_sex,
    ),
)
