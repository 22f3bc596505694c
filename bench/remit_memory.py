"""835 memory benchmark: reading and posting one big set keeps memory flat in its claims.

Run: ``uv run python -m bench.remit_memory`` (``--quick``: smaller; ``--claims`` and
``--post-claims N [N ...]`` choose). For each size, one generated 835 with every claim
in one set (``bench.x12.generate_835``) is

- **read** (10,000 and 100,000 claims): ``stream_transactions`` over the file's bytes
  in memory (the bytes themselves are not counted: they are the caller's);
- **posted** (1,000 and 10,000 claims): ``post_remittance`` in one transaction against
  a fresh PostgreSQL database holding every claim the 835 pays (two lines each), as
  the gateway's pick-up posts it: the file's bytes in, money to the ledger, claims to
  ``paid``. Posting costs about 40 statements a claim (0.2 s a claim on the 2-core
  machine under load), so 100,000 is not posted by default (hours); the growth
  between the two sizes is printed with what it would come to at 100,000.

Peak memory is Python's traced peak (``tracemalloc``) during the call, from a
collected heap. The baseline is the whole-set read (``iter_transactions``, the set's
models all held) at the smallest size, as claimdesk read before it streamed. Checked:
every claim read, every claim posted and matched, the ledger's payments equal the
file's Σ CLP04, the set balanced. Target: peak < 30 MB at every size.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bench._common import Bench, seconds
from bench.x12 import expected_835, generate_835
from claimdesk.db import session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.remittance.posting import post_remittance
from claimdesk.x12 import ClaimPayment, iter_transactions, stream_transactions
from models import Claim, ClaimLine, Coverage, LedgerEntry, Patient, Payer, Practice, Provider
from models.crud import validated

T = TypeVar("T")
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_MB = 30.0
BATCH = 5000


def traced(work: Callable[[], T]) -> tuple[float, float, T]:
    """(peak traced MB, seconds, result) of ``work`` from a collected heap."""
    gc.collect()
    tracemalloc.start()
    try:
        started = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - started
        return tracemalloc.get_traced_memory()[1] / 1e6, elapsed, result
    finally:
        tracemalloc.stop()


def read_streaming(data: bytes) -> int:
    return sum(1 for item in stream_transactions(data) if isinstance(item, ClaimPayment))


def read_whole(data: bytes) -> int:
    return sum(len(p.transaction.claims) for p in iter_transactions(data))


def _whole_read_peak(claims: int) -> float:
    data = generate_835(claims, claims_per_set=claims)
    peak, _, read = traced(lambda: read_whole(data))
    assert read == claims
    return peak


def _seed(engine: Engine, claims: int) -> int:
    """The practice, payer, patient and ``claims`` sent claims the generated 835 pays."""
    with session_scope(engine) as session:
        practice = _add(
            session, validated(Practice, {"name": "Bench", "npi": "1234567893", "tin": "123456789"})
        )
        provider = _add(
            session,
            validated(
                Provider,
                {
                    "practice_id": practice.id,
                    "role": "billing",
                    "organization_name": "Bench Clinic",
                    "npi": "1234567893",
                },
            ),
        )
        payer = _add(session, validated(Payer, {"name": "Bench Plan", "payer_id": "BENCHPAYER"}))
        patient = _add(
            session,
            validated(
                Patient,
                {
                    "practice_id": practice.id,
                    "account_number": "BENCH1",
                    "last_name": "Bench",
                    "first_name": "Patient",
                    "birth_date": date(1970, 1, 1),
                },
            ),
        )
        coverage = _add(
            session,
            validated(
                Coverage,
                {
                    "patient_id": patient.id,
                    "payer_id": payer.id,
                    "member_id": "MBENCH",
                    "effective_from": date(2020, 1, 1),
                },
            ),
        )
        ids = dict(
            practice_id=practice.id,
            patient_id=patient.id,
            coverage_id=coverage.id,
            payer_id=payer.id,
            billing_provider_id=provider.id,
        )
        assert payer.id is not None
        payer_id = payer.id
    for first in range(0, claims, BATCH):
        with session_scope(engine) as session:
            _seed_batch(session, ids, range(first, min(claims, first + BATCH)))
    return payer_id


def _seed_batch(session: Session, ids: dict[str, Any], numbers: range) -> None:
    """Claims and lines as the generator's CLP01 and REF*6R name them (bulk, no audit)."""
    rows = []
    for n in numbers:
        charge1, charge2 = Decimal(100 + n % 50), Decimal(40 + n % 7)
        claim = validated(
            Claim,
            {
                **ids,
                "patient_control_number": f"PCN{n:08d}",
                "service_from": date(2023, 12, 1),
                "service_to": date(2023, 12, 1),
                "total_charge": charge1 + charge2,
                "status": "sent",
            },
        )
        rows.append((claim, charge1, charge2, n))
    claim_ids = session.scalars(
        insert(Claim).returning(col(Claim.id), sort_by_parameter_order=True),
        [c.model_dump(exclude={"id"}) for c, *_ in rows],
    ).all()
    lines = []
    for claim_id, (_claim, charge1, charge2, n) in zip(claim_ids, rows, strict=True):
        for number, (code, charge, suffix) in enumerate(
            (("99213", charge1, "A"), ("85025", charge2, "B")), start=1
        ):
            line = validated(
                ClaimLine,
                {
                    "claim_id": claim_id,
                    "line_number": number,
                    "procedure_code": code,
                    "charge": charge,
                    "diagnosis_pointers": [1],
                    "service_date": date(2023, 12, 1),
                    "line_control_number": f"L{n:08d}{suffix}",
                },
            )
            lines.append(line.model_dump(exclude={"id"}))
    session.execute(insert(ClaimLine), lines)


