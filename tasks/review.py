"""Tasks around a human-review pause. They read and write claimdesk's database only.

``NO_CACHE``: a resumed flow re-runs from the top, and these must see the
database as it is now, never a result cached before the pause.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.orm.attributes import flag_modified

from claimdesk.db import session_scope
from claimdesk.review.tasks import pause_key, read_recorded_decision
from claimdesk.workqueue.appliers import apply_recorded_decision
from models import ReviewTask, append_audit_event
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
        task_row = session.get(ReviewTask, task_id)
        if task_row is None:
            raise LookupError(f"review task {task_id} does not exist")
        recorded = read_recorded_decision(session=session, task_id=task_id)
        key = pause_key(
            task_row.kind, task_row.claim_id, task_row.claim_version, attempt, task_row.step
        )
        if recorded is None and task_row.status in ("open", "claimed"):
            task_row.flow_run_id = flow_run_id
            task_row.pause_key = key
            session.add(task_row)
        return PauseState(recorded.id if recorded else None, key)


@task(cache_policy=NO_CACHE)
@phi_safe
def check_decision_reference(task_id: int, decision_id: int, key: str) -> bool:
    """True when ``decision_id`` is what claimdesk recorded for the task; audit a refusal once."""
    with session_scope(engine()) as session:
        if read_recorded_decision(session=session, task_id=task_id, decision_id=decision_id):
            return True
        task_row = session.get(ReviewTask, task_id)
        assert task_row is not None
        refused = list(task_row.context.get("refused_pause_keys", []))
        if key not in refused:
            task_row.context = {**task_row.context, "refused_pause_keys": [*refused, key]}
            flag_modified(task_row, "context")
            session.add(task_row)
            append_audit_event(
                session,
                actor="system:claim-review",
                action="task.resume_refused",
                entity_type="review_task",
                entity_id=task_id,
                claim_id=task_row.claim_id,
                details={"pause_key": key, "decision_id": decision_id},
            )
        return False


@task(cache_policy=NO_CACHE)
@phi_safe
def apply_decision(task_id: int, decision_id: int) -> str:
    """Apply the decision to the claim (exactly once) and return what happened."""
    with session_scope(engine()) as session:
        return apply_recorded_decision(session=session, task_id=task_id, decision_id=decision_id)


@task(cache_policy=NO_CACHE)
@phi_safe
def resume_recorded_decisions() -> int:
    """Resume runs whose decision was recorded while Prefect could not be reached."""
    from claimdesk.review.tasks import reconcile_resumes
    from tasks.resume import resume_with_reference

    return sum(o.resumed for o in reconcile_resumes(engine(), resume_with_reference))


# A run in one of these states will never apply its task's decision.
_DEAD_STATES = {"CANCELLED", "CRASHED", "FAILED"}


# Tasks of these kinds belong to a denial's ``appeal`` run, which walks the denial on.
_DENIAL_KINDS = {"denial", "write_off_approval", "appeal_send"}


@task(cache_policy=NO_CACHE)
@phi_safe
def review_tasks_needing_a_run() -> list[tuple[int, str, int | None]]:
    """(task id, idempotency key, denial id or None) of tasks no live run waits on.

    Open tasks whose run was never started (Prefect was down when the batch flow
    ran), and tasks whose run was cancelled or crashed: a replacement run applies
    the stored decision, or waits for one. A denial's task is named by its denial,
    whose ``appeal`` run carries on from where the denial stands.
    """
    from uuid import UUID

    from prefect import get_client
    from sqlmodel import Session, col, select

    from models import ReviewDecision

    with Session(engine()) as session:
        rows = session.exec(
            select(ReviewTask, ReviewDecision)
            .outerjoin(ReviewDecision, col(ReviewDecision.id) == col(ReviewTask.decision_id))
            .where(col(ReviewTask.status).in_(("open", "claimed", "resolved")))
        ).all()
    needed: list[tuple[int, str, int | None]] = []
    with get_client(sync_client=True) as client:
        for task_row, decision in rows:
            if task_row.id is None or (decision is not None and decision.applied_at is not None):
                continue
            denial_id = (
                task_row.context.get("denial_id") if task_row.kind in _DENIAL_KINDS else None
            )
            name = f"denial-{denial_id}" if denial_id is not None else f"review-task-{task_row.id}"
            if task_row.flow_run_id is None:
                if task_row.status != "resolved":
                    needed.append((task_row.id, f"{name}-task-{task_row.id}", denial_id))
                continue
            run = client.read_flow_run(UUID(task_row.flow_run_id))
            if run.state is not None and run.state.type.value in _DEAD_STATES:
                needed.append((task_row.id, f"{name}-after-{run.id}", denial_id))
    return needed
