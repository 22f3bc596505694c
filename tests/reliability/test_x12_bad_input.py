"""Every X12 reader on bad input: only ``X12Error``, no hang, memory bounded.

Extends tests/x12/test_fuzz.py (mutated small samples, random bytes, a random body
after a real ISA, through ``read_interchanges``/``to_json`` and ``iter_transactions``)
and tests/x12/test_tokenize.py (a 2 MiB segment without terminator; tokenizer memory
flat in the file size) with the readers and shapes those leave out:

- ``parse_837``, ``iter_interchanges``, ``validate``/``check_tr3`` on mutated shared
  samples of every size (the 329 KB 837P included, read from /work/shared, never copied);
- huge segments and elements inside a well-formed envelope, read from a file;
- deep and wide loops: 20,000 nested HL levels, 10,000 claims in one 835 set;
- memory: tracemalloc peak while reading them, under stated bounds.

Each example has a hypothesis deadline; each test a pytest-timeout.
"""

from __future__ import annotations

import contextlib
import io
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.x12 import generate_835
from claimdesk.x12 import (
    X12Error,
    iter_interchanges,
    iter_transactions,
    parse_837,
    read_interchanges,
    to_json,
    validate,
    write_837,
)
from claimdesk.x12.validate import check_tr3
from tests.x12.strategies import make_837_batch
from tests.x12.test_fuzz import DELIMITERS, SAMPLES

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared x12-samples not present")

ALL_SAMPLES = {
    str(p.relative_to(SAMPLES)): p.read_bytes()
    for p in sorted(SAMPLES.glob("*/*"))
    if p.is_file() and SAMPLES.is_dir()
}
SAMPLES_837 = [
    data for name, data in ALL_SAMPLES.items() if name.startswith("837") and len(data) < 8000
]
TR3_SAMPLES = [
    data for name, data in ALL_SAMPLES.items() if name.split("/")[0] in ("270", "271", "276", "277")
]
BIG_837 = ALL_SAMPLES.get("837P/ims__x12_many_claims.txt", b"")
OWN_837 = [write_837(make_837_batch("P", 3)), write_837(make_837_batch("I", 3))]

