"""999 implementation acknowledgment (005010X231A1) into ``Ack999``."""

from __future__ import annotations

from claimdesk.x12._envelope import SetContext, register_parser
from claimdesk.x12._errors import X12SyntaxError
from claimdesk.x12._tokenize import Segment, get, require
from claimdesk.x12.models import Ack999, ElementError, SegmentError, SetAck


def _int_or_none(segment: Segment, index: int) -> int | None:
    text = get(segment[1], index)
    if not text:
        return None
    if not text.isdecimal():
        raise X12SyntaxError(
            "element is not a whole number",
            segment_index=segment[0],
            segment_id=segment[1][0],
            element=f"{segment[1][0]}{index:02d}",
        )
    return int(text)


def _outside(segment: Segment, where: str) -> X12SyntaxError:
    return X12SyntaxError(
        f"segment outside {where}", segment_index=segment[0], segment_id=segment[1][0]
    )


def parse_999(segments: list[Segment], context: SetContext) -> Ack999:
    """Read one 999 set (ST..SE)."""
    component = context.delimiters.component
    ak1: list[str] = []
    ak9: Segment | None = None
    acks: list[SetAck] = []
    # The set being acknowledged: AK2 fields, its IK3s, each IK3's IK4s.
    ak2: Segment | None = None
    segment_errors: list[tuple[Segment, list[ElementError]]] = []

    def close_set(ik5: Segment | None) -> None:
        assert ak2 is not None
        errors = tuple(
            SegmentError(
                segment_id=get(ik3[1], 1),
                position=_int_or_none(ik3, 2),
                loop=get(ik3[1], 3),
                code=get(ik3[1], 4),
                element_errors=tuple(ik4s),
            )
            for ik3, ik4s in segment_errors
        )
        acks.append(
            SetAck(
                set_id=get(ak2[1], 1),
                control_number=get(ak2[1], 2),
                implementation=get(ak2[1], 3),
                status=require(ik5, 1) if ik5 else "",
                error_codes=tuple(c for c in (ik5[1][2:7] if ik5 else []) if c),
                segment_errors=errors,
            )
        )

    for segment in segments:
        elements = segment[1]
        segment_id = elements[0]
        if segment_id == "AK1":
            ak1 = elements
        elif segment_id == "AK2":
            if ak2 is not None:
                close_set(None)
            ak2, segment_errors = segment, []
        elif segment_id == "IK3":
            if ak2 is None:
                raise _outside(segment, "a set response (no AK2 before it)")
            segment_errors.append((segment, []))
        elif segment_id == "IK4":
            if not segment_errors:
                raise _outside(segment, "a segment error (no IK3 before it)")
            where = get(elements, 1).split(component)
            segment_errors[-1][1].append(
                ElementError(
                    position=int(where[0]) if where[0].isdecimal() else None,
                    component=int(where[1]) if len(where) > 1 and where[1].isdecimal() else None,
                    reference=get(elements, 2),
                    code=get(elements, 3),
                    bad_value=get(elements, 4),
                )
            )
        elif segment_id == "IK5":
            if ak2 is None:
                raise _outside(segment, "a set response (no AK2 before it)")
            close_set(segment)
            ak2, segment_errors = None, []
        elif segment_id == "AK9":
            if ak2 is not None:
                close_set(None)
                ak2 = None
            ak9 = segment
    if ak9 is None:
        raise X12SyntaxError(
            "999 has no AK9 segment", segment_index=segments[-1][0], segment_id="SE", expected="AK9"
        )
    st = segments[0][1]
    return Ack999(
        set_id=st[1],
        control_number=st[2],
        implementation=context.version,
        functional_id=get(ak1, 1),
        group_control_number=get(ak1, 2),
        group_version=get(ak1, 3),
        acks=tuple(acks),
        group_status=require(ak9, 1),
        sets_included=_int_or_none(ak9, 2),
        sets_received=_int_or_none(ak9, 3),
        sets_accepted=_int_or_none(ak9, 4),
        group_error_codes=tuple(c for c in ak9[1][5:10] if c),
    )


register_parser("999", parse_999)
