"""Simulated specialists working the queue through the service layer, and what they saw.

Each one loops: next task (``queue.take_next_task``), open it
(``task_view.read_task_view``), decide (``review_service.resolve_review``
with a resumer that records its calls). A specialist who meets a database error
(the server restarting) does what the app lets a person do: tries again; first it
finds out what its last, unanswered call actually did, so nothing it committed is
forgotten and no task it claimed is left behind.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, col, select

from claimdesk.db import session_scope
from claimdesk.review.decisions import decision_schema
from claimdesk.review.tasks import pause_key
from claimdesk.workqueue import queue, task_view
from claimdesk.workqueue.resolve import resolve_review
from models import ReviewTask, User
from tests.factories import make_claim

DECISION = {"action": "override", "reason": "payer confirmed the modifier"}


class RecordingResumer:
    """Stands in for Prefect: records every (flow run, decision) it is asked to resume."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def __call__(self, flow_run_id: str, decision_id: int) -> None:
        with self._lock:
            self.calls.append((flow_run_id, decision_id))


@dataclass
class Tally:
    """What one specialist knows it committed, and how long each step took."""

    username: str
    resolved: dict[int, int] = field(default_factory=dict)  # task id → decision id
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    last_success: float = 0.0


def seed_tasks(engine: Engine, *, tasks: int, specialists: int, per_claim: int = 50) -> list[str]:
    """``tasks`` open scrub tasks (each with a waiting flow run id) and the specialists' names.

    Rows are inserted in bulk (what ``ensure_review_task`` would create, without its
    per-task audit event), so seeding thousands takes seconds.
    """
    names = [f"spec{n:02d}" for n in range(specialists)]
    schema = decision_schema("scrub")
    with session_scope(engine) as session:
        for name in names:
            session.add(User(username=name, role="specialist", password_hash="x"))
        claim_ids = [make_claim(session).id or 0 for _ in range(-(-tasks // per_claim))]
        session.add_all(
            ReviewTask(
                kind="scrub",
                claim_id=claim_ids[n // per_claim],
                claim_version=1,
                step=n % per_claim + 1,
                flow_run_id=f"run-{n}",
                pause_key=pause_key("scrub", claim_ids[n // per_claim], 1, 1, n % per_claim + 1),
                priority=n % 7,
                context={},
                decision_schema=schema,
            )
            for n in range(tasks)
        )
    return names


def _timed(tally: Tally, name: str, call: Callable[[], object]) -> object:
    started = time.perf_counter()
    result = call()
    tally.latencies[name].append(time.perf_counter() - started)
    return result


def _catch_up(engine: Engine, tally: Tally) -> list[int]:
    """After an unanswered call: decisions it did commit, and tasks it holds unresolved."""
    with Session(engine) as session:
        me = session.exec(select(User.id).where(User.username == tally.username)).one()
        mine = session.exec(
            select(ReviewTask.id, ReviewTask.status, ReviewTask.decision_id).where(
                ReviewTask.assignee_id == me, col(ReviewTask.status).in_(("claimed", "resolved"))
            )
        ).all()
    held = []
    for task_id, status, decision_id in mine:
        if status == "resolved" and task_id not in tally.resolved and decision_id:
            tally.resolved[task_id or 0] = decision_id  # committed; the answer was lost
        elif status == "claimed":
            held.append(task_id or 0)
    return held


def work(
    engine: Engine,
    tally: Tally,
    stop: threading.Event,
    resumer: RecordingResumer,
    *,
    retry_errors: bool = False,
) -> None:
    """Work the queue until ``stop`` is set or the queue is empty."""
    held: list[int] = []
    while not stop.is_set():
        try:
            if held:
                task_id: int | None = held.pop()
            else:
                task_id = _timed(  # type: ignore[assignment]
                    tally,
                    "next_task",
                    lambda: queue.take_next_task(engine, username=tally.username),
                )
            if task_id is None:
                return
            _timed(
                tally,
                "open_task",
                lambda task_id=task_id: task_view.read_task_view(  # type: ignore[misc]
                    engine, username=tally.username, task_id=task_id or 0
                ),
            )
            outcome = _timed(
                tally,
                "resolve",
                lambda task_id=task_id: resolve_review(  # type: ignore[misc]
                    engine,
                    task_id=task_id or 0,
                    username=tally.username,
                    decision=DECISION,
                    resumer=resumer,
                ),
            )
            tally.resolved[task_id] = outcome.decision_id  # type: ignore[attr-defined]
            tally.last_success = time.monotonic()
        except (OperationalError, DBAPIError) as exc:
            if not retry_errors:
                raise
            tally.errors[type(exc.orig).__name__ if exc.orig else type(exc).__name__] += 1
            time.sleep(0.2)
            try:
                held = _catch_up(engine, tally)
            except (OperationalError, DBAPIError):
                held = []  # still down: the next turn of the loop tries again


def percentiles(values: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    if len(values) < 2:
        return (values[0] * 1000, values[0] * 1000) if values else (0.0, 0.0)
    cuts = statistics.quantiles(values, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


def check_exactly_once(
    engine: Engine, tallies: list[Tally], resumer: RecordingResumer
) -> dict[str, int]:
    """Every decision a specialist committed is in the database once; nothing else is."""
    from models import ReviewDecision

    committed: dict[int, int] = {}
    for tally in tallies:
        for task_id, decision_id in tally.resolved.items():
            assert task_id not in committed, f"task {task_id} resolved twice"
            committed[task_id] = decision_id
    with Session(engine) as session:
        decisions = session.exec(select(ReviewDecision)).all()
        resolved = {
            t.id: t.decision_id
            for t in session.exec(select(ReviewTask).where(ReviewTask.status == "resolved"))
        }
    per_task = Counter(d.review_task_id for d in decisions)
    assert all(n == 1 for n in per_task.values()), "a task has more than one decision"
    assert resolved == committed, "the database and the specialists disagree on what was decided"
    resumed = Counter(decision_id for _run, decision_id in resumer.calls)
    assert all(n == 1 for n in resumed.values()), "a decision was resumed twice"
    assert set(resumed) <= set(committed.values())
    return {"decisions": len(decisions), "resumed": len(resumed)}
