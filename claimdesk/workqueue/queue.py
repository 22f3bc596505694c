"""The work queue's moves: "next task", claim, unclaim, reassign, and the pickers' choices.

Every call loads the user again and checks the role here, whatever the page showed;
every status change is a compare-and-set guarded by the review task's state machine
(``claimdesk.review.status``), so two people clicking the same task get one winner.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from claimdesk.access import permissions
from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from claimdesk.errors import NotFound, ReviewConflict, ValidationFailed
from claimdesk.review.status import CLAIMED, OPEN, OPEN_STATUSES
from claimdesk.review.tasks import claim_task, sql_literal, status_guard
from claimdesk.workqueue.caller import active_caller
from claimdesk.workqueue.kinds import WORKING_ROLES, kinds_for_role
from models import Payer, ReviewTask, User, append_audit_event
from models.audit import append_audit_record
from models.types import utcnow


def next_task_statement(*, user_id: int, allowed: tuple[str, ...], dialect: str) -> Any:
    """One UPDATE that claims the highest-priority open task; exactly one caller wins a row.

    PostgreSQL: the sub-select locks its row ``FOR UPDATE SKIP LOCKED``, so concurrent
    callers pass over each other's row instead of queueing on it (index
    ``ix_review_task_page_priority`` serves its ORDER BY). SQLite: the transaction took
    the write lock at BEGIN (``claimdesk.db``), and ``status = 'open'`` in the outer
    WHERE makes the UPDATE conditional.
    """
    return _claim_next(allowed, dialect).params(assignee_id=user_id, now=utcnow())


# Built once per (kinds, dialect): the statement runs on every "next task" click.
_CLAIM_NEXT: dict[tuple[tuple[str, ...], str], Any] = {}


def _claim_next(allowed: tuple[str, ...], dialect: str) -> Any:
    statement = _CLAIM_NEXT.get((allowed, dialect))
    if statement is not None:
        return statement
    pick = (
        sa_select(col(ReviewTask.id))
        .where(
            col(ReviewTask.status) == sql_literal(OPEN),
            col(ReviewTask.kind).in_([sql_literal(kind) for kind in allowed]),
        )
        .order_by(col(ReviewTask.priority).desc(), col(ReviewTask.id))
        .limit(1)
    )
    if dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    statement = (
        update(ReviewTask)
        .where(
            col(ReviewTask.id) == pick.scalar_subquery(),
            status_guard(CLAIMED, from_=(OPEN,), inline=True),
        )
        .values(
            status=sql_literal(CLAIMED),
            assignee_id=bindparam("assignee_id"),
            version=ReviewTask.version + 1,
            updated_at=bindparam("now"),
        )
        .returning(col(ReviewTask.id), col(ReviewTask.claim_id))
    )
    _CLAIM_NEXT[(allowed, dialect)] = statement
    return statement


def take_next_task(engine: Engine, *, username: str) -> int | None:
    """Claim the highest-priority open task the user may work; None when the queue is empty.

    One transaction of four statements: the user, the claiming UPDATE, the audit
    event (with its role switch) and COMMIT.
    """
    with session_scope(engine) as session:
        user = active_caller(session, username)
        require(user, "task.claim", session=session)
        connection = session.connection()
        won = connection.execute(
            _claim_next(kinds_for_role(user.role), connection.dialect.name),
            {"assignee_id": user.id, "now": utcnow()},
        ).first()
        if won is None:
            return None
        task_id, claim_id = won
        append_audit_record(
            session,
            actor=user.username,
            action="task.claimed",
            entity_type="review_task",
            entity_id=task_id,
            claim_id=claim_id,
            details={"via": "next_task"},
            last=True,
        )
        return int(task_id)


def _check_kind(user: User, task: ReviewTask) -> None:
    if task.kind not in kinds_for_role(user.role):
        permissions.deny(
            user,
            "task.claim",
            f"{task.kind!r} tasks are not in the queues of role {user.role!r}; ask a lead.",
            details={"task_id": task.id, "kind": task.kind},
        )


def claim(engine: Engine, *, username: str, task_id: int) -> None:
    """Claim one open task (a conditional UPDATE: one winner)."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        task = session.get(ReviewTask, task_id)
        if task is None:
            raise NotFound(f"no review task {task_id}")
        _check_kind(user, task)
        claim_task(session=session, task_id=task_id, user=user)


