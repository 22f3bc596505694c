"""Breaker and token bucket state in the database, on SQLite and PostgreSQL, across threads."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from claimdesk.gateway.circuit import CircuitStore

_keys = itertools.count(1)


def new_key() -> str:
    return f"CIRCUIT{next(_keys):05d}"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_record_failure_opens_at_threshold(any_engine: Engine) -> None:
    store, key = CircuitStore(any_engine), new_key()
    assert store.record_failure(key, threshold=3, cooldown_s=10) == "closed"
    assert store.record_failure(key, threshold=3, cooldown_s=10) == "closed"
    assert store.record_failure(key, threshold=3, cooldown_s=10) == "open"
    decision = store.before_call(key, cooldown_s=10)
    assert not decision.allowed
    assert 0 < decision.retry_after_s <= 10


def test_before_call_grants_exactly_one_probe_among_threads(any_engine: Engine) -> None:
    clock = Clock()
    store, key = CircuitStore(any_engine, clock=clock), new_key()
    store.record_failure(key, threshold=1, cooldown_s=5)
    clock.now += timedelta(seconds=6)
    probes: list[bool] = []
    lock = threading.Lock()

    def ask() -> None:
        decision = CircuitStore(any_engine, clock=clock).before_call(key, cooldown_s=5)
        with lock:
            probes.append(decision.allowed)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert probes.count(True) == 1


def test_lost_probe_expires_after_cooldown(any_engine: Engine) -> None:
    clock = Clock()
    store, key = CircuitStore(any_engine, clock=clock), new_key()
    store.record_failure(key, threshold=1, cooldown_s=5)
    clock.now += timedelta(seconds=6)
    assert store.before_call(key, cooldown_s=5).probe
    assert not store.before_call(key, cooldown_s=5).allowed  # probe in flight
    clock.now += timedelta(seconds=6)  # the prober died without reporting
    assert store.before_call(key, cooldown_s=5).probe


def test_record_success_closes_and_resets(any_engine: Engine) -> None:
    store, key = CircuitStore(any_engine), new_key()
    store.record_failure(key, threshold=5, cooldown_s=5)
    store.record_success(key)
    row = store.read(key)
    assert row is not None
    assert (row["state"], row["consecutive_failures"]) == ("closed", 0)


def test_take_token_shares_the_bucket_between_threads(any_engine: Engine) -> None:
    clock = Clock()
    key = new_key()
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        wait = CircuitStore(any_engine, clock=clock).take_token(key, rate_per_s=4.0)
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A burst of 4 goes at once; the other 4 queue at 0.25 s intervals.
    assert sorted(waits) == [0.0] * 4 + [0.25, 0.5, 0.75, 1.0]
