"""X12 read benchmark: one generated 835, read by claimdesk, pyx12 and a bare split.

Run: ``uv run python -m bench.x12`` (``--quick``: 1,000 claims instead of 10,000).
The same file (1,000 claims a set, as payers split 835s per payment) is read, warm,
best of N, by:

- **ours**: ``read_interchanges`` into typed models (claims counted, paid totals and
  set balance checked against what the generator wrote);
- **pyx12 full**: ``x12n_document`` (map walk, validation, 999), its maps loaded before
  the clock starts; it must find the file clean and accept it;
- **pyx12 reader**: ``pyx12.x12file.X12Reader``, segments only, no map;
- **floor**: ``bytes.split`` on the segment terminator, then each segment on the
  element separator, kept as a list: the least a reader hands on (segments and
  their elements, untyped). The split on the terminator alone is printed beside it.

Targets: ours >= 20x faster than pyx12 full, and within 5x of the floor; and the
streaming read (``stream_transactions`` from a file: each claim yielded, not kept)
peaks under 30 MB of traced memory with 10,000 and with 100,000 claims in one set
(``bench/remit_memory.py`` does the same for posting).
"""

from __future__ import annotations

import argparse
import gc
import io
import logging
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench._common import Bench, best_of, seconds
from claimdesk.x12 import ClaimPayment, Remittance835, read_interchanges, stream_transactions

# 835s are split per payment in practice; 1,000 claims a set keeps one set's models small.
CLAIMS_PER_SET = 1000
TARGET_VS_PYX12 = 20.0
TARGET_VS_FLOOR = 5.0
TARGET_STREAM_MB = 30.0
STREAM_SIZES = (10_000, 100_000)  # claims, all in one set


def generate_835(claims: int, claims_per_set: int = CLAIMS_PER_SET) -> bytes:
    """A balanced 005010X221A1 835 with ``claims`` claims of two lines each (deterministic)."""
    out: list[str] = [
        "ISA*00*          *00*          *ZZ*BENCHPAYER     *ZZ*BENCHPROV      "
        "*240102*1200*^*00501*000000001*0*P*:~",
        "GS*HP*BENCHPAYER*BENCHPROV*20240102*1200*1*X*005010X221A1~",
    ]
    sets = 0
    for first in range(0, claims, claims_per_set):
        sets += 1
        count = min(claims_per_set, claims - first)
        body: list[str] = []
        total = Decimal(0)
        for n in range(first, first + count):
            charge1 = Decimal(100 + n % 50)
            charge2 = Decimal(40 + n % 7)
            paid1 = charge1 * Decimal("0.8")
            paid2 = charge2 - Decimal(10)
            paid = paid1 + paid2
            total += paid
            body += [
                f"CLP*PCN{n:08d}*1*{charge1 + charge2}*{paid}*10.00*12*PAYER{n:010d}*11*1~",
                f"NM1*QC*1*PATIENT*BENCH****MI*M{n:09d}~",
                "DTM*232*20231201~",
                "DTM*233*20231201~",
                f"SVC*HC:99213:25*{charge1}*{paid1}**1~",
                "DTM*472*20231201~",
                f"CAS*CO*45*{charge1 - paid1}~",
                f"REF*6R*L{n:08d}A~",
                f"AMT*B6*{paid1}~",
                f"SVC*HC:85025*{charge2}*{paid2}**1~",
                "DTM*472*20231201~",
                "CAS*PR*2*10.00~",
                f"REF*6R*L{n:08d}B~",
                "LQ*HE*N130~",
            ]
        header = [
            f"ST*835*{sets:04d}~",
            f"BPR*I*{total}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999999999*DA*"
            "654321*20240105~",
            f"TRN*1*EFT{sets:06d}*1512345678~",
            "DTM*405*20240104~",
            "N1*PR*BENCH HEALTH PLAN*XV*12345~",
            # 1000A's required address and technical contact: pyx12 finds the file clean.
            "N3*1 PAYER WAY~",
            "N4*HARRISBURG*PA*17111~",
            "PER*BL*EDI DESK*TE*8005551234~",
            "N1*PE*BENCH CLINIC*XX*1234567893~",
            "LX*1~",
        ]
        segment_count = len(header) + len(body) + 1
        out += header + body + [f"SE*{segment_count}*{sets:04d}~"]
    out += [f"GE*{sets}*1~", "IEA*1*000000001~"]
    return "\n".join(out).encode("ascii")


