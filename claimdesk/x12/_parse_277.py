"""277 claim status response (005010X212) and 277CA acknowledgment (005010X214).

Both share the HL hierarchy: 20 source (payer), 21 information receiver,
19 provider, 22 subscriber, 23 dependent, PT patient (277CA). A claim starts at
TRN*2 under a 22/23/PT level; its STC, REF, DTP follow, then service lines (SVC
with their own STC, REF*FJ, DTP*472).
"""

from __future__ import annotations

from typing import Any

from claimdesk.x12._envelope import SetContext, register_parser
from claimdesk.x12._errors import X12SyntaxError
from claimdesk.x12._tokenize import Segment, get, to_date, to_decimal, to_period
from claimdesk.x12.models import (
    ClaimStatus,
    ClaimStatus277,
    LevelStatus,
    LineStatus,
    Member,
    Party,
    Status,
    StatusCode,
)

# STC categories that say the claim did not get into adjudication (277CA).
_REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})
_PATIENT_LEVELS = frozenset({"22", "23", "PT"})


def _read_stc(segment: Segment, component: str) -> Status:
    elements = segment[1]
    codes = []
    for i in (1, 10, 11):
        text = get(elements, i)
        if not text:
            continue
        parts = text.split(component)
        if len(parts) < 2 or not parts[0]:
            raise X12SyntaxError(
                "status composite needs category and status codes",
                segment_index=segment[0],
                segment_id="STC",
                element=f"STC{i:02d}",
                expected="category:status[:entity]",
            )
        codes.append(
            StatusCode(
                category=parts[0], status=parts[1], entity=parts[2] if len(parts) > 2 else ""
            )
        )
    if not codes:
        raise X12SyntaxError(
            "required element is missing",
            segment_index=segment[0],
            segment_id="STC",
            element="STC01",
        )
    return Status(
        codes=tuple(codes),
        date=to_period(segment, 2)[0],
        action_code=get(elements, 3),
        charge=to_decimal(segment, 4),
        paid=to_decimal(segment, 5),
        adjudication_date=to_date(segment, 6),
        check_date=to_date(segment, 8),
        check_number=get(elements, 9),
        message=get(elements, 12),
    )


def _party(elements: list[str]) -> Party:
    name = " ".join(p for p in (get(elements, 4), get(elements, 3)) if p)
    return Party(
        entity_code=get(elements, 1), name=name, id_qualifier=get(elements, 8), id=get(elements, 9)
    )


def _member(elements: list[str]) -> Member:
    return Member(
        last_name=get(elements, 3),
        first_name=get(elements, 4),
        middle_name=get(elements, 5),
        member_id=get(elements, 9),
    )


class _Claim:
    def __init__(self, trace: str, patient: Member | None, provider: Party | None) -> None:
        self.fields: dict[str, Any] = {
            "patient_control_number": trace,
            "payer_claim_control_number": "",
            "patient": patient,
            "provider": provider,
            "bill_type": "",
            "clearinghouse_trace": "",
            "service_from": None,
            "service_to": None,
        }
        self.statuses: list[Status] = []
        self.lines: list[dict[str, Any]] = []

    def build(self, is_ack: bool) -> ClaimStatus:
        categories = {code.category for status in self.statuses for code in status.codes}
        accepted = not (categories & _REJECTED_CATEGORIES) if is_ack else None
        lines = tuple(LineStatus(**line) for line in self.lines)
        return ClaimStatus(
            **self.fields, statuses=tuple(self.statuses), lines=lines, accepted=accepted
        )


def parse_277(segments: list[Segment], context: SetContext) -> ClaimStatus277:
    """Read one 277 or 277CA set (ST..SE)."""
    component = context.delimiters.component
    bht: Segment | None = None
    payer = receiver = provider = None
    patient: Member | None = None
    level = ""
    level_entity: Party | None = None
    level_statuses: list[LevelStatus] = []
    pending: list[Status] = []
    claims: list[ClaimStatus] = []
    claim: _Claim | None = None
    line: dict[str, Any] | None = None
    is_ack = "X214" in context.version
    for segment in segments[1:-1]:
        elements = segment[1]
        segment_id = elements[0]
        if segment_id == "BHT":
            bht = segment
            is_ack = is_ack or get(elements, 6) == "TH"
        elif segment_id == "HL":
            if claim is not None:
                claims.append(claim.build(is_ack))
                claim, line = None, None
            if pending:
                level_statuses.append(
                    LevelStatus(level=level, entity=level_entity, statuses=tuple(pending))
                )
                pending = []
            level, level_entity = get(elements, 3), None
        elif segment_id == "NM1":
            if level in _PATIENT_LEVELS:
                patient = _member(elements)
            else:
                level_entity = _party(elements)
                if level == "20":
                    payer = level_entity
                elif level == "21":
                    receiver = level_entity
                elif level == "19":
                    provider = level_entity
        elif segment_id == "TRN":
            if level in _PATIENT_LEVELS:
                if claim is not None:
                    claims.append(claim.build(is_ack))
                claim, line = _Claim(get(elements, 2), patient, provider), None
        elif segment_id == "STC":
            status = _read_stc(segment, component)
            if line is not None:
                line["statuses"].append(status)
            elif claim is not None:
                claim.statuses.append(status)
            else:
                pending.append(status)
        elif segment_id == "SVC" and claim is not None:
            parts = get(elements, 1).split(component)
            line = {
                "procedure_qualifier": parts[0],
                "procedure": parts[1] if len(parts) > 1 else "",
                "modifiers": tuple(m for m in parts[2:6] if m),
                "charge": to_decimal(segment, 2),
                "paid": to_decimal(segment, 3),
                "revenue_code": get(elements, 4),
                "units": to_decimal(segment, 7),
                "line_control_number": "",
                "service_date": None,
                "statuses": [],
            }
            claim.lines.append(line)
        elif segment_id == "REF":
            qualifier, value = get(elements, 1), get(elements, 2)
            if line is not None and qualifier == "FJ":
                line["line_control_number"] = value
            elif claim is not None and qualifier == "1K":
                claim.fields["payer_claim_control_number"] = value
            elif claim is not None and qualifier == "BLT":
                claim.fields["bill_type"] = value
            elif claim is not None and qualifier == "D9":
                claim.fields["clearinghouse_trace"] = value
        elif segment_id == "DTP" and get(elements, 1) == "472":
            start, end = to_period(segment, 3)
            if line is not None:
                line["service_date"] = start
            elif claim is not None:
                claim.fields["service_from"], claim.fields["service_to"] = start, end
    if claim is not None:
        claims.append(claim.build(is_ack))
    if pending:
        level_statuses.append(
            LevelStatus(level=level, entity=level_entity, statuses=tuple(pending))
        )
    st = segments[0][1]
    return ClaimStatus277(
        kind="277CA" if is_ack else "277",
        set_id=st[1],
        control_number=st[2],
        implementation=context.version,
        reference=get(bht[1], 3) if bht else "",
        date=to_date(bht, 4) if bht else None,
        payer=payer,
        receiver=receiver,
        level_statuses=tuple(level_statuses),
        claims=tuple(claims),
    )


register_parser("277", parse_277)
