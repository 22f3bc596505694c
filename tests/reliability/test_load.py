"""20 specialists working the queue at once on PostgreSQL: no task resolved twice, none lost.

~15 s in the default run; ``make soak`` runs the same for 3 minutes. Each specialist is
a thread with its own user, going through the service layer (next task, open it,
resolve with a resumer that records its calls). Prints p50/p95 of each step and
decisions a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from claimdesk.db import make_engine
from claimdesk.migrate import upgrade_database
from tests.reliability.specialists import (
    RecordingResumer,
    Tally,
    check_exactly_once,
    percentiles,
    seed_tasks,
    work,
)

SPECIALISTS = 20


@pytest.fixture
def pg_engine(databases) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    engine = make_engine(databases.settings("postgresql"), pool_size=SPECIALISTS + 4)
    upgrade_database(engine)
    yield engine
    engine.dispose()


def run_specialists(engine: Engine, seconds: float, tasks: int) -> dict[str, float]:
    names = seed_tasks(engine, tasks=tasks, specialists=SPECIALISTS)
    resumer = RecordingResumer()
    tallies = [Tally(name) for name in names]
    stop = threading.Event()
    errors: list[BaseException] = []

    def specialist(tally: Tally) -> None:
        try:
            work(engine, tally, stop, resumer)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=specialist, args=(t,)) for t in tallies]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    assert not errors, errors
    counts = check_exactly_once(engine, tallies, resumer)
    resolved = counts["decisions"]
    assert resolved > 0 and counts["resumed"] == resolved
    assert all(t.resolved for t in tallies), "a specialist got no work"
    figures = {"specialists": SPECIALISTS, "seconds": round(elapsed, 1), "resolved": resolved}
    figures["per_min"] = round(resolved / elapsed * 60)
    for step in ("next_task", "open_task", "resolve"):
        values = [v for t in tallies for v in t.latencies[step]]
        p50, p95 = percentiles(values)
        figures[f"{step}_p50_ms"], figures[f"{step}_p95_ms"] = round(p50, 1), round(p95, 1)
    print("\nload " + " ".join(f"{k}={v}" for k, v in figures.items()))
    return figures


@pytest.mark.postgres
@pytest.mark.timeout(180)
def test_20_specialists_for_15_seconds(pg_engine: Engine) -> None:
    figures = run_specialists(pg_engine, seconds=15, tasks=1200)
    assert figures["resolved"] < 1200, "the queue ran dry: seed more tasks to load it for 15 s"


@pytest.mark.postgres
@pytest.mark.soak
@pytest.mark.timeout(900)
def test_20_specialists_for_3_minutes(pg_engine: Engine) -> None:
    run_specialists(pg_engine, seconds=180, tasks=30_000)
