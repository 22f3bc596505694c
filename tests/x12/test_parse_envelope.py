"""Interchange structure: TA1, several groups and interchanges, trailer checks, streaming."""

from __future__ import annotations

import io

import pytest

from claimdesk.x12 import (
    EnvelopeMismatch,
    OtherTransaction,
    X12SyntaxError,
    iter_transactions,
    read_interchanges,
)

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*240102*1200*^*00501*000000001*0*T*:~"
)
GROUP = "GS*HR*S*R*20240102*1200*{n}*X*005010X212~ST*276*0001~BHT*0010~SE*3*0001~GE*1*{n}~"


def interchange(groups: int = 1, control: str = "000000001") -> str:
    body = "".join(GROUP.format(n=i + 1) for i in range(groups))
    return ISA.replace("000000001", control) + body + f"IEA*{groups}*{control}~"


def test_parse_envelope_reads_groups_and_header_fields() -> None:
    [ic] = read_interchanges(interchange(groups=2))
    assert (ic.control_number, ic.sender_id, ic.receiver_id, ic.usage) == (
        "000000001",
        "SENDER",
        "RECEIVER",
        "T",
    )
    assert [g.control_number for g in ic.groups] == ["1", "2"]
    [transaction] = ic.groups[0].transactions
    assert isinstance(transaction, OtherTransaction)
    assert (transaction.set_id, transaction.segment_count) == ("276", 3)


def test_parse_envelope_reads_ta1_before_gs() -> None:
    text = ISA + "TA1*000000123*240101*1100*R*006~IEA*0*000000001~"
    [ic] = read_interchanges(text)
    [ack] = ic.acknowledgments
    assert (ack.control_number, ack.ack_code, ack.note_code) == ("000000123", "R", "006")
    assert ic.groups == ()


def test_parse_envelope_reads_several_interchanges_streaming() -> None:
    text = interchange() + "\n" + interchange(control="000000002")
    parsed = list(iter_transactions(io.BytesIO(text.encode()), chunk_size=7))
    assert [p.interchange.control_number for p in parsed] == ["000000001", "000000002"]


def test_parse_envelope_rejects_wrong_se_count() -> None:
    with pytest.raises(EnvelopeMismatch, match="segment 5 SE SE01") as caught:
        read_interchanges(interchange().replace("SE*3", "SE*4"))
    assert caught.value.expected == "3"


def test_parse_envelope_rejects_wrong_ge_count_and_iea_control() -> None:
    with pytest.raises(EnvelopeMismatch, match="segment 6 GE GE01"):
        read_interchanges(interchange().replace("GE*1*1", "GE*2*1"))
    with pytest.raises(EnvelopeMismatch, match="segment 7 IEA IEA02"):
        read_interchanges(interchange()[:-10] + "000000009~")


def test_parse_envelope_rejects_missing_iea() -> None:
    with pytest.raises(X12SyntaxError, match="segment 7: data ends inside an interchange"):
        read_interchanges(interchange().rsplit("IEA", 1)[0])


def test_parse_envelope_streams_sets_before_a_later_defect() -> None:
    text = interchange() + interchange(control="000000002").replace("SE*3", "SE*9")
    stream = iter_transactions(text)
    assert next(stream).interchange.control_number == "000000001"
    with pytest.raises(EnvelopeMismatch):
        next(stream)


def test_parse_envelope_error_never_shows_an_unreadable_segment_id() -> None:
    text = interchange().replace("GE*1*1~", "JOHN SMITH 1970*X~GE*1*1~")
    with pytest.raises(X12SyntaxError) as caught:
        read_interchanges(text)
    assert "JOHN" not in str(caught.value)
    assert "segment 6 (unreadable segment id)" in str(caught.value)