EXAMPLE = settings(
    max_examples=40,
    deadline=3000,  # ms per example: a slow example is a bug
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
# Inputs tried per test, reported in the README's Reliability section.
INPUTS_TRIED: dict[str, int] = {}


def _count(name: str) -> None:
    INPUTS_TRIED[name] = INPUTS_TRIED.get(name, 0) + 1


def only_x12_error(read: Callable[[], Any]) -> None:
    """Run a reader: succeeding or raising X12Error are the only allowed outcomes."""
    with contextlib.suppress(X12Error):
        read()


def fix_set_counts(data: bytes) -> bytes:
    """SE01 recounted, so a mutation inside a set reaches the set's parser, not just SE."""
    segments = data.split(b"~")
    start = None
    for i, segment in enumerate(segments):
        seg = segment.strip()
        if seg.startswith(b"ST*"):
            start = i
        elif seg.startswith(b"SE*") and start is not None:
            parts = seg.split(b"*")
            parts[1] = str(i - start + 1).encode()
            segments[i] = b"*".join(parts)
            start = None
    return b"~".join(segments)


@st.composite
def mutate(draw: st.DrawFn, corpus: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "dup", "swap"]))
        # Mostly past the ISA/GS, where the set parsers are; sometimes anywhere.
        low = 0 if draw(st.integers(0, 7)) == 0 else min(len(data) - 1, 200)
        at = draw(st.integers(max(0, low), max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            extra = [b"HL*1**20*1~", b"CLM*X*1~", b"LX*1~", b"HL*9*1*22*0~", b"SV1*HC:1*A~"]
            data[at:at] = draw(st.sampled_from([*DELIMITERS, *extra]))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind in ("dup", "swap"):
            start = data.rfind(b"~", 0, at) + 1
            end = data.find(b"~", at)
            if end > start:
                segment = data[start : end + 1]
                if kind == "dup":
                    data[start:start] = segment * draw(st.integers(1, 50))
                else:
                    del data[start : end + 1]
                    data[len(data) // 2 : len(data) // 2] = segment
    mutated = bytes(data)
    return fix_set_counts(mutated) if draw(st.booleans()) else mutated


@pytest.mark.timeout(120)
@EXAMPLE
@given(mutate(SAMPLES_837 + OWN_837))
def test_parse_837_on_mutated_837s_raises_only_x12_error(data: bytes) -> None:
    _count("parse_837 mutated 837")
    only_x12_error(lambda: parse_837(data))
    only_x12_error(lambda: parse_837(io.BytesIO(data)))


@pytest.mark.timeout(120)
@settings(EXAMPLE, max_examples=8, deadline=10_000)
@given(mutate([BIG_837]))
def test_every_reader_on_the_mutated_329_kb_837(data: bytes) -> None:
    _count("all readers, mutated 329 KB 837P")
    only_x12_error(lambda: parse_837(data))
    only_x12_error(lambda: to_json(read_interchanges(io.BytesIO(data), chunk_size=4096)))


@pytest.mark.timeout(120)
@EXAMPLE
@given(mutate([d for d in ALL_SAMPLES.values() if len(d) < 8000]))
def test_iter_interchanges_on_mutated_samples_raises_only_x12_error(data: bytes) -> None:
    _count("iter_interchanges mutated samples")
    only_x12_error(
        lambda: [to_json([i]) for i in iter_interchanges(io.BytesIO(data), chunk_size=53)]
    )


@pytest.mark.timeout(120)
@EXAMPLE
@given(mutate(TR3_SAMPLES))
def test_validators_on_mutated_270_to_277_never_raise(data: bytes) -> None:
    """``validate`` and ``check_tr3`` report problems as issues: they raise nothing at all."""
    _count("validate/check_tr3 mutated 270-277")
    for issue in [*validate(data), *check_tr3(data)]:
        assert issue.message  # every issue says something


@pytest.mark.timeout(60)
@settings(EXAMPLE, max_examples=30)
@given(st.binary(min_size=0, max_size=2000))
def test_parse_837_and_validators_on_random_bytes(data: bytes) -> None:
    _count("parse_837/check_tr3 random bytes")
    only_x12_error(lambda: parse_837(data))
    assert isinstance(check_tr3(data), list)


# --- huge segments, deep and wide loops, memory ----------------------------------------

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*240102*1200*^*00501*000000001*0*P*:~"
)


def _envelope(set_id: str, version: str, body: list[str]) -> bytes:
    segments = [f"ST*{set_id}*0001*{version}", *body]
    segments.append(f"SE*{len(segments) + 1}*0001")
    text = (
        ISA
        + f"GS*HC*SENDER*RECEIVER*20240102*1200*1*X*{version}~"
        + "~".join(segments)
        + "~GE*1*1~IEA*1*000000001~"
    )
    return text.encode()


@contextlib.contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Yields a list that holds the tracemalloc peak (bytes) once the block ends."""
    result: list[int] = []
    tracemalloc.start()
    try:
        yield result
    finally:
        result.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


def _read_file_every_way(path: Path) -> None:
    with path.open("rb") as stream:
        only_x12_error(lambda: [t for t in iter_transactions(stream)])
    with path.open("rb") as stream:
        only_x12_error(lambda: parse_837(stream))


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("name", "body"),
    [
        # An element of 900,000 characters (under the tokenizer's 1 MiB segment limit).
        ("huge NM1 element", ["BHT*0019*00*1*20240102*1200*CH", "NM1*41*2*" + "A" * 900_000]),
        # 5,000 elements in one segment.
        ("5,000 elements", ["BHT*0019*00*1*20240102*1200*CH", "REF*" + "*".join(["X"] * 5000)]),
        # 30,000 composite components in one element.
        (
            "30,000 components",
            ["BHT*0019*00*1*20240102*1200*CH", "HI*" + ":".join(["ABK"] * 30000)],
        ),
        # 20,000 HL levels, each the child of the one before.
        (
            "20,000 nested HL",
            ["BHT*0019*00*1*20240102*1200*CH"]
            + [
                f"HL*{n}*{n - 1 if n > 1 else ''}*{'20' if n == 1 else '22'}*1"
                for n in range(1, 20_001)
            ],
        ),
        # One claim with 5,000 service lines (the 837 allows 999).
        (
            "5,000 lines in one claim",
            [
                "BHT*0019*00*1*20240102*1200*CH",
                "HL*1**20*1",
                "HL*2*1*22*0",
                "CLM*PCN1*500000***11:B:1",
            ]
            + [f"LX*{n}~SV1*HC:99213*100*UN*1***1~DTP*472*D8*20240101" for n in range(1, 5001)],
        ),
    ],
)
def test_huge_segments_and_deep_loops_in_837_raise_only_x12_error_quickly(
    tmp_path: Path, name: str, body: list[str]
) -> None:
    path = tmp_path / "big.837"
    path.write_bytes(_envelope("837", "005010X222A1", body))
    size = path.stat().st_size
    started = time.perf_counter()
    with peak_memory() as peak:
        _read_file_every_way(path)
    elapsed = time.perf_counter() - started
    _count(f"837 with {name}")
    assert elapsed < 20, f"{name}: {elapsed:.1f} s"
    # Bounded by a small multiple of the input (parsed segments are kept per set), never more.
    assert peak[0] < max(30_000_000, 40 * size), f"{name}: peak {peak[0] / 1e6:.1f} MB"


@pytest.mark.timeout(60)
def test_deep_hl_chain_in_270_is_reported_by_the_validator_not_crashed() -> None:
    body = ["BHT*0022*13*1*20240102*1200"] + [
        f"HL*{n}*{n - 1 if n > 1 else ''}*{'20' if n == 1 else '21'}*1" for n in range(1, 20_001)
    ]
    data = _envelope("270", "005010X279A1", body)
    started = time.perf_counter()
    issues = check_tr3(data)
    assert time.perf_counter() - started < 20
    assert any("HL02" in (i.element or "") or "HL" in i.message for i in issues)
    _count("270 with 20,000 nested HL")


@pytest.mark.timeout(120)
def test_835_of_10000_claims_in_one_set_streams_in_bounded_memory(tmp_path: Path) -> None:
    """A wide loop: 10,000 claims in ONE set (claims_per_set) read from a file."""
    path = tmp_path / "wide.835"
    path.write_bytes(generate_835(10_000, claims_per_set=10_000))
    size = path.stat().st_size
    with peak_memory() as peak, path.open("rb") as stream:
        (parsed,) = list(iter_transactions(stream))
    assert len(parsed.transaction.claims) == 10_000
    # One set's typed models are kept (≈ 5x the file); the file itself is streamed.
    assert peak[0] < 120_000_000, f"peak {peak[0] / 1e6:.1f} MB for {size / 1e6:.1f} MB"
    _count("835 with 10,000 claims in one set")


@pytest.mark.timeout(60)
def test_30_mb_without_terminators_fails_fast_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "noterm.x12"
    with path.open("wb") as out:
        out.write(ISA.encode() + b"GS*HC")
        for _ in range(30):
            out.write(b"A" * 1_000_000)
    with peak_memory() as peak, path.open("rb") as stream, pytest.raises(X12Error):
        list(iter_transactions(stream))
    assert peak[0] < 12_000_000, f"peak {peak[0] / 1e6:.1f} MB on a 30 MB file"
    _count("30 MB without terminators")
