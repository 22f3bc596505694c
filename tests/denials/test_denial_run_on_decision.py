"""A denial's review opens at posting with no run; the person's decision starts the run.

The starter here records its calls (the stand-in for Prefect's ``run_deployment``,
like ``bench/work_queue``'s resumer); tests/e2e runs the same path on a real Prefect
server. What is checked is claimdesk's side: the task in the queue without a run,
the start asked once per decision under a key of its own, a failed start kept for
the reconciler, and the decision left for the run to apply (never applied here).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from uuid import uuid4

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.db import session_scope
from claimdesk.remittance.posting import post_remittance
from claimdesk.review.tasks import unapplied_tasks
from claimdesk.workqueue import resolve
from models import Denial, ReviewDecision, ReviewTask, User
from tasks.resume import resume_unavailable
from tests.denials.builders_835 import Clp, Svc, remit
from tests.factories import make_claim, make_payer

TODAY = date(2026, 11, 7)
WRITE_OFF = {"action": "write_off", "reason": "CO-50: not recoverable"}


class RecordingStarter:
    """Starts nothing; remembers (denial id, key) and answers one run id per key."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[int, str]] = []
        self.runs: dict[str, str] = {}
        self.fail = fail

    def __call__(self, denial_id: int, key: str) -> str:
        self.calls.append((denial_id, key))
        if self.fail:
            raise ConnectionError("prefect is down")
        return self.runs.setdefault(key, str(uuid4()))


def posted_denial(engine: Engine) -> tuple[int, int]:
    """A 200.00 claim denied CO-50 by an 835 posted now: (denial id, its review task id)."""
    with session_scope(engine) as session:
        payer = make_payer(session, kind="commercial")
        claim = make_claim(
            session,
            payer=payer,
            status="sent",
            lines=[
                {
                    "procedure_code": "99214",
                    "charge": D("200.00"),
                    "diagnosis_pointers": [1],
                    "service_date": date(2026, 10, 1),
                }
            ],
        )
        services = (Svc("99214", "200", "0", {"CO": (("50", "200"),)}, ref=f"{claim.id}-1"),)
        clp = Clp(claim.patient_control_number, "4", "200", "0", "0", services=services)
        report = post_remittance(
            session,
            document_bytes_or_parsed=remit([clp]),
            payer_id=payer.id or 0,
            document_id=None,
            today=TODAY,
        )
        [denial_id] = report.denial_ids
        task = next(
            t
            for t in session.exec(select(ReviewTask).where(ReviewTask.kind == "denial"))
            if t.context.get("denial_id") == denial_id
        )
        if session.exec(select(User).where(User.username == "denial-spec")).first() is None:
            session.add(User(username="denial-spec", role="specialist", password_hash="unused"))
        return denial_id, task.id or 0


def _state(engine: Engine, task_id: int) -> tuple[ReviewTask, ReviewDecision | None, Denial]:
    with Session(engine) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None
        decision = session.get(ReviewDecision, task.decision_id) if task.decision_id else None
        denial = session.get(Denial, task.context["denial_id"])
        assert denial is not None
        return task, decision, denial


def test_posting_opens_the_denials_review_with_no_run(migrated_engine: Engine) -> None:
    denial_id, task_id = posted_denial(migrated_engine)
    task, decision, denial = _state(migrated_engine, task_id)
    assert task.status == "open" and task.flow_run_id is None and decision is None
    assert denial.id == denial_id and denial.status == "open"
    assert task.priority > 0 and task.due_at is not None  # priced on claimdesk's clock
    with Session(migrated_engine) as session:
        pending = [row for row in unapplied_tasks(session) if row.task_id == task_id]
    # The reconciler sees it as a denial's task (so it does not start a run for it).
    assert [(row.denial_id, row.flow_run_id) for row in pending] == [(denial_id, None)]


def test_a_decision_starts_the_denials_run_once_and_leaves_applying_to_it(
    migrated_engine: Engine,
) -> None:
    denial_id, task_id = posted_denial(migrated_engine)
    starter = RecordingStarter()
    outcome = resolve.submit_decision(
        migrated_engine,
        username="denial-spec",
        task_id=task_id,
        decision=WRITE_OFF,
        resumer=resume_unavailable,
        starter=starter,
    )
    assert outcome.resumed and outcome.message == "decision recorded; flow run started"
    key = f"denial-{denial_id}-decision-{outcome.decision_id}"
    assert starter.calls == [(denial_id, key)]
    task, decision, denial = _state(migrated_engine, task_id)
    # The run is the task's now (a dead one is replaced by the sweep), and it applies:
    # the decision is not applied here, as a task with no run's would be.
    assert task.status == "resolved" and task.flow_run_id == starter.runs[key]
    assert decision is not None and decision.resumed_at is not None
    assert decision.applied_at is None and denial.status == "open"
    # Delivered: the reconciler has nothing left to start for it.
    starter.calls.clear()
    resolve.reconcile_resumes(migrated_engine, resume_unavailable, starter)
    assert [call for call in starter.calls if call[0] == denial_id] == []


@pytest.mark.parametrize("starter", [None, RecordingStarter(fail=True)], ids=["none", "down"])
def test_a_start_that_fails_is_kept_and_the_reconciler_starts_it_once(
    migrated_engine: Engine, starter: RecordingStarter | None
) -> None:
    denial_id, task_id = posted_denial(migrated_engine)
    outcome = resolve.resolve_review(
        migrated_engine,
        task_id=task_id,
        username="denial-spec",
        decision=WRITE_OFF,
        resumer=resume_unavailable,
        starter=starter,
    )
    assert not outcome.resumed and "run start deferred" in outcome.message
    task, decision, denial = _state(migrated_engine, task_id)
    assert task.flow_run_id is None and decision is not None and decision.resumed_at is None
    assert decision.applied_at is None and denial.status == "open"  # nothing applied, nothing lost

    working = RecordingStarter()
    key = f"denial-{denial_id}-decision-{outcome.decision_id}"
    first = resolve.reconcile_resumes(migrated_engine, resume_unavailable, working)
    assert [o.resumed for o in first if o.task_id == task_id] == [True]
    assert [call for call in working.calls if call[0] == denial_id] == [(denial_id, key)]
    # A second pass finds it delivered: no second start.
    working.calls.clear()
    resolve.reconcile_resumes(migrated_engine, resume_unavailable, working)
    assert [call for call in working.calls if call[0] == denial_id] == []
    task, decision, _denial = _state(migrated_engine, task_id)
    assert task.flow_run_id == working.runs[key]
    assert decision is not None and decision.resumed_at is not None
