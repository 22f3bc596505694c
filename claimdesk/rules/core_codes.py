"""Core rules on the codes: ICD-10-CM diagnoses, CPT/HCPCS, modifiers, diagnosis pointers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from claimdesk.rules.code_tables import (
    CONFLICTING_MODIFIERS,
    MAX_MODIFIERS,
    is_modifier,
    is_procedure_code,
)
from claimdesk.rules.engine import Hit, Rule, hit
from claimdesk.rules.icd10cm import ICD10CM_CODE_SET, look_up_icd10cm
from claimdesk.rules.snapshot import ClaimSnapshot

# Most diagnosis pointers one 837P line carries (SV107-1 … SV107-4).
MAX_POINTERS = 4


def _in_code_set(s: ClaimSnapshot, code: str) -> tuple[bool, bool]:
    """(listed, billable) in the ICD-10-CM version loaded for the claim's fiscal year,
    else in the set shipped with simple_icd_10_cm."""
    if s.edit_data.icd10cm_version is None:
        found = look_up_icd10cm(code)
        return found.exists, found.billable
    entry = s.edit_data.icd10(code)
    return (entry.listed, entry.billable) if entry is not None else (False, False)


def _code_set(s: ClaimSnapshot) -> str:
    return s.edit_data.icd10cm_version or ICD10CM_CODE_SET


def _diagnosis_unknown(s: ClaimSnapshot) -> Iterator[Hit]:
    for dx in s.diagnoses:
        if not _in_code_set(s, dx.code)[0]:
            yield hit(
                f"diagnoses[{dx.position}].code",
                position=dx.position,
                code=dx.code,
                code_set=_code_set(s),
                on=s.diagnosis_date.isoformat(),
            )


def _diagnosis_not_billable(s: ClaimSnapshot) -> Iterator[Hit]:
    for dx in s.diagnoses:
        listed, billable = _in_code_set(s, dx.code)
        if listed and not billable:
            yield hit(
                f"diagnoses[{dx.position}].code",
                position=dx.position,
                code=dx.code,
                code_set=_code_set(s),
            )


def _principal_is_manifestation(s: ClaimSnapshot) -> Iterator[Hit]:
    first = s.principal_diagnosis
    if first is not None and look_up_icd10cm(first.code).manifestation:
        yield hit(f"diagnoses[{first.position}].code", code=first.code)


def _principal_is_external_cause(s: ClaimSnapshot) -> Iterator[Hit]:
    first = s.principal_diagnosis
    if first is not None and look_up_icd10cm(first.code).external_cause:
        yield hit(f"diagnoses[{first.position}].code", code=first.code)


def _diagnosis_repeated(s: ClaimSnapshot) -> Iterator[Hit]:
    seen: set[str] = set()
    for dx in sorted(s.diagnoses, key=lambda d: d.position):
        if dx.code in seen:
            yield hit(f"diagnoses[{dx.position}].code", position=dx.position, code=dx.code)
        seen.add(dx.code)


def _procedure_malformed(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        if not is_procedure_code(line.procedure_code):
            yield hit(
                f"lines[{line.number}].procedure_code", line=line.number, code=line.procedure_code
            )


def _modifier_malformed(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        for modifier in line.modifiers:
            if not is_modifier(modifier):
                yield hit(f"lines[{line.number}].modifiers", line=line.number, modifier=modifier)


def _too_many_modifiers(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        if len(line.modifiers) > MAX_MODIFIERS:
            yield hit(
                f"lines[{line.number}].modifiers", line=line.number, count=len(line.modifiers)
            )


def _modifier_repeated(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        for modifier, count in Counter(line.modifiers).items():
            if count > 1:
                yield hit(f"lines[{line.number}].modifiers", line=line.number, modifier=modifier)


def _modifiers_conflict(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        present = set(line.modifiers)
        for first, second, why in CONFLICTING_MODIFIERS:
            if first in present and second in present:
                yield hit(
                    f"lines[{line.number}].modifiers",
                    line=line.number,
                    first=first,
                    second=second,
                    why=why,
                )


def _pointers_missing_or_too_many(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.kind != "P":
        return  # 837I lines carry no diagnosis pointers
    for line in s.lines:
        if not 1 <= len(line.diagnosis_pointers) <= MAX_POINTERS:
            yield hit(
                f"lines[{line.number}].diagnosis_pointers",
                line=line.number,
                count=len(line.diagnosis_pointers),
            )


def _pointer_dangling(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.kind != "P":
        return
    for line in s.lines:
        for pointer in line.diagnosis_pointers:
            if s.diagnosis_at(pointer) is None:
                yield hit(
                    f"lines[{line.number}].diagnosis_pointers", line=line.number, pointer=pointer
                )


def _pointer_repeated(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.kind != "P":
        return
    for line in s.lines:
        for pointer, count in Counter(line.diagnosis_pointers).items():
            if count > 1:
                yield hit(
                    f"lines[{line.number}].diagnosis_pointers", line=line.number, pointer=pointer
                )


DIAGNOSIS_RULES: tuple[Rule, ...] = (
    Rule(
        "CD-DX-001",
        "error",
        "diagnoses[*].code",
        "diagnosis {position}: {code} is not an ICD-10-CM code in {code_set} "
        "(the code set for {on})",
        _diagnosis_unknown,
    ),
    Rule(
        "CD-DX-002",
        "error",
        "diagnoses[*].code",
        "diagnosis {position}: {code} is a header, not billable, in {code_set}; "
        "use a more specific code",
        _diagnosis_not_billable,
    ),
    Rule(
        "CD-DX-003",
        "error",
        "diagnoses[1].code",
        "{code} is a manifestation code and cannot be the first diagnosis; "
        "code the underlying condition first",
        _principal_is_manifestation,
    ),
    Rule(
        "CD-DX-004",
        "error",
        "diagnoses[1].code",
        "{code} is an external cause code and cannot be the first diagnosis",
        _principal_is_external_cause,
    ),
    Rule(
        "CD-DX-005",
        "warning",
        "diagnoses[*].code",
        "diagnosis {position}: {code} is listed twice",
        _diagnosis_repeated,
    ),
)

PROCEDURE_RULES: tuple[Rule, ...] = (
    Rule(
        "CD-PROC-001",
        "error",
        "lines[*].procedure_code",
        "line {line}: {code!r} is neither a CPT nor a HCPCS Level II code",
        _procedure_malformed,
    ),
    Rule(
        "CD-MOD-001",
        "error",
        "lines[*].modifiers",
        "line {line}: modifier {modifier!r} is not two letters or digits",
        _modifier_malformed,
    ),
    Rule(
        "CD-MOD-002",
        "error",
        "lines[*].modifiers",
        f"line {{line}}: {{count}} modifiers; a line carries at most {MAX_MODIFIERS}",
        _too_many_modifiers,
    ),
    Rule(
        "CD-MOD-003",
        "error",
        "lines[*].modifiers",
        "line {line}: modifier {modifier} appears more than once",
        _modifier_repeated,
    ),
    Rule(
        "CD-MOD-004",
        "error",
        "lines[*].modifiers",
        "line {line}: modifiers {first} and {second} conflict ({why})",
        _modifiers_conflict,
    ),
    Rule(
        "CD-PTR-001",
        "error",
        "lines[*].diagnosis_pointers",
        f"line {{line}}: {{count}} diagnosis pointers; a line needs 1 to {MAX_POINTERS}",
        _pointers_missing_or_too_many,
    ),
    Rule(
        "CD-PTR-002",
        "error",
        "lines[*].diagnosis_pointers",
        "line {line}: pointer {pointer} points at no diagnosis on the claim",
        _pointer_dangling,
    ),
    Rule(
        "CD-PTR-003",
        "warning",
        "lines[*].diagnosis_pointers",
        "line {line}: pointer {pointer} is given more than once",
        _pointer_repeated,
    ),
)
