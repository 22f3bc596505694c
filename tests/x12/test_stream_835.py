"""Streaming an 835: its start, each claim as it closes, its end once SE and balance are checked."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest

from bench.x12 import generate_835
from claimdesk.x12 import (
    ClaimPayment,
    EnvelopeMismatch,
    ParsedSet,
    Remittance835,
    RemittanceEnd,
    RemittanceStart,
    X12Error,
    X12SyntaxError,
    iter_transactions,
    remittance_from_stream,
    stream_transactions,
)
from tests.x12.test_parse_835 import CLAIM, HEADER, wrap
from tests.x12.test_samples import EXPECTED, SAMPLES


def _sets(items: list[Any]) -> list[Remittance835]:
    """The whole-set models a stream's items describe, checking their order on the way."""
    out: list[Remittance835] = []
    start: RemittanceStart | None = None
    claims: list[ClaimPayment] = []
    for item in items:
        if isinstance(item, RemittanceStart):
            assert start is None, "a set started inside another"
            start, claims = item, []
        elif isinstance(item, ClaimPayment):
            assert start is not None, "a claim outside a set"
            claims.append(item)
        elif isinstance(item, RemittanceEnd):
            assert start is not None and item.claim_count == len(claims)
            out.append(remittance_from_stream(start, claims, item))
            start = None
    assert start is None, "a set without its end"
    return out


_SAMPLES_835 = sorted(k for k in EXPECTED if k.startswith("835/"))


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared x12-samples not present")
@pytest.mark.parametrize("name", _SAMPLES_835)
def test_a_streamed_sample_reads_as_the_whole_read_does(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    expected = EXPECTED[name]
    if expected is None:
        whole = [p.transaction for p in iter_transactions(data)]
        assert whole and all(isinstance(t, Remittance835) for t in whole)
        assert _sets(list(stream_transactions(data))) == whole
        return
    with pytest.raises(X12Error) as raised:
        list(stream_transactions(data))
    assert str(raised.value).startswith(expected)


def test_a_generated_file_streams_to_the_same_sets_with_three_a_set() -> None:
    data = generate_835(10, claims_per_set=3)
    streamed = _sets(list(stream_transactions(data, chunk_size=7)))
    assert streamed == [p.transaction for p in iter_transactions(data)]
    assert [len(s.claims) for s in streamed] == [3, 3, 3, 1]


def test_the_end_reports_each_unbalanced_rule_as_the_whole_read_does() -> None:
    text = wrap(
        HEADER.replace("BPR*I*150.00", "BPR*I*151.00")
        + CLAIM.replace("CAS*CO*45*10.00", "CAS*CO*45*9.00")
    )
    [end] = [i for i in stream_transactions(text) if isinstance(i, RemittanceEnd)]
    [whole] = [p.transaction for p in iter_transactions(text)]
    assert not end.balanced and end.balance_errors == whole.balance_errors
    assert {e.rule for e in end.balance_errors} == {"claim", "payment"}
    assert end.paid == whole.claims[0].paid


def test_claims_before_a_defect_are_yielded_and_the_wrong_se_count_stops_the_end() -> None:
    text = wrap(HEADER + CLAIM + CLAIM.replace("PCN1", "PCN2")).replace("SE*", "SE*9", 1)
    seen: list[Any] = []
    with pytest.raises(EnvelopeMismatch) as raised:
        for item in stream_transactions(text):
            seen.append(item)
    assert raised.value.element == "SE01"
    # The second claim closes at the SE, which is checked first: only the first came out.
    assert [type(i) for i in seen] == [RemittanceStart, ClaimPayment]


def test_a_header_segment_after_a_claim_is_refused_where_it_is() -> None:
    text = wrap(HEADER + CLAIM + "N1*PE*OTHER CLINIC*XX*1234567893~")
    with pytest.raises(X12SyntaxError) as raised:
        list(stream_transactions(text))
    assert raised.value.segment_id == "N1"
    assert raised.value.segment_index == text[: text.index("N1*PE*OTHER")].count("~") + 1
    with pytest.raises(X12SyntaxError):  # the whole read is built on the stream: the same
        list(iter_transactions(text))


def test_a_set_cut_short_names_where_the_data_ends() -> None:
    text = wrap(HEADER + CLAIM)
    cut = text[: text.index("SE*")]
    with pytest.raises(X12SyntaxError) as raised:
        list(stream_transactions(cut))
    assert "ends inside a transaction set" in str(raised.value)


def test_other_sets_come_whole_as_parsed_sets() -> None:
    [item] = list(stream_transactions(wrap("BHT*0022*13*1*20240102*1200~", set_id="276")))
    assert isinstance(item, ParsedSet) and item.transaction.set_id == "276"


def _streamed_peak_mb(claims: int) -> tuple[int, float]:
    data = generate_835(claims, claims_per_set=claims)
    gc.collect()
    tracemalloc.start()
    try:
        count = sum(1 for i in stream_transactions(data) if isinstance(i, ClaimPayment))
        return count, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_a_5000_claim_set_streams_without_holding_its_claims() -> None:
    # Held whole, 5,000 claims' segments and models take about 50 MB; streamed, about 1 MB.
    count, peak = _streamed_peak_mb(5000)
    assert count == 5000
    assert peak < 10, f"streaming peak {peak:.1f} MB"


@pytest.mark.soak
def test_a_100000_claim_set_streams_without_holding_its_claims() -> None:
    count, peak = _streamed_peak_mb(100_000)
    assert count == 100_000
    assert peak < 10, f"streaming peak {peak:.1f} MB"
