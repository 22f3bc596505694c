"""999: AK1/AK2/IK3/IK4/IK5/AK9."""

from __future__ import annotations

import pytest

from claimdesk.x12 import Ack999, X12SyntaxError, iter_transactions

ISA = (
    "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*CLAIMD"
    "ESK      *240102*1200*^*00501*000000007*0*T*:~"
)


def wrap(body: str) -> str:
    count = body.count("~") + 2
    return (
        f"{ISA}GS*FA*CH*CD*20240102*1200*7*X*005010X231A1~ST*999*0001*005010X231A1~{body}"
        f"SE*{count}*0001~GE*1*7~IEA*1*000000007~"
    )


def parse_one(text: str) -> Ack999:
    [parsed] = list(iter_transactions(text))
    assert isinstance(parsed.transaction, Ack999)
    return parsed.transaction


def test_parse_999_reads_rejected_set_with_segment_and_element_errors() -> None:
    ack = parse_one(
        wrap(
            "AK1*HC*17*005010X222A1~AK2*837*0001*005010X222A1~"
            "IK3*NM1*8*2010*8~IK4*9:2*67*7*BADID~IK4*3**1~IK5*R*5*I5~"
            "AK2*837*0002*005010X222A1~IK5*A~AK9*P*2*2*1~"
        )
    )
    assert (ack.functional_id, ack.group_control_number, ack.group_status) == ("HC", "17", "P")
    assert (ack.sets_included, ack.sets_received, ack.sets_accepted) == (2, 2, 1)
    rejected, accepted = ack.acks
    assert (rejected.control_number, rejected.status, rejected.error_codes) == (
        "0001",
        "R",
        ("5", "I5"),
    )
    [segment_error] = rejected.segment_errors
    assert (segment_error.segment_id, segment_error.position, segment_error.loop) == (
        "NM1",
        8,
        "2010",
    )
    first, second = segment_error.element_errors
    assert (first.position, first.component, first.reference, first.code) == (9, 2, "67", "7")
    assert first.bad_value == "BADID"
    assert (second.position, second.component, second.code) == (3, None, "1")
    assert (accepted.status, accepted.segment_errors) == ("A", ())


def test_parse_999_reads_group_level_errors() -> None:
    ack = parse_one(wrap("AK1*HC*17~AK9*R*1*0*0*2*3~"))
    assert ack.acks == ()
    assert ack.group_error_codes == ("2", "3")


def test_parse_999_rejects_ik4_without_ik3() -> None:
    with pytest.raises(X12SyntaxError, match="segment 6 IK4: segment outside a segment error"):
        parse_one(wrap("AK1*HC*17~AK2*837*1~IK4*1**1~IK5*R~AK9*R*1*1*0~"))


def test_parse_999_rejects_missing_ak9() -> None:
    with pytest.raises(X12SyntaxError, match="999 has no AK9"):
        parse_one(wrap("AK1*HC*17~"))
