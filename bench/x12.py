"""X12 benchmark: read a generated 835 (claimdesk vs pyx12), streaming memory; 837 writing.

Run: ``uv run python -m bench.x12`` (``--quick`` for a smaller run). The last line
is machine-readable:
``x12 speedup_vs_pyx12=<ratio> parse_835_10k_s=<s> write_837_5k_s=<s> peak_mb=<MB>``.
The 837 write timing belongs to the writer half: fill in ``time_write_837``.
"""

from __future__ import annotations

import argparse
import gc
import io
import logging
import math
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from claimdesk.x12 import Remittance835, iter_transactions, read_interchanges

# 835s are split per payment in practice; 1,000 claims a set keeps one set's models small.
CLAIMS_PER_SET = 1000
# pyx12 takes ~minutes on 10k claims; time it on this many and scale linearly.
PYX12_CLAIMS = 1000


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
            "N1*PE*BENCH CLINIC*XX*1234567893~",
            "LX*1~",
        ]
        segment_count = len(header) + len(body) + 1
        out += header + body + [f"SE*{segment_count}*{sets:04d}~"]
    out += [f"GE*{sets}*1~", "IEA*1*000000001~"]
    return "\n".join(out).encode("ascii")


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def parse_835(data: bytes) -> int:
    """Read ``data`` into typed models; return the claim count (a check)."""
    claims = 0
    for interchange in read_interchanges(data):
        for group in interchange.groups:
            for transaction in group.transactions:
                assert isinstance(transaction, Remittance835) and transaction.balanced
                claims += len(transaction.claims)
    return claims


def run_pyx12(data: bytes) -> None:
    """pyx12's full processing (map walk, validation, 999) of ``data``."""
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(),
        src_file=io.StringIO(data.decode("ascii")),
        fd_997=io.StringIO(),
        fd_html=None,
    )


def peak_streaming_mb(data: bytes) -> float:
    """Peak traced memory (MB) of ``iter_transactions`` over ``data`` read from a file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.835"
        path.write_bytes(data)
        gc.collect()
        tracemalloc.start()
        try:
            with path.open("rb") as stream:
                for parsed in iter_transactions(stream):
                    assert isinstance(parsed.transaction, Remittance835)
            return tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()


def time_write_837() -> float | None:
    """Seconds to write a 5,000-claim 837P (the writer half: bench/x12_write.py)."""
    from bench.x12_write import time_write_837 as time_write

    return time_write()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1k/5k claims instead of 10k/50k")
    args = parser.parse_args()
    claims, big = (1000, 5000) if args.quick else (10_000, 50_000)
    pyx12_claims = min(PYX12_CLAIMS, claims)

    data = generate_835(claims)
    assert parse_835(data) == claims
    ours = best_of(3, lambda: parse_835(data))
    print(f"claimdesk: 835 with {claims} claims ({len(data) / 1e6:.1f} MB) read in {ours:.3f} s")

    small = generate_835(pyx12_claims)
    ours_small = best_of(3, lambda: parse_835(small))
    theirs_small = best_of(1, lambda: run_pyx12(small))
    theirs = theirs_small * claims / pyx12_claims
    note = "" if pyx12_claims == claims else f" (measured on {pyx12_claims} claims, scaled)"
    print(f"pyx12:     835 with {claims} claims processed in {theirs:.3f} s{note}")
    print(
        f"same {pyx12_claims}-claim file: claimdesk {ours_small:.3f} s, pyx12 {theirs_small:.3f} s"
    )
    speedup = theirs / ours
    print(f"speedup vs pyx12: {speedup:.1f}x")

    peaks = {}
    for n in (claims, big):
        peaks[n] = peak_streaming_mb(generate_835(n))
        print(f"streaming reader peak memory, {n} claims: {peaks[n]:.1f} MB")

    write = time_write_837()
    if write is not None:
        print(f"claimdesk: 837P with 5000 claims written in {write:.3f} s")
    write_text = "nan" if write is None or math.isnan(write) else f"{write:.3f}"
    print(
        f"x12 speedup_vs_pyx12={speedup:.1f} parse_835_10k_s={ours:.3f} "
        f"write_837_5k_s={write_text} peak_mb={max(peaks.values()):.1f}"
    )


if __name__ == "__main__":
    main()