def _add(session: Session, row: T) -> T:
    session.add(row)
    session.flush()
    return row


def post_file(engine: Engine, data: bytes, payer_id: int) -> tuple[str, int, int]:
    """Post ``data`` in one transaction: (outcome, claims posted, task ids)."""
    with session_scope(engine) as session:
        report = post_remittance(
            session, document_bytes_or_parsed=data, payer_id=payer_id, document_id=None
        )
        [outcome] = report.outcomes
        return outcome, len(report.claim_ids), len(report.task_ids)


def _paid_in_ledger(engine: Engine) -> Decimal:
    with Session(engine) as session:
        total = session.scalar(
            select(func.sum(LedgerEntry.amount)).where(LedgerEntry.kind == "payment")  # type: ignore[arg-type]
        )
    return Decimal(total or 0)


def run_read(bench: Bench, claims: int) -> None:
    data = generate_835(claims, claims_per_set=claims)
    peak, elapsed, read = traced(lambda: read_streaming(data))
    bench.check(read == claims, f"streamed {read:,} claims, the file has {claims:,}")
    bench.info(f"read {claims:>7,} claims in one set: peak {peak:5.1f} MB, {seconds(elapsed)}")
    bench.result(
        f"835-read-memory-{claims}",
        ours=f"{peak:.1f} MB",
        baseline=f"{len(data) / 1e6:.1f} MB file",
        ratio=None,
        target=f"< {TARGET_MB:g} MB",
        ok=peak < TARGET_MB,
    )


def run_post(bench: Bench, claims: int) -> float:
    """Post one ``claims``-claim set against a fresh database; its traced peak (MB)."""
    data = generate_835(claims, claims_per_set=claims)
    _, expected_paid = expected_835(claims)
    name = f"claimdesk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        began = time.perf_counter()
        upgrade_database(engine)
        payer_id = _seed(engine, claims)
        bench.info(f"seeded {claims:,} claims in {time.perf_counter() - began:.1f} s")
        peak, elapsed, (outcome, posted, tasks) = traced(lambda: post_file(engine, data, payer_id))
        bench.check(outcome == "posted", f"the set was {outcome}, not posted")
        bench.check(posted == claims, f"{posted:,} claims posted, the file pays {claims:,}")
        bench.check(tasks == 0, f"{tasks} exception tasks for a file that matches every claim")
        paid = _paid_in_ledger(engine)
        bench.check(
            paid == expected_paid, f"ledger payments {paid}, the file's Σ CLP04 {expected_paid}"
        )
        bench.info(
            f"post {claims:>7,} claims in one set: peak {peak:5.1f} MB, {seconds(elapsed)} "
            f"({elapsed / claims * 1000:.0f} ms a claim, traced)"
        )
        bench.result(
            f"835-post-memory-{claims}",
            ours=f"{peak:.1f} MB",
            baseline=f"{claims:,} claims posted in {seconds(elapsed)}",
            ratio=None,
            target=f"< {TARGET_MB:g} MB",
            ok=peak < TARGET_MB,
        )
        return peak
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="read 10,000; post 200 and 1,000")
    parser.add_argument("--claims", type=int, nargs="+", default=None, help="read set sizes")
    parser.add_argument("--post-claims", type=int, nargs="+", default=None, help="post sizes")
    args = parser.parse_args()
    sizes = args.claims or ([10_000] if args.quick else [10_000, 100_000])
    posts = args.post_claims or ([200, 1000] if args.quick else [1000, 10_000])
    bench = Bench("remit_memory")
    whole = _whole_read_peak(sizes[0])
    bench.info(f"baseline: the whole-set read of {sizes[0]:,} claims peaks at {whole:.1f} MB")
    for claims in sizes:
        run_read(bench, claims)
    peaks = [(claims, run_post(bench, claims)) for claims in sorted(posts)]
    if len(peaks) > 1:
        # Not a measurement: what the growth between the two sizes would add at 100,000.
        (small, low), (large, high) = peaks[0], peaks[-1]
        per_claim = max(0.0, high - low) / (large - small)
        bench.info(
            f"posting grows {per_claim * 1e3:.2f} KB a claim between {small:,} and {large:,} "
            f"claims: {high + per_claim * (100_000 - large):.1f} MB at 100,000 if it stayed so "
            "(extrapolated, not measured)"
        )
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
