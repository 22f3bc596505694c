"""What the work queue's three clicks cost in statements, on a real migrated database.

next task, open task and resolve run on every click of every specialist; the
bench (``bench/work_queue.py``) times them under 20 callers. These guard their
shape: one claiming UPDATE, a task page that reads no more statements when its
claim gains comments from more people (usernames by join, not one look-up each),
and one audit INSERT per call, whatever else changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from claimdesk.workqueue import queue, resolve, task_view

DECISION = {"action": "override", "reason": "payer confirmed the modifier"}


class Statements:
    """The SQL each call sends (BEGIN IMMEDIATE on SQLite included)."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.seen.append(" ".join(statement.split()))

    def during(self, call: Any) -> list[str]:
        self.seen = []
        call()
        return list(self.seen)


def _starting(statements: list[str], prefix: str) -> list[str]:
    return [s for s in statements if s.startswith(prefix)]


def test_next_task_is_one_claiming_update_and_one_audit_insert(seeded: Any) -> None:
    engine, _ = seeded
    log = Statements(engine)
    won: list[int | None] = []
    sent = log.during(lambda: won.append(queue.take_next_task(engine, username="spec1")))
    assert won[0] is not None
    assert len(_starting(sent, "UPDATE review_task")) == 1
    assert len(_starting(sent, "INSERT INTO audit_event")) == 1
    # BEGIN, the user, the UPDATE, the audit row: no read of the task before claiming it.
    assert len(sent) <= 4, sent


def test_the_task_page_reads_no_more_when_more_people_comment(seeded: Any) -> None:
    engine, _ = seeded
    task_id = queue.take_next_task(engine, username="spec1")
    assert task_id is not None
    log = Statements(engine)
    task_view.add_comment(engine, username="spec1", task_id=task_id, body="first look")
    one_author = log.during(
        lambda: task_view.read_task_view(engine, username="spec1", task_id=task_id)
    )
    for who in ("spec2", "lead1", "mgr1"):
        task_view.add_comment(engine, username=who, task_id=task_id, body=f"{who} was here")
    views: list[task_view.TaskView] = []
    four_authors = log.during(
        lambda: views.append(task_view.read_task_view(engine, username="spec1", task_id=task_id))
    )
    assert len(four_authors) == len(one_author), (one_author, four_authors)
    assert [who for _at, who, _body in views[0].comments] == ["spec1", "spec2", "lead1", "mgr1"]
    assert len(_starting(four_authors, "INSERT INTO audit_event")) == 1


def test_resolve_records_and_closes_in_one_transaction_then_marks_the_resume(
    seeded: Any,
) -> None:
    engine, _ = seeded
    task_id = queue.take_next_task(engine, username="spec1")
    assert task_id is not None
    with engine.begin() as conn:  # a run waits on it, as on every task a flow opened
        conn.execute(
            text("UPDATE review_task SET flow_run_id = 'run-7' WHERE id = :id"), {"id": task_id}
        )
    resumed: list[tuple[str, int]] = []
    log = Statements(engine)
    outcomes: list[resolve.ResolveOutcome] = []
    sent = log.during(
        lambda: outcomes.append(
            resolve.resolve_review(
                engine,
                task_id=task_id,
                username="spec1",
                decision=DECISION,
                resumer=lambda run, ref: resumed.append((run, ref)),
            )
        )
    )
    [outcome] = outcomes
    assert len(_starting(sent, "INSERT INTO review_decision")) == 1
    assert len(_starting(sent, "UPDATE review_task")) == 1
    assert len(_starting(sent, "INSERT INTO audit_event")) == 1
    # The flow run waiting on the task is read by the closing UPDATE, not a second SELECT.
    assert len(_starting(sent, "SELECT review_task")) == 1, sent
    assert outcome.resumed and resumed == [("run-7", outcome.decision_id)]
    assert len(_starting(sent, "UPDATE review_decision")) == 1