def expected_835(claims: int) -> tuple[int, Decimal]:
    """(claim count, total paid) that ``generate_835(claims)`` wrote: the readers' check."""
    paid = Decimal(0)
    for n in range(claims):
        paid += Decimal(100 + n % 50) * Decimal("0.8") + Decimal(40 + n % 7) - Decimal(10)
    return claims, paid


def parse_835(data: bytes) -> tuple[int, Decimal]:
    """Read ``data`` into typed models; (claims, total paid), every set balanced."""
    claims, paid = 0, Decimal(0)
    for interchange in read_interchanges(data):
        for group in interchange.groups:
            for transaction in group.transactions:
                if not (isinstance(transaction, Remittance835) and transaction.balanced):
                    raise AssertionError(f"set {transaction!r:.80} is not a balanced 835")
                claims += len(transaction.claims)
                paid += sum((c.paid for c in transaction.claims), Decimal(0))
    return claims, paid


def split_floor(data: bytes) -> list[list[bytes]]:
    """The file as segments of elements, by ``bytes.split`` alone (kept, as a reader's are)."""
    return [segment.split(b"*") for segment in data.split(b"~") if segment.strip()]


def split_terminator(data: bytes) -> int:
    return len(data.split(b"~"))


class Pyx12:
    """pyx12 4.0 in this process, warm: imported, its maps parsed once before timing.

    ``x12n_document`` parses its map XML on every call (no cache in pyx12 4.0.0); a
    memo in front of ``pyx12.map_if.load_map_file`` is its programmatic equivalent
    with the maps already loaded. ``same_as_fresh`` checks the memo changes nothing.
    """

    def __init__(self) -> None:
        import pyx12.map_if
        import pyx12.params
        import pyx12.x12file
        import pyx12.x12n_document

        logging.getLogger("pyx12").setLevel(logging.CRITICAL)
        self._map_if = pyx12.map_if
        self._document = pyx12.x12n_document.x12n_document
        self._reader = pyx12.x12file.X12Reader
        self.param = pyx12.params.params()
        self._load = pyx12.map_if.load_map_file
        self._maps: dict[tuple[str, str | None], Any] = {}

    def _cached(self, map_file: str, param: Any, map_path: str | None = None) -> Any:
        key = (map_file, map_path)
        if key not in self._maps:
            self._maps[key] = self._load(map_file, param, map_path)
        return self._maps[key]

    def full(self, text: str, *, cached: bool = True, report: bool = False) -> tuple[bool, str]:
        """(valid: no error found, its JSON error report when ``report``) for ``text``.

        The 999 is written as ``x12valid`` writes it (for an 835 pyx12 4.0.0 gives up on
        its AK2, as ST03 is not used in 835s, and logs that); the JSON report, only
        wanted for the checks, lists what it found.
        """
        self._map_if.load_map_file = self._cached if cached else self._load
        try:
            found = io.StringIO()
            valid = self._document(
                param=self.param,
                src_file=io.StringIO(text),
                fd_997=io.StringIO(),
                fd_html=None,
                fd_json=found if report else None,
            )
        finally:
            self._map_if.load_map_file = self._load
        return bool(valid), found.getvalue()

    def segments(self, text: str) -> int:
        """The bare segment reader: how many segments it yields."""
        return sum(1 for _segment in self._reader(io.StringIO(text)))


