"""Human review, generic: a review task is a person's step in a flow, whatever its kind.

Stages create tasks (``ensure_review_task``); the work queue claims and resolves them
(``claimdesk.workqueue``); the waiting flow run reads the recorded decision and applies
it exactly once (``mark_decision_applied`` in the same transaction as its effects).
Every status write goes through the task's state machine (``claimdesk.review.status``).
This module knows no kind by name: a kind's rules are its row in
``claimdesk.workqueue.kinds``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import literal_column, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from claimdesk.access.permissions import require
from claimdesk.errors import NotFound, ReviewConflict
from claimdesk.review.decisions import decision_model, decision_schema
from claimdesk.review.status import CANCELLED, CLAIMED, OPEN, OPEN_STATUSES, TASK
from models import Claim, ReviewDecision, ReviewTask, User, append_audit_event
from models.types import utcnow

__all__ = ["OPEN_STATUSES"]


def status_guard(
    to: str, from_: Iterable[str] | None = None, *, inline: bool = False
) -> ColumnElement[bool]:
    """``status IN (…)`` for a compare-and-set move to ``to``, checked against the table.

    ``from_`` narrows the sources (claim only an open task); each must be allowed.
    ``inline``: the statuses written into the SQL (for a statement built once and run
    on every click: no expanding parameter to render at each execution).
    """
    sources = tuple(from_) if from_ is not None else TASK.sources(to)
    for source in sources:
        TASK.check(source, to)
    if inline:
        return col(ReviewTask.status).in_([sql_literal(s) for s in sources])
    return col(ReviewTask.status).in_(sources)


def sql_literal(value: str) -> ColumnElement[str]:
    """A constant of ours (a status, a kind) as SQL text; never for input from outside."""
    return literal_column("'" + value.replace("'", "''") + "'")


def pause_key(kind: str, claim_id: int | None, version: int | None, n: int, step: int = 1) -> str:
    """A Prefect pause key: lowercase letters, digits and dashes only, unique per decision.

    ``<kind>-<claim>-v<version>-<n>``; a task about no single claim (a rejected batch)
    is keyed by its step instead: ``<kind>-s<step>-<n>``.
    """
    kind_part = kind.replace("_", "-").lower()
    if claim_id is None:
        return f"{kind_part}-s{step}-{n}"
    step_part = f"-s{step}" if step != 1 else ""
    return f"{kind_part}-{claim_id}-v{version or 0}{step_part}-{n}"


def ensure_review_task(
    *,
    session: Session,
    kind: str,
    claim_id: int | None,
    claim_version: int | None,
    step: int | None = None,
    payer_id: int | None = None,
    flow_run_id: str | None = None,
    priority: int = 50,
    due_at: datetime | None = None,
    context: dict[str, Any] | None = None,
) -> ReviewTask:
    """Find or create the task for (kind, claim, version, step); safe under concurrent callers.

    Without a ``step``: the open task for (kind, claim, version) if there is one, else a
    new one after the last closed step (a claim corrected and held again is reviewed again).
    """
    if step is None:
        latest = session.exec(
            select(ReviewTask)
            .where(
                ReviewTask.kind == kind,
                ReviewTask.claim_id == claim_id,
                ReviewTask.claim_version == claim_version,
            )
            .order_by(col(ReviewTask.step).desc())
        ).first()
        if latest is None:
            step = 1
        elif latest.status in OPEN_STATUSES:
            step = latest.step
        else:
            step = latest.step + 1
    query = select(ReviewTask).where(
        ReviewTask.kind == kind,
        ReviewTask.claim_id == claim_id,
        ReviewTask.claim_version == claim_version,
        ReviewTask.step == step,
    )
    existing = session.exec(query).first()
    if existing is not None:
        if flow_run_id and existing.flow_run_id != flow_run_id and existing.status in OPEN_STATUSES:
            existing.flow_run_id = flow_run_id  # a replacement run now waits on this task
            session.add(existing)
            session.flush()
        return existing
    task = ReviewTask(
        kind=kind,
        claim_id=claim_id,
        claim_version=claim_version,
        step=step,
        payer_id=payer_id,
        flow_run_id=flow_run_id,
        pause_key=pause_key(kind, claim_id, claim_version, 1, step),
        priority=priority,
        due_at=due_at,
        context=context or {},
        decision_schema=decision_schema(kind),
    )
    try:
        with session.begin_nested():
            session.add(task)
            session.flush()
    except IntegrityError:
        # Another run created it between our read and our insert.
        found = session.exec(query).first()
        if found is None:
            raise
        return found
    append_audit_event(
        session,
        actor="system:flow",
        action="task.created",
        entity_type="review_task",
        entity_id=task.id,
        claim_id=claim_id,
        details={"kind": kind, "step": step},
    )
    return task


def read_recorded_decision(
    *, session: Session, task_id: int, decision_id: int | None = None
) -> ReviewDecision | None:
    """The decision recorded for a task (checked against the given reference, if any)."""
    task = session.get(ReviewTask, task_id, populate_existing=True)
    if task is None or task.decision_id is None:
        return None
    if decision_id is not None and decision_id != task.decision_id:
        return None
    return session.get(ReviewDecision, task.decision_id)


def mark_decision_applied(*, session: Session, decision_id: int) -> bool:
    """Mark applied exactly once; False when someone already applied it."""
    result = session.execute(
        update(ReviewDecision)
        .where(col(ReviewDecision.id) == decision_id, col(ReviewDecision.applied_at).is_(None))
        .values(applied_at=utcnow())
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def task_claim(session: Session, task: ReviewTask) -> Claim:
    """The claim a task is about; a task about no claim here is a wiring error."""
    claim = session.get(Claim, task.claim_id) if task.claim_id else None
    if claim is None:
        raise NotFound(f"task {task.id} names no claim")
    return claim


def subject_id(task: ReviewTask) -> int | None:
    """The id of what the task is about, from its kind's ``subject`` (see decisions)."""
    subject = decision_model(task.kind).subject
    if subject == "claim":
        return task.claim_id
    value = task.context.get(subject)
    return int(value) if value is not None else None