def unclaim(engine: Engine, *, username: str, task_id: int) -> None:
    """Put a claimed task back in the queue; its assignee or a lead may."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "task.claim")
        task = session.get(ReviewTask, task_id)
        if task is None:
            raise NotFound(f"no review task {task_id}")
        if task.status != CLAIMED:
            raise ReviewConflict(f"task {task_id} is {task.status}, not claimed; nothing to undo.")
        if task.assignee_id != user.id and user.role != "lead":
            permissions.deny(
                user, "task.unclaim", f"task {task_id} is someone else's; ask a lead to move it."
            )
        result = session.execute(
            update(ReviewTask)
            .where(
                col(ReviewTask.id) == task_id,
                status_guard(OPEN, from_=(CLAIMED,)),
                col(ReviewTask.version) == task.version,
            )
            .values(status=OPEN, assignee_id=None, version=task.version + 1, updated_at=utcnow())
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ReviewConflict(f"task {task_id} changed meanwhile (now {task.status}); reload.")
        append_audit_event(
            session,
            actor=user.username,
            action="task.unclaimed",
            entity_type="review_task",
            entity_id=task_id,
            claim_id=task.claim_id,
        )


@dataclass
class ReassignReport:
    moved: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def reassign(
    engine: Engine, *, username: str, task_ids: list[int], to_username: str
) -> ReassignReport:
    """Move tasks to another worker; each task that cannot move is reported with the reason."""
    report = ReassignReport()
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "task.reassign")
        target = session.exec(select(User).where(User.username == to_username)).first()
        if target is None or not target.active or target.role not in WORKING_ROLES:
            raise ValidationFailed(
                f"assignee: {to_username!r} is not an active specialist or lead", field="assignee"
            )
        for task_id in dict.fromkeys(task_ids):
            task = session.get(ReviewTask, task_id, populate_existing=True)
            reason = _refusal(task, target)
            if reason is None and task is not None:
                result = session.execute(
                    update(ReviewTask)
                    .where(
                        col(ReviewTask.id) == task_id,
                        col(ReviewTask.version) == task.version,
                        status_guard(CLAIMED),
                    )
                    .values(
                        status=CLAIMED,
                        assignee_id=target.id,
                        version=task.version + 1,
                        updated_at=utcnow(),
                    )
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    reason = "changed meanwhile; try again"
            if reason is not None:
                report.refused.append((task_id, reason))
                continue
            report.moved.append(task_id)
            append_audit_event(
                session,
                actor=user.username,
                action="task.reassigned",
                entity_type="review_task",
                entity_id=task_id,
                claim_id=task.claim_id if task else None,
                details={"to": target.username},
            )
    return report


def _refusal(task: ReviewTask | None, target: User) -> str | None:
    if task is None:
        return "no such task"
    if task.status not in OPEN_STATUSES:
        return f"already {task.status}"
    if task.assignee_id == target.id:
        return f"already assigned to {target.username}"
    if task.kind not in kinds_for_role(target.role):
        return f"{task.kind} is not in {target.username}'s queues ({target.role})"
    return None


@dataclass(frozen=True)
class Choices:
    payers: dict[int, str]
    workers: list[str]
    kinds: tuple[str, ...]


def read_choices(engine: Engine, *, username: str) -> Choices:
    """Values for the filter widgets: payers, people who work tasks, the role's kinds."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "task.view")
        payers = {p.id or 0: p.name for p in session.exec(select(Payer).order_by(Payer.name))}
        workers = list(
            session.exec(
                select(User.username)
                .where(col(User.role).in_(sorted(WORKING_ROLES)), col(User.active).is_(True))
                .order_by(User.username)
            )
        )
    return Choices(payers, workers, kinds_for_role(user.role))
