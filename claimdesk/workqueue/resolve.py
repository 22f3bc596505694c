"""Resolving a review task: record the decision, then resume the flow run waiting on it.

``resolve_review`` records the decision and its audit event in one transaction
in claimdesk's database, *then* resumes the flow run with the decision's id.
If Prefect cannot be reached the decision is kept and ``reconcile_resumes``
resumes the run later; a decision is never lost and never applied twice
(the flow marks it applied in the same transaction as its effects).

A denial's review opens when its 835 is posted, with no run: a person is its
first step, so nothing needs orchestrating until that person decides. The
decision then *starts* the denial's ``appeal`` run (a ``Starter``, passed in
like the resumer: Prefect stays out of claimdesk), keyed by the decision so a
retry by ``reconcile_resumes`` finds the same run; the run finds the recorded
decision and goes on without pausing.

Who may resolve a kind and what its decision must satisfy are the kind's row in
``claimdesk.workqueue.kinds``, checked here for every caller (app, CLI, tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from claimdesk.access import permissions
from claimdesk.access.auth import load_active_user
from claimdesk.access.duties import require_separation
from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from claimdesk.errors import NotFound, ReviewConflict, ValidationFailed
from claimdesk.review.decisions import kinds_about
from claimdesk.review.status import OPEN_STATUSES, RESOLVED
from claimdesk.review.tasks import sql_literal, status_guard, subject_id
from claimdesk.workqueue.appliers import apply_recorded_decision
from claimdesk.workqueue.caller import Caller, active_caller
from claimdesk.workqueue.kinds import kinds_for_role, review_kind
from models import ReviewDecision, ReviewTask, User
from models.audit import append_audit_record
from models.types import utcnow


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def record_decision(
    *, session: Session, task_id: int, user: User | Caller, decision: dict[str, Any]
) -> ReviewDecision:
    """Validate and store a decision and close the task, in the caller's transaction."""
    require(user, "task.resolve", session=session)
    stored, decision_id, _run = _record(
        session=session, task_id=task_id, user=user, decision=decision
    )
    return ReviewDecision(**stored, id=decision_id)


# Built once: a resolve runs them on every decision (Core, no unit-of-work flush).
_DECISION = ReviewDecision.__table__  # type: ignore[attr-defined]
_TASK = ReviewTask.__table__  # type: ignore[attr-defined]
_INSERT_DECISION = insert(_DECISION).returning(_DECISION.c.id)
# Conditional on the version read: a concurrent resolver makes this match nothing.
_CLOSE_TASK = (
    update(_TASK)
    .where(
        _TASK.c.id == bindparam("task_id"),
        _TASK.c.version == bindparam("read_version"),
        status_guard(RESOLVED, inline=True),
    )
    .values(
        status=sql_literal(RESOLVED),
        decision_id=bindparam("decision_id"),
        resolved_at=bindparam("now"),
        assignee_id=bindparam("assignee"),
        version=bindparam("read_version") + 1,
        updated_at=bindparam("now"),
    )
    .returning(_TASK.c.flow_run_id)
)