def claim_task(*, session: Session, task_id: int, user: User) -> ReviewTask:
    """Take an open task; exactly one of several concurrent callers wins."""
    require(user, "task.claim")
    result = session.execute(
        update(ReviewTask)
        .where(col(ReviewTask.id) == task_id, status_guard(CLAIMED, from_=(OPEN,)))
        .values(
            status=CLAIMED,
            assignee_id=user.id,
            version=ReviewTask.version + 1,
            updated_at=utcnow(),
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        task = session.get(ReviewTask, task_id)
        if task is None:
            raise NotFound(f"no review task {task_id}")
        raise ReviewConflict(f"task {task_id} is {task.status} and cannot be claimed")
    append_audit_event(
        session,
        actor=user.username,
        action="task.claimed",
        entity_type="review_task",
        entity_id=task_id,
    )
    task = session.get(ReviewTask, task_id, populate_existing=True)
    assert task is not None
    return task


def cancel_open_task(
    session: Session, *, kind: str, claim_id: int | None, step: int, actor: str, reason: str
) -> int | None:
    """Cancel the open task of (kind, claim, step), if any (its question was answered)."""
    task = session.exec(
        select(ReviewTask).where(
            ReviewTask.kind == kind,
            ReviewTask.claim_id == claim_id
            if claim_id is not None
            else col(ReviewTask.claim_id).is_(None),
            ReviewTask.step == step,
            col(ReviewTask.status).in_(OPEN_STATUSES),
        )
    ).first()
    if task is None:
        return None
    TASK.move(task, CANCELLED)
    task.version += 1
    task.resolved_at = utcnow()
    session.add(task)
    append_audit_event(
        session,
        actor=actor,
        action="task.cancelled",
        entity_type="review_task",
        entity_id=task.id,
        claim_id=task.claim_id,
        details={"reason": reason},
    )
    return task.id


@dataclass(frozen=True)
class PauseBinding:
    decision_id: int | None
    pause_key: str


def bind_run(session: Session, *, task_id: int, flow_run_id: str, attempt: int) -> PauseBinding:
    """Record which run waits on the task under which key; a decision if one exists."""
    task = session.get(ReviewTask, task_id)
    if task is None:
        raise NotFound(f"review task {task_id} does not exist")
    recorded = read_recorded_decision(session=session, task_id=task_id)
    key = pause_key(task.kind, task.claim_id, task.claim_version, attempt, task.step)
    if recorded is None and task.status in OPEN_STATUSES:
        task.flow_run_id = flow_run_id
        task.pause_key = key
        session.add(task)
    return PauseBinding(recorded.id if recorded else None, key)


def accept_reference(session: Session, *, task_id: int, decision_id: int, key: str) -> bool:
    """True when ``decision_id`` is what claimdesk recorded for the task; audit a refusal once."""
    if read_recorded_decision(session=session, task_id=task_id, decision_id=decision_id):
        return True
    task = session.get(ReviewTask, task_id)
    if task is None:
        raise NotFound(f"review task {task_id} does not exist")
    refused = list(task.context.get("refused_pause_keys", []))
    if key not in refused:
        task.context = {**task.context, "refused_pause_keys": [*refused, key]}
        flag_modified(task, "context")
        session.add(task)
        append_audit_event(
            session,
            actor="system:claim-review",
            action="task.resume_refused",
            entity_type="review_task",
            entity_id=task_id,
            claim_id=task.claim_id,
            details={"pause_key": key, "decision_id": decision_id},
        )
    return False


@dataclass(frozen=True)
class UnappliedTask:
    """A task whose decision is not applied yet, with what its replacement run is named by."""

    task_id: int
    status: str
    flow_run_id: str | None
    denial_id: int | None


def unapplied_tasks(session: Session) -> list[UnappliedTask]:
    """Open, claimed or resolved tasks whose decision (if any) was never applied."""
    rows = session.exec(
        select(ReviewTask, ReviewDecision)
        .outerjoin(ReviewDecision, col(ReviewDecision.id) == col(ReviewTask.decision_id))
        .where(col(ReviewTask.status).in_((*OPEN_STATUSES, "resolved")))
    ).all()
    found: list[UnappliedTask] = []
    for task, decision in rows:
        if task.id is None or (decision is not None and decision.applied_at is not None):
            continue
        # A denial's tasks belong to its ``appeal`` run, which walks the denial on.
        denial_id = subject_id(task) if decision_model(task.kind).subject == "denial_id" else None
        found.append(UnappliedTask(task.id, task.status, task.flow_run_id, denial_id))
    return found
