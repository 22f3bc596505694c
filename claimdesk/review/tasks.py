"""Human review: tasks are created by flows, claimed and resolved by people.

``resolve_review`` records the decision and its audit event in one transaction
in claimdesk's database, *then* resumes the flow run with the decision's id.
If Prefect cannot be reached the decision is kept and ``reconcile_resumes``
resumes the run later; a decision is never lost and never applied twice
(the flow marks it applied in the same transaction as its effects).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from claimdesk.errors import NotFound, ReviewConflict, ValidationFailed
from claimdesk.review.decisions import decision_model, decision_schema
from models import ReviewDecision, ReviewTask, User, append_audit_event
from models.types import utcnow

OPEN_STATUSES = ("open", "claimed")


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


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def claim_task(*, session: Session, task_id: int, user: User) -> ReviewTask:
    """Take an open task; exactly one of several concurrent callers wins."""
    require(user, "task.claim")
    result = session.execute(
        update(ReviewTask)
        .where(col(ReviewTask.id) == task_id, col(ReviewTask.status) == "open")
        .values(
            status="claimed",
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


def record_decision(
    *, session: Session, task_id: int, user: User, decision: dict[str, Any]
) -> ReviewDecision:
    """Validate and store a decision and close the task, in the caller's transaction."""
    require(user, "task.resolve")
    task = session.get(ReviewTask, task_id, populate_existing=True)
    if task is None:
        raise NotFound(f"no review task {task_id}")
    if task.status not in OPEN_STATUSES:
        raise ReviewConflict(f"task {task_id} was already {task.status}; nothing was changed.")
    if task.status == "claimed" and task.assignee_id != user.id and user.role != "lead":
        raise ReviewConflict(
            f"task {task_id} is claimed by someone else; ask a lead to reassign it."
        )
    try:
        parsed = decision_model(task.kind).model_validate(decision)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "decision"
        raise ValidationFailed(f"decision.{field}: {first['msg']}", field=field) from None
    _check_against_claim(session, task, parsed)
    row = ReviewDecision(
        review_task_id=task_id, decided_by_id=user.id or 0, decision=parsed.model_dump(mode="json")
    )
    session.add(row)
    session.flush()
    # Conditional on the version we read: a concurrent resolver makes this match nothing.
    result = session.execute(
        update(ReviewTask)
        .where(
            col(ReviewTask.id) == task_id,
            col(ReviewTask.version) == task.version,
            col(ReviewTask.status).in_(OPEN_STATUSES),
        )
        .values(
            status="resolved",
            decision_id=row.id,
            resolved_at=utcnow(),
            assignee_id=task.assignee_id or user.id,
            version=task.version + 1,
            updated_at=utcnow(),
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ReviewConflict(f"task {task_id} was resolved by someone else meanwhile.")
    append_audit_event(
        session,
        actor=user.username,
        action="task.resolved",
        entity_type="review_task",
        entity_id=task_id,
        claim_id=task.claim_id,
        details={"decision_id": row.id, "action": getattr(parsed, "action", None)},
    )
    return row


def _check_against_claim(session: Session, task: ReviewTask, decision: Any) -> None:
    """Refuse, before it is stored, a decision the claim's own facts forbid.

    The decision model checks its shape; some rules need the data (an appeal on a
    denial that carries no appeal rights, billing a patient for a non-PR amount).
    """
    if task.kind == "denial" and task.context.get("denial_id") is not None:
        from claimdesk.denials.service import check_denial_decision

        check_denial_decision(session, int(task.context["denial_id"]), decision)
    corrections = getattr(decision, "corrections", None)
    if corrections is not None and corrections.lines and task.claim_id is not None:
        from models import ClaimLine

        numbers = set(
            session.exec(
                select(ClaimLine.line_number).where(ClaimLine.claim_id == task.claim_id)
            ).all()
        )
        for fix in corrections.lines:
            if fix.line_number not in numbers:
                raise ValidationFailed(
                    f"decision.corrections.lines: the claim has no line {fix.line_number}; "
                    f"its lines are {sorted(numbers)}.",
                    field="corrections.lines",
                )


Resumer = Callable[[str, int], None]
"""Resumes flow run ``flow_run_id`` with decision ``decision_id``; raises when it cannot."""


@dataclass(frozen=True)
class ResolveOutcome:
    task_id: int
    decision_id: int
    resumed: bool
    message: str


def resolve_review(
    engine: Engine, *, task_id: int, username: str, decision: dict[str, Any], resumer: Resumer
) -> ResolveOutcome:
    """Record the decision (committed), then resume the flow run with its reference."""
    with session_scope(engine) as session:
        user = get_user(session, username)
        row = record_decision(session=session, task_id=task_id, user=user, decision=decision)
        task = session.get(ReviewTask, task_id, populate_existing=True)
        assert task is not None and row.id is not None
        flow_run_id, decision_id = task.flow_run_id, row.id
    return _try_resume(engine, task_id, flow_run_id, decision_id, resumer)


def _try_resume(
    engine: Engine, task_id: int, flow_run_id: str | None, decision_id: int, resumer: Resumer
) -> ResolveOutcome:
    if flow_run_id is None:
        return ResolveOutcome(task_id, decision_id, False, "decision recorded; no flow run waits")
    try:
        resumer(flow_run_id, decision_id)
    except Exception as exc:  # Prefect down or the run not paused: the reconciler takes over
        return ResolveOutcome(
            task_id,
            decision_id,
            False,
            f"decision recorded; resume deferred ({type(exc).__name__})",
        )
    with session_scope(engine) as session:
        session.execute(
            update(ReviewDecision)
            .where(col(ReviewDecision.id) == decision_id)
            .values(resumed_at=utcnow())
        )
    return ResolveOutcome(task_id, decision_id, True, "decision recorded; flow run resumed")


def decisions_awaiting_resume(session: Session) -> list[tuple[int, str | None, int]]:
    rows = session.exec(
        select(ReviewTask.id, ReviewTask.flow_run_id, ReviewDecision.id)
        .join(ReviewDecision, col(ReviewDecision.id) == col(ReviewTask.decision_id))
        .where(col(ReviewDecision.resumed_at).is_(None), col(ReviewDecision.applied_at).is_(None))
    ).all()
    return [(t or 0, f, d or 0) for t, f, d in rows]


def reconcile_resumes(engine: Engine, resumer: Resumer) -> list[ResolveOutcome]:
    """Resume every run whose decision was recorded but not yet delivered."""
    with session_scope(engine) as session:
        pending = decisions_awaiting_resume(session)
    return [_try_resume(engine, t, f, d, resumer) for t, f, d in pending]


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