def _record(
    *,
    session: Session,
    task_id: int,
    user: User | Caller,
    decision: dict[str, Any],
    commits_next: bool = False,
) -> tuple[dict[str, Any], int, str | None]:
    """``record_decision``'s row (values, id) and the flow run waiting as the close left it.

    The caller checked ``task.resolve`` (``require``); ``commits_next``: it commits
    right after (this audit append is then the transaction's last statement).
    """
    task = session.get(ReviewTask, task_id, populate_existing=True)
    if task is None:
        raise NotFound(f"no review task {task_id}")
    kind = review_kind(task.kind)
    if user.role not in kind.resolvers:
        permissions.deny(
            user,
            "task.resolve",
            f"{task.kind!r} tasks are resolved by {', '.join(sorted(kind.resolvers))}, "
            f"not by role {user.role!r}.",
            session=session,
            details={"task_id": task_id, "kind": task.kind},
        )
    require_separation(session, task, user)
    if task.status not in OPEN_STATUSES:
        raise ReviewConflict(f"task {task_id} was already {task.status}; nothing was changed.")
    if task.status == "claimed" and task.assignee_id != user.id and user.role != "lead":
        raise ReviewConflict(
            f"task {task_id} is claimed by someone else; ask a lead to reassign it."
        )
    try:
        parsed = kind.decision.model_validate(decision)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "decision"
        raise ValidationFailed(f"decision.{field}: {first['msg']}", field=field) from None
    if kind.check is not None:
        kind.check(session, task, parsed)
    session.flush()  # whatever the check left pending, before the Core statements
    connection = session.connection()
    values: dict[str, Any] = {
        "review_task_id": task_id,
        "decided_by_id": user.id or 0,
        "decision": parsed.model_dump(mode="json"),
        "decided_at": utcnow(),
    }
    decision_id = connection.execute(_INSERT_DECISION, values).scalar_one()
    now, assignee = utcnow(), task.assignee_id or user.id
    closed = connection.execute(
        _CLOSE_TASK,
        {
            "task_id": task_id,
            "read_version": task.version,
            "decision_id": decision_id,
            "now": now,
            "assignee": assignee,
        },
    ).first()
    if closed is None:
        raise ReviewConflict(f"task {task_id} was resolved by someone else meanwhile.")
    # The session's copy of the task shows what the UPDATE wrote.
    for name, value in (
        ("status", RESOLVED),
        ("decision_id", decision_id),
        ("resolved_at", now),
        ("assignee_id", assignee),
        ("version", task.version + 1),
        ("updated_at", now),
        ("flow_run_id", closed.flow_run_id),
    ):
        set_committed_value(task, name, value)
    append_audit_record(
        session,
        actor=user.username,
        action="task.resolved",
        entity_type="review_task",
        entity_id=task_id,
        claim_id=task.claim_id,
        details={"decision_id": decision_id, "action": getattr(parsed, "action", None)},
        last=commits_next,
    )
    return values, decision_id, closed.flow_run_id


Resumer = Callable[[str, int], None]
"""Resumes flow run ``flow_run_id`` with decision ``decision_id``; raises when it cannot."""

Starter = Callable[[int, str], str]
"""Starts denial ``denial_id``'s ``appeal`` run under idempotency key ``key``; returns the
run's id (the same run for the same key); raises when it cannot."""


@dataclass(frozen=True)
class ResolveOutcome:
    task_id: int
    decision_id: int
    resumed: bool
    message: str


def resolve_review(
    engine: Engine,
    *,
    task_id: int,
    username: str,
    decision: dict[str, Any],
    resumer: Resumer,
    starter: Starter | None = None,
) -> ResolveOutcome:
    """Record the decision (committed), then resume the flow run with its reference.

    A denial's task no run waits on gets its run started (``starter``); without a
    starter, or when the start fails, ``reconcile_resumes`` starts it later.
    """
    with session_scope(engine) as session:
        user = active_caller(session, username)  # unknown or disabled: refused, audited
        require(user, "task.resolve", session=session)
        _stored, decision_id, flow_run_id = _record(
            session=session, task_id=task_id, user=user, decision=decision, commits_next=True
        )
    return _try_resume(engine, task_id, flow_run_id, decision_id, resumer, starter)


def _try_resume(
    engine: Engine,
    task_id: int,
    flow_run_id: str | None,
    decision_id: int,
    resumer: Resumer,
    starter: Starter | None = None,
) -> ResolveOutcome:
    if flow_run_id is None:
        denial_id = _denial_of(engine, task_id)
        if denial_id is not None:
            return _start_run(engine, task_id, denial_id, decision_id, starter)
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
    with engine.begin() as connection:
        connection.execute(_MARK_RESUMED, {"decision_id": decision_id, "now": utcnow()})
    return ResolveOutcome(task_id, decision_id, True, "decision recorded; flow run resumed")


_MARK_RESUMED = (
    update(_DECISION)
    .where(_DECISION.c.id == bindparam("decision_id"))
    .values(resumed_at=bindparam("now"))
)
# The started run is the task's: the sweep replaces it if it dies before applying.
_BIND_STARTED = (
    update(_TASK)
    .where(_TASK.c.id == bindparam("task_id"), _TASK.c.flow_run_id.is_(None))
    .values(flow_run_id=bindparam("run_id"))
)


