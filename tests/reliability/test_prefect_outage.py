"""The Prefect server stopped while several specialists resolve tasks, then started again.

``test_decision_recorded_while_prefect_is_down_is_applied_once_after`` in
tests/e2e/test_workflows_e2e.py covers one decision on the PostgreSQL-backed stack.
Added here: a decision resumed while Prefect is up, then the server killed, then
three specialists deciding at the same moment in their own threads (each resume
deferred), the server started, ``reconcile-reviews`` run twice: every decision is
applied exactly once (one ``decision.applied`` event, one ``applied_at``) and every
review run completes. The real embedded stack (Prefect server and worker, SQLite),
started as ``claimdesk up`` does.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.cli._bootstrap import bootstrap_stack
from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.stack import Stack
from claimdesk.workqueue.resolve import ResolveOutcome, resolve_review
from models import AuditEvent, Claim, ReviewDecision, ReviewTask, User
from tasks.resume import resume_with_reference
from tests.e2e.stack_fixtures import (
    decisions_applied,
    flow_run_state,
    free_ports,
    run_flow,
    wait_until,
)
from tests.e2e.test_workflows_e2e import (
    _claim_waiting_for_scrub_review,
    _paused_under,
    _start_review_run,
)

# ~60 s of it is starting the stack (more on a busy machine): the default run relies on
# the e2e test above for the single-decision case, and this runs under `make soak`.
pytestmark = [pytest.mark.slow, pytest.mark.soak, pytest.mark.timeout(400)]
SPECIALISTS = ("ann", "bo", "cy", "di")


@pytest.fixture
def stack_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Engine]]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from claimdesk.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("outage"))
    engine = make_engine(settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        for name in SPECIALISTS:
            session.add(User(username=name, role="specialist", password_hash="x"))
    stack = Stack(settings, free_ports(), None, with_ui=False, worker_limit=6)
    saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "CLAIMDESK_DATA_DIR")}
    try:
        bootstrap_stack(stack, demo=False, echo=lambda line: None, schedules="off")
        with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
            yield stack, engine
    finally:
        stack.stop()
        engine.dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _decide(engine: Engine, task_id: int, who: str) -> ResolveOutcome:
    return resolve_review(
        engine,
        task_id=task_id,
        username=who,
        decision={"action": "override", "reason": f"{who} checked with the payer"},
        resumer=resume_with_reference,
    )


def test_decisions_made_while_prefect_is_down_are_each_applied_once(
    stack_engine: tuple[Stack, Engine],
) -> None:
    stack, engine = stack_engine
    task_ids = [_claim_waiting_for_scrub_review(engine) for _ in SPECIALISTS]
    runs = [_start_review_run(t) for t in task_ids]
    wait_until(
        lambda: all(_paused_under(r, "-1") for r in runs), timeout=120, what="review runs to pause"
    )
    first = _decide(engine, task_ids[0], SPECIALISTS[0])
    assert first.resumed, first.message

    stack.kill("prefect-server")
    outcomes: dict[int, ResolveOutcome] = {}

    def specialist(task_id: int, who: str) -> None:
        outcomes[task_id] = _decide(engine, task_id, who)

    # Each thread gets a copy of this context: Prefect's settings (the stack's API URL)
    # live in a context variable, which a new thread would not see.
    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(specialist, t, who))
        for t, who in zip(task_ids[1:], SPECIALISTS[1:], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 3
    assert all(not o.resumed and "deferred" in o.message for o in outcomes.values()), outcomes

    stack.start_prefect()
    run_flow("reconcile-reviews/reconcile-reviews")
    wait_until(lambda: decisions_applied(engine), timeout=120, what="every decision applied")
    run_flow("reconcile-reviews/reconcile-reviews")  # a second pass changes nothing
    wait_until(
        lambda: all(flow_run_state(r) == "COMPLETED" for r in runs),
        timeout=60,
        what="every review run to complete",
    )
    with Session(engine) as session:
        for task_id in task_ids:
            task = session.get(ReviewTask, task_id)
            assert task is not None and task.status == "resolved"
            decision = session.get(ReviewDecision, task.decision_id)
            assert decision is not None and decision.applied_at is not None
            applied = session.exec(
                select(AuditEvent).where(
                    AuditEvent.action == "decision.applied", AuditEvent.entity_id == str(task_id)
                )
            ).all()
            assert len(applied) == 1, (task_id, len(applied))
            claim = session.get(Claim, task.claim_id)
            assert claim is not None and claim.status == "queued"
        assert len(session.exec(select(ReviewDecision)).all()) == len(task_ids)
