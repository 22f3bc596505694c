"""Per-payer circuit breaker and token bucket, kept in the application database.

Every flow run is its own process, possibly on another host, so the state lives
in ``payer_circuit`` rows and every change is one short transaction: a
conditional ``UPDATE`` (the breaker) or a row-locked read-modify-write (the
bucket; ``SELECT … FOR UPDATE`` on PostgreSQL, the database write lock that
``make_engine`` takes at ``BEGIN`` on SQLite). Nothing is cached in memory.

Breaker states (``PayerCircuit.state``)::

    closed ──N consecutive failures──► open ──cool-down over──► half_open
      ▲                                  ▲                         │
      └────────── probe succeeds ────────┼──── probe fails ────────┘
                                         └── (a probe that never reports back
                                              expires after one more cool-down)

In ``half_open`` exactly one caller (the winner of a conditional UPDATE) makes
the probe call; everyone else is refused with ``CircuitOpen`` until it reports.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, case, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from models.gateway_state import PayerCircuit

__all__ = ["BreakerDecision", "CircuitStore", "utc_now"]

_TABLE: Table = PayerCircuit.__table__  # type: ignore[attr-defined]
# A token-bucket burst: one second's worth of calls, at least one.
_MIN_BURST = 1.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BreakerDecision:
    """Whether a call may go ahead, and whether it is the half-open probe."""

    allowed: bool
    probe: bool = False
    retry_after_s: float = 0.0


class CircuitStore:
    """Breaker and bucket operations on ``payer_circuit``; each its own transaction."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    def _ensure_row(self, conn: Connection, key: str) -> None:
        """Create ``key``'s row (closed; ``tokens_at`` NULL means a full bucket)."""
        exists = conn.execute(select(_TABLE.c.key).where(_TABLE.c.key == key)).first()
        if exists is not None:
            return
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(_TABLE).values(
                        key=key,
                        state="closed",
                        consecutive_failures=0,
                        opened_until=None,
                        tokens=0.0,
                        tokens_at=None,
                    )
                )
        except IntegrityError:
            pass  # another process created it first

    # --- breaker -----------------------------------------------------------------------

    def before_call(self, key: str, *, cooldown_s: float) -> BreakerDecision:
        """May a call to ``key`` go ahead now? Takes the half-open probe if due."""
        now = self.clock()
        with self.engine.begin() as conn:
            self._ensure_row(conn, key)
            row = conn.execute(
                select(_TABLE.c.state, _TABLE.c.opened_until).where(_TABLE.c.key == key)
            ).one()
            if row.state == "closed":
                return BreakerDecision(allowed=True)
            if row.opened_until is not None and row.opened_until > now:
                return BreakerDecision(
                    allowed=False, retry_after_s=(row.opened_until - now).total_seconds()
                )
            # Cool-down over (open), or a probe that never reported (half_open): one
            # caller wins the conditional UPDATE and probes; the probe holds the
            # circuit for one more cool-down at most.
            won = conn.execute(
                update(_TABLE)
                .where(
                    and_(
                        _TABLE.c.key == key,
                        _TABLE.c.state == row.state,
                        or_(_TABLE.c.opened_until.is_(None), _TABLE.c.opened_until <= now),
                    )
                )
                .values(state="half_open", opened_until=now + timedelta(seconds=cooldown_s))
            ).rowcount
            if won == 1:
                return BreakerDecision(allowed=True, probe=True)
            return BreakerDecision(allowed=False, retry_after_s=cooldown_s)

    def record_success(self, key: str) -> None:
        """A call succeeded: the circuit closes and the failure count resets."""
        with self.engine.begin() as conn:
            conn.execute(
                update(_TABLE)
                .where(
                    and_(
                        _TABLE.c.key == key,
                        or_(_TABLE.c.state != "closed", _TABLE.c.consecutive_failures != 0),
                    )
                )
                .values(state="closed", consecutive_failures=0, opened_until=None)
            )

    def record_failure(self, key: str, *, threshold: int, cooldown_s: float) -> str:
        """A call failed (payer unavailable); returns the new state.

        One atomic UPDATE: the count goes up, and the circuit opens when it reaches
        ``threshold`` or when the failed call was the half-open probe.
        """
        now = self.clock()
        until = now + timedelta(seconds=cooldown_s)
        with self.engine.begin() as conn:
            self._ensure_row(conn, key)
            trips = or_(
                _TABLE.c.state == "half_open", _TABLE.c.consecutive_failures + 1 >= threshold
            )
            conn.execute(
                update(_TABLE)
                .where(_TABLE.c.key == key)
                .values(
                    consecutive_failures=_TABLE.c.consecutive_failures + 1,
                    state=case((trips, "open"), else_=_TABLE.c.state),
                    opened_until=case((trips, until), else_=_TABLE.c.opened_until),
                )
            )
            state: str = conn.execute(
                select(_TABLE.c.state).where(_TABLE.c.key == key)
            ).scalar_one()
            return state

    def read(self, key: str) -> dict[str, Any] | None:
        """The row for ``key`` as a dict (for tests, the CLI and the dashboard)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(_TABLE).where(_TABLE.c.key == key)).first()
            return dict(row._mapping) if row is not None else None

    # --- token bucket ------------------------------------------------------------------

    def take_token(self, key: str, *, rate_per_s: float, burst: float | None = None) -> float:
        """Reserve one call slot; returns how many seconds to wait before calling.

        A reservation bucket: tokens refill at ``rate_per_s`` up to ``burst``; a
        caller that finds none still takes one (the balance goes negative) and
        waits until it would have refilled, so callers in all processes queue
        fairly without polling the database.
        """
        capacity = max(_MIN_BURST, burst if burst is not None else rate_per_s)
        now = self.clock()
        with self.engine.begin() as conn:
            self._ensure_row(conn, key)
            row = conn.execute(
                select(_TABLE.c.tokens, _TABLE.c.tokens_at)
                .where(_TABLE.c.key == key)
                .with_for_update()
            ).one()
            if row.tokens_at is None:
                available = capacity
            else:
                elapsed = max(0.0, (now - row.tokens_at).total_seconds())
                available = min(capacity, row.tokens + elapsed * rate_per_s)
            tokens = available - 1.0
            conn.execute(
                update(_TABLE).where(_TABLE.c.key == key).values(tokens=tokens, tokens_at=now)
            )
        if tokens >= 0:
            return 0.0
        wait = -tokens / rate_per_s
        return wait if math.isfinite(wait) else 0.0