def _denial_of(engine: Engine, task_id: int) -> int | None:
    """The denial a task is about (its ``appeal`` run works it), or None."""
    with Session(engine) as session:
        task = session.get(ReviewTask, task_id)
        if task is None or task.kind not in kinds_about("denial_id"):
            return None
        return subject_id(task)


def _start_run(
    engine: Engine, task_id: int, denial_id: int, decision_id: int, starter: Starter | None
) -> ResolveOutcome:
    if starter is None:
        return ResolveOutcome(
            task_id, decision_id, False, "decision recorded; run start deferred (no starter)"
        )
    try:
        # One key per decision: a retry (reconciler, second click) finds the same run.
        run_id = starter(denial_id, f"denial-{denial_id}-decision-{decision_id}")
    except Exception as exc:  # Prefect down: the reconciler starts it
        return ResolveOutcome(
            task_id,
            decision_id,
            False,
            f"decision recorded; run start deferred ({type(exc).__name__})",
        )
    with engine.begin() as connection:
        connection.execute(_MARK_RESUMED, {"decision_id": decision_id, "now": utcnow()})
        connection.execute(_BIND_STARTED, {"task_id": task_id, "run_id": run_id})
    return ResolveOutcome(task_id, decision_id, True, "decision recorded; flow run started")


def decisions_awaiting_resume(session: Session) -> list[tuple[int, str | None, int]]:
    rows = session.exec(
        select(ReviewTask.id, ReviewTask.flow_run_id, ReviewDecision.id)
        .join(ReviewDecision, col(ReviewDecision.id) == col(ReviewTask.decision_id))
        .where(col(ReviewDecision.resumed_at).is_(None), col(ReviewDecision.applied_at).is_(None))
    ).all()
    return [(t or 0, f, d or 0) for t, f, d in rows]


def reconcile_resumes(
    engine: Engine, resumer: Resumer, starter: Starter | None = None
) -> list[ResolveOutcome]:
    """Resume every run whose decision was recorded but not yet delivered.

    A denial's decision whose run never started (Prefect was down) gets it started.
    """
    with session_scope(engine) as session:
        pending = decisions_awaiting_resume(session)
    return [_try_resume(engine, t, f, d, resumer, starter) for t, f, d in pending]


def check_decision(kind: str, decision: dict[str, Any]) -> list[str]:
    """Problems with a decision before it is submitted ('field: message'); empty when valid."""
    try:
        review_kind(kind).decision.model_validate(decision)
    except KeyError:
        return [f"no decision form exists for {kind!r} tasks yet"]
    except ValidationError as exc:
        return [
            f"{'.'.join(str(p) for p in err['loc']) or 'decision'}: {err['msg']}"
            for err in exc.errors()
        ]
    return []


def submit_decision(
    engine: Engine,
    *,
    username: str,
    task_id: int,
    decision: dict[str, Any],
    resumer: Resumer,
    starter: Starter | None = None,
) -> ResolveOutcome:
    """Record the decision and resume the waiting flow run (or defer the resume).

    A task no flow run waits for (created by hand or by a finished run) has nobody
    to apply its decision, so it is applied here, in the same way the flow would;
    a denial's starts its ``appeal`` run instead (the letter and sending are steps).
    """
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        task = session.get(ReviewTask, task_id)
        if task is None:
            raise NotFound(f"no review task {task_id}")
        if task.kind not in kinds_for_role(user.role):
            permissions.deny(
                user,
                "task.resolve",
                f"{task.kind!r} tasks are not in role {user.role!r}'s queues",
                session=session,
                details={"task_id": task_id, "kind": task.kind},
            )
    outcome = resolve_review(
        engine,
        task_id=task_id,
        username=username,
        decision=decision,
        resumer=resumer,
        starter=starter,
    )
    if outcome.message.endswith("no flow run waits"):
        with session_scope(engine) as session:
            applied = apply_recorded_decision(
                session=session, task_id=task_id, decision_id=outcome.decision_id
            )
        return ResolveOutcome(
            task_id, outcome.decision_id, False, f"decision recorded and applied ({applied})"
        )
    return outcome