def peak_streaming_mb(data: bytes) -> tuple[float, int]:
    """(peak traced MB, claims read) of ``stream_transactions`` over ``data`` from a file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.835"
        path.write_bytes(data)
        del data
        gc.collect()
        tracemalloc.start()
        try:
            with path.open("rb") as stream:
                claims = sum(
                    1 for item in stream_transactions(stream) if isinstance(item, ClaimPayment)
                )
            return tracemalloc.get_traced_memory()[1] / 1e6, claims
        finally:
            tracemalloc.stop()


def _timed(bench: Bench, label: str, repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    elapsed, result = best_of(repeat, work)
    bench.info(f"{label:<13} {seconds(elapsed):>9}  (best of {repeat})")
    return elapsed, result


def run(bench: Bench, claims: int, repeat: int, pyx12_repeat: int) -> None:
    data = generate_835(claims)
    text = data.decode("ascii")
    expected = expected_835(claims)
    sets = -(-claims // CLAIMS_PER_SET)
    bench.info(f"835: {claims:,} claims in {sets} set(s), {len(data):,} bytes")
    pyx12 = Pyx12()
    sample = generate_835(50).decode("ascii")
    # Warm: every reader once (imports, maps, first allocations), outside the clock.
    parse_835(data)
    # The memo must not change what pyx12 finds: same verdict and report, clean and broken.
    broken = sample.replace("N3*1 PAYER WAY~", "", 1)  # a required segment gone
    for label, text_in in (("clean", sample), ("broken", broken)):
        fresh = pyx12.full(text_in, cached=False, report=True)
        memo = pyx12.full(text_in, report=True)
        bench.check(
            fresh == memo and fresh[0] == (label == "clean"),
            f"pyx12 with its maps loaded once judges a {label} file as with fresh maps",
        )

    floor, split = _timed(bench, "split floor", repeat, lambda: split_floor(data))
    segments = len(split)
    del split
    terminator, _ = _timed(bench, "split on ~", repeat, lambda: split_terminator(data))
    ours, read = _timed(bench, "ours", repeat, lambda: parse_835(data))
    reader, reader_segments = _timed(
        bench, "pyx12 reader", pyx12_repeat, lambda: pyx12.segments(text)
    )
    full, (valid, _) = _timed(bench, "pyx12 full", pyx12_repeat, lambda: pyx12.full(text))

    bench.check(read == expected, f"ours read (claims, paid) {read}, the file has {expected}")
    bench.check(
        reader_segments == segments,
        f"pyx12's reader yielded {reader_segments} segments, the split {segments}",
    )
    bench.check(valid, "pyx12 finds the generated 835 clean (no error)")
    bench.info(
        f"ours: {ours / floor:.1f}x the floor, {ours / terminator:.0f}x a split on ~ alone; "
        f"pyx12 reader {reader / ours:.1f}x ours, full {full / ours:.1f}x ours"
    )
    for n in STREAM_SIZES if claims >= 10_000 else (claims,):
        peak, read_claims = peak_streaming_mb(generate_835(n, claims_per_set=n))
        bench.check(read_claims == n, f"streamed {read_claims:,} claims, the file has {n:,}")
        bench.info(f"streaming peak memory, {n:,} claims in one set: {peak:.1f} MB")
        bench.result(
            f"x12-835-stream-memory-{n}",
            ours=f"{peak:.1f} MB",
            baseline=f"{n:,} claims in one set from a file",
            ratio=None,
            target=f"< {TARGET_STREAM_MB:g} MB",
            ok=peak < TARGET_STREAM_MB,
        )

    bench.result(
        f"x12-835-read-vs-floor-{claims}",
        ours=seconds(ours),
        baseline=f"floor (split segments and elements) {seconds(floor)}",
        ratio=ours / floor,
        ratio_of="ours/floor",
        target=f"<= {TARGET_VS_FLOOR:g}x the floor",
        ok=ours / floor <= TARGET_VS_FLOOR,
    )
    bench.result(
        f"x12-835-read-{claims}",
        ours=seconds(ours),
        baseline=f"pyx12 full {seconds(full)} (bare reader {seconds(reader)})",
        ratio=full / ours,
        ratio_of="pyx12/ours",
        target=f">= {TARGET_VS_PYX12:g}x",
        ok=full / ours >= TARGET_VS_PYX12,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 claims, fewer repeats")
    parser.add_argument("--claims", type=int, default=None, help="claims in the 835")
    args = parser.parse_args()
    claims = args.claims or (1000 if args.quick else 10_000)
    bench = Bench("x12")
    run(bench, claims, repeat=3 if args.quick else 5, pyx12_repeat=3)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
