"""Field readers the 837 parser shares: names, addresses, procedures, adjustments."""

from __future__ import annotations

from typing import Any

from claimdesk.x12._tokenize import Segment, get, to_decimal


def _name(elements: list[str]) -> dict[str, Any]:
    """NM102-NM107 as PersonName fields (empty elements left out)."""
    fields = {
        "entity_type": get(elements, 2) or None,
        "last_name": get(elements, 3) or None,
        "first_name": get(elements, 4) or None,
        "middle_name": get(elements, 5) or None,
        "name_suffix": get(elements, 7) or None,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _address(n3: list[str], n4: list[str]) -> dict[str, Any]:
    fields = {
        "line1": get(n3, 1) or None,
        "line2": get(n3, 2) or None,
        "city": get(n4, 1) or None,
        "state": get(n4, 2) or None,
        "postal_code": get(n4, 3) or None,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _procedure(text: str, component: str) -> dict[str, Any]:
    if not text:
        return {}
    parts = text.split(component)
    fields: dict[str, Any] = {"procedure_qualifier": parts[0]}
    if len(parts) > 1 and parts[1]:
        fields["procedure_code"] = parts[1]
    fields["modifiers"] = tuple(m for m in parts[2:6] if m)
    return fields


def _adjustments(segment: Segment) -> list[dict[str, Any]]:
    elements = segment[1]
    result = []
    for i in range(2, 20, 3):
        if get(elements, i):
            adjustment = {
                "group_code": get(elements, 1),
                "reason_code": elements[i],
                "amount": to_decimal(segment, i + 1, required=True),
            }
            if get(elements, i + 2):
                adjustment["quantity"] = to_decimal(segment, i + 2)
            result.append(adjustment)
    return result


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _pick(elements: list[str], **indexes: int) -> dict[str, Any]:
    """``{field: elements[i]}`` for the non-empty elements among ``indexes``."""
    return {k: elements[i] for k, i in indexes.items() if len(elements) > i and elements[i]}


# 837I HI qualifiers beyond the diagnoses: admitting diagnosis and the UB-04 codes.
UB04_HI = frozenset({"ABJ", "BG", "BH", "BI", "BE"})


def _ub04_code(claim: dict[str, Any], parts: list[str]) -> None:
    """One HI composite (qualifier, code, D8/RD8, date or period, amount) into ``institutional``."""
    from claimdesk.x12._tokenize import parse_date_text

    codes = claim.setdefault("institutional", {})
    qualifier, code = parts[0], parts[1] if len(parts) > 1 else ""
    if qualifier == "ABJ":
        codes["admitting_diagnosis"] = code
    elif qualifier == "BG":
        codes.setdefault("condition_codes", []).append(code)
    elif qualifier == "BH":
        on = parse_date_text(parts[3]) if len(parts) > 3 else None
        codes.setdefault("occurrences", []).append({"code": code, "on": on})
    elif qualifier == "BI":
        start, _, end = (parts[3] if len(parts) > 3 else "").partition("-")
        span = {"code": code, "start": parse_date_text(start), "end": parse_date_text(end)}
        codes.setdefault("occurrence_spans", []).append(span)
    elif qualifier == "BE":
        amount = parts[4] if len(parts) > 4 else None
        codes.setdefault("value_codes", []).append({"code": code, "amount": amount})
