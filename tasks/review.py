"""Tasks around a human-review pause: thin Prefect wrappers over ``claimdesk.review``.

``NO_CACHE``: a resumed flow re-runs from the top, and these must see the
database as it is now, never a result cached before the pause.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE

from claimdesk.db import session_scope
from claimdesk.review.tasks import accept_reference, bind_run, unapplied_tasks
from tasks._db import engine
from tasks._safety import phi_safe


@dataclass(frozen=True)
class PauseState:
    decision_id: int | None
    pause_key: str


@task(cache_policy=NO_CACHE)
@phi_safe
def bind_review_run(task_id: int, flow_run_id: str, attempt: int) -> PauseState:
    """Record which run waits on the task under which key; return a decision if one exists."""
    with session_scope(engine()) as session:
        bound = bind_run(session, task_id=task_id, flow_run_id=flow_run_id, attempt=attempt)
        return PauseState(bound.decision_id, bound.pause_key)


@task(cache_policy=NO_CACHE)
@phi_safe
def check_decision_reference(task_id: int, decision_id: int, key: str) -> bool:
    """True when ``decision_id`` is what claimdesk recorded for the task; audit a refusal once."""
    with session_scope(engine()) as session:
        return accept_reference(session, task_id=task_id, decision_id=decision_id, key=key)


@task(cache_policy=NO_CACHE)
@phi_safe
def apply_decision(task_id: int, decision_id: int) -> str:
    """Apply the decision to the claim (exactly once) and return what happened."""
    # Imported here: the appliers pull in every stage (PDF letters, forms); a flow run
    # that only suspends should not pay for them at start.
    from claimdesk.workqueue.appliers import apply_recorded_decision

    with session_scope(engine()) as session:
        return apply_recorded_decision(session=session, task_id=task_id, decision_id=decision_id)


@task(cache_policy=NO_CACHE)
@phi_safe
def resume_recorded_decisions() -> int:
    """Resume runs whose decision was recorded while Prefect could not be reached.

    A denial's decision whose ``appeal`` run could not be started then gets it now
    (keyed by the decision: a start that did reach Prefect is found, not repeated).
    """
    from claimdesk.workqueue.resolve import reconcile_resumes
    from tasks.resume import resume_with_reference, start_appeal_run

    outcomes = reconcile_resumes(engine(), resume_with_reference, start_appeal_run)
    return sum(o.resumed for o in outcomes)


# A run in one of these states will never apply its task's decision.
_DEAD_STATES = {"CANCELLED", "CRASHED", "FAILED"}


@task(cache_policy=NO_CACHE)
@phi_safe
def review_tasks_needing_a_run() -> list[tuple[int, str, int | None]]:
    """(task id, idempotency key, denial id or None) of tasks no live run waits on.

    Open tasks whose run was never started (Prefect was down when the batch flow
    ran), and tasks whose run was cancelled or crashed: a replacement run applies
    the stored decision, or waits for one. A denial's task is named by its denial,
    whose ``appeal`` run carries on from where the denial stands; a denial's task
    without a run is not one of these (its decision starts the run).
    """
    from uuid import UUID

    from prefect import get_client

    with session_scope(engine()) as session:
        pending = unapplied_tasks(session)
    needed: list[tuple[int, str, int | None]] = []
    with get_client(sync_client=True) as client:
        for row in pending:
            name = (
                f"denial-{row.denial_id}"
                if row.denial_id is not None
                else f"review-task-{row.task_id}"
            )
            if row.flow_run_id is None:
                # A denial's undecided task needs no run: its decision starts one
                # (``resume_recorded_decisions`` retries a start that failed).
                if row.status != "resolved" and row.denial_id is None:
                    needed.append((row.task_id, f"{name}-task-{row.task_id}", row.denial_id))
                continue
            run = client.read_flow_run(UUID(row.flow_run_id))
            if run.state is not None and run.state.type.value in _DEAD_STATES:
                needed.append((row.task_id, f"{name}-after-{run.id}", row.denial_id))
    return needed
