"""Mutated samples and random bytes: the readers raise X12Error or succeed, nothing else."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.x12 import generate_835
from claimdesk.x12 import X12Error, iter_transactions, read_interchanges, to_json
from claimdesk.x12._write_837 import write_837
from tests.x12.strategies import make_837_batch

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "x12-samples"
# Small files only (the 329 KB 837P would make each example slow), plus files that
# parse all the way (claimdesk's own 837s and a bench 835) so mutations reach deep.
SAMPLE_FILES = sorted(
    p.read_bytes() for p in SAMPLES.glob("*/*") if p.is_file() and p.stat().st_size < 8000
)
CORPUS = [
    *SAMPLE_FILES,
    write_837(make_837_batch("P", 2)),
    write_837(make_837_batch("I", 2)),
    generate_835(3),
]
# Characters that change structure when they land in the wrong place.
DELIMITERS = [b"~", b"*", b":", b"^", b"|", b">", b"\n", b"\r\n", b"ISA", b"SE*", b"\xef\xbb\xbf"]

FUZZ = settings(
    max_examples=60,
    deadline=2000,  # ms per example; a slow example is a bug, a cold start is not
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


def read_all_ways(data: bytes) -> None:
    """Every public reader on the same bytes: X12Error is the only allowed failure."""
    with contextlib.suppress(X12Error):
        to_json(read_interchanges(data))
    with contextlib.suppress(X12Error):
        for _ in iter_transactions(io.BytesIO(data), chunk_size=37):
            pass


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "duplicate", "delete"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(DELIMITERS))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif kind == "duplicate":
            end = data.find(b"~", at)
            start = data.rfind(b"~", 0, at) + 1
            if end > start:
                data[start:start] = data[start : end + 1]
    return bytes(data)


@FUZZ
@given(mutated())
def test_fuzz_mutated_samples_raise_only_x12_error(data: bytes) -> None:
    read_all_ways(data)


@settings(FUZZ, max_examples=40)
@given(st.binary(max_size=400))
def test_fuzz_random_bytes_raise_only_x12_error(data: bytes) -> None:
    read_all_ways(data)


@settings(FUZZ, max_examples=40)
@given(st.sampled_from(CORPUS), st.binary(max_size=300))
def test_fuzz_random_body_after_real_isa_raises_only_x12_error(sample: bytes, body: bytes) -> None:
    read_all_ways(sample[:106] + body)
