"""271 eligibility response (005010X279A1) into ``Eligibility271``.

HL levels: 20 information source (payer), 21 receiver, 22 subscriber,
23 dependent. EB starts a benefit; the DTP, MSG and LS/NM1/LE after it belong
to that benefit. AAA at any level is a rejection of the request at that level.
"""

from __future__ import annotations

from typing import Any

from claimdesk.x12._envelope import SetContext, register_parser
from claimdesk.x12._errors import X12SyntaxError
from claimdesk.x12._tokenize import Segment, get, to_date, to_decimal, to_period
from claimdesk.x12.models import Benefit, Eligibility271, Member, Party, Period, Rejection

_LEVEL_NAMES = {"20": "source", "21": "receiver", "22": "subscriber", "23": "dependent"}


def _party(elements: list[str]) -> Party:
    name = " ".join(p for p in (get(elements, 4), get(elements, 3)) if p)
    return Party(
        entity_code=get(elements, 1), name=name, id_qualifier=get(elements, 8), id=get(elements, 9)
    )


def _benefit(segment: Segment, member: str, repetition: str | None) -> dict[str, Any]:
    elements = segment[1]
    if not get(elements, 1):
        raise X12SyntaxError(
            "required element is missing", segment_index=segment[0], segment_id="EB", element="EB01"
        )
    service_types = get(elements, 3)
    return {
        "member": member,
        "info_code": elements[1],
        "coverage_level": get(elements, 2),
        "service_types": tuple(
            s for s in (service_types.split(repetition) if repetition else [service_types]) if s
        ),
        "insurance_type": get(elements, 4),
        "plan_description": get(elements, 5),
        "time_period": get(elements, 6),
        "amount": to_decimal(segment, 7),
        "percent": to_decimal(segment, 8),
        "quantity_qualifier": get(elements, 9),
        "quantity": to_decimal(segment, 10),
        "authorization_required": get(elements, 11),
        "in_network": get(elements, 12),
        "periods": [],
        "messages": [],
        "related_entities": [],
    }


def parse_271(segments: list[Segment], context: SetContext) -> Eligibility271:
    """Read one 271 set (ST..SE)."""
    bht: list[str] = []
    level = ""
    source = receiver = None
    members: dict[str, dict[str, Any]] = {}
    periods: dict[str, list[Period]] = {"subscriber": [], "dependent": []}
    traces: list[str] = []
    benefits: list[dict[str, Any]] = []
    rejections: list[Rejection] = []
    benefit: dict[str, Any] | None = None
    in_related = False
    for segment in segments[1:-1]:
        elements = segment[1]
        segment_id = elements[0]
        if segment_id == "EB":
            member = _LEVEL_NAMES.get(level, "")
            if member not in ("subscriber", "dependent"):
                raise X12SyntaxError(
                    "EB outside a subscriber or dependent level",
                    segment_index=segment[0],
                    segment_id="EB",
                    expected="HL*22 or HL*23 before it",
                )
            benefit = _benefit(segment, member, context.delimiters.repetition)
            benefits.append(benefit)
            in_related = False
        elif segment_id == "DTP":
            start, end = to_period(segment, 3)
            period = Period(qualifier=get(elements, 1), start=start, end=end)
            if benefit is not None:
                benefit["periods"].append(period)
            elif level in ("22", "23"):
                periods[_LEVEL_NAMES[level]].append(period)
        elif segment_id == "MSG" and benefit is not None:
            benefit["messages"].append(get(elements, 1))
        elif segment_id == "LS":
            in_related = True
        elif segment_id == "LE":
            in_related = False
        elif segment_id == "NM1":
            if in_related and benefit is not None:
                benefit["related_entities"].append(_party(elements))
            elif level == "20":
                source = _party(elements)
            elif level == "21":
                receiver = _party(elements)
            elif level in ("22", "23"):
                members[level] = {
                    "last_name": get(elements, 3),
                    "first_name": get(elements, 4),
                    "middle_name": get(elements, 5),
                    "member_id": get(elements, 9),
                }
        elif segment_id == "DMG" and level in members:
            members[level]["birth_date"] = to_date(segment, 2)
            members[level]["gender"] = get(elements, 3)
        elif segment_id == "TRN":
            traces.append(get(elements, 2))
        elif segment_id == "AAA":
            rejections.append(
                Rejection(
                    level="benefit" if benefit is not None else _LEVEL_NAMES.get(level, level),
                    valid=get(elements, 1),
                    reason_code=get(elements, 3),
                    follow_up_code=get(elements, 4),
                )
            )
        elif segment_id == "HL":
            new_level = get(elements, 3)
            if new_level in members and new_level in ("22", "23"):
                raise X12SyntaxError(
                    "a second subscriber or dependent level: batch 271s are not supported",
                    segment_index=segment[0],
                    segment_id="HL",
                    element="HL03",
                    expected="one HL*22 and at most one HL*23 per set",
                )
            level, benefit, in_related = new_level, None, False
        elif segment_id == "BHT":
            bht = elements
    st = segments[0][1]
    subscriber = members.get("22")
    dependent = members.get("23")
    return Eligibility271(
        set_id=st[1],
        control_number=st[2],
        implementation=context.version,
        reference=get(bht, 3),
        source=source,
        receiver=receiver,
        subscriber=Member(**subscriber) if subscriber else None,
        subscriber_periods=tuple(periods["subscriber"]),
        dependent=Member(**dependent) if dependent else None,
        dependent_periods=tuple(periods["dependent"]),
        trace_numbers=tuple(traces),
        benefits=tuple(Benefit(**b) for b in benefits),
        rejections=tuple(rejections),
    )


register_parser("271", parse_271)
