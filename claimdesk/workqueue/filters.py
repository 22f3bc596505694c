"""The work queue's lists: filters, keyset-paged pages of tasks, and counts.

The list shows the minimum necessary (claim number, payer, kind, amount, due,
age, a masked member id); full PHI is only on the task page. Every call loads
the user again and checks the role here, whatever the page showed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.access.phi import mask_member_id
from claimdesk.db import session_scope
from claimdesk.errors import ValidationFailed
from claimdesk.review.status import OPEN_STATUSES
from claimdesk.workqueue.kinds import ALL_KINDS, kinds_for_role
from claimdesk.workqueue.reasons import why_in_queue
from models import Claim, Coverage, Payer, ReviewTask, User, append_audit_event
from models.types import utcnow

# SQLAlchemy's Select is generic over its column types; the builders below pass it along.
_Query = Any

PAGE_SIZE = 50  # one screen of rows; deeper pages continue by keyset, never by OFFSET
# Counting stops here: an exact count of a huge queue costs more than it tells anyone.
COUNT_CAP = 10_000
STATUSES = ("open", "claimed", "active", "resolved", "cancelled")
DUE_WINDOWS = ("overdue", "24h", "3d", "7d", "30d")
SORTS = ("priority", "due")
_REASON = re.compile(r"[A-Za-z0-9_]{1,30}(-[A-Za-z0-9]{1,10})?")


@dataclass(frozen=True)
class QueueFilters:
    """What the queue shows; round-trips through URL query parameters."""

    kinds: tuple[str, ...] = ()
    payer_ids: tuple[int, ...] = ()
    status: str = "open"  # "active" means open or claimed
    assignee: str | None = None  # "me", "unassigned" or a username
    due: str | None = None  # one of DUE_WINDOWS
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    # A reason code: a CARC with or without its group ("CO-16", "16"), or an eligibility
    # outcome ("inactive", "other_primary"); matched against the task's context.
    reason: str | None = None
    sort: str = "priority"

    def __post_init__(self) -> None:
        if self.reason is not None and not _REASON.fullmatch(self.reason):
            raise ValidationFailed(
                f"reason: {self.reason!r} is not a reason code (e.g. CO-16, 16 or inactive)",
                field="reason",
            )
        if self.status not in STATUSES:
            raise ValidationFailed(
                f"status: {self.status!r} is not one of {STATUSES}", field="status"
            )
        if self.sort not in SORTS:
            raise ValidationFailed(f"sort: {self.sort!r} is not one of {SORTS}", field="sort")
        if self.due is not None and self.due not in DUE_WINDOWS:
            raise ValidationFailed(f"due: {self.due!r} is not one of {DUE_WINDOWS}", field="due")
        if unknown := set(self.kinds) - set(ALL_KINDS):
            raise ValidationFailed(f"kind: unknown {sorted(unknown)!r}", field="kind")

    def to_params(self) -> dict[str, str]:
        """Only the values that differ from the defaults, as strings for ``st.query_params``."""
        params: dict[str, str] = {}
        if self.kinds:
            params["kind"] = ",".join(self.kinds)
        if self.payer_ids:
            params["payer"] = ",".join(str(p) for p in self.payer_ids)
        if self.status != "open":
            params["status"] = self.status
        if self.assignee:
            params["assignee"] = self.assignee
        if self.due:
            params["due"] = self.due
        if self.min_amount is not None:
            params["min"] = str(self.min_amount)
        if self.max_amount is not None:
            params["max"] = str(self.max_amount)
        if self.reason:
            params["reason"] = self.reason
        if self.sort != "priority":
            params["sort"] = self.sort
        return params

    @classmethod
    def from_params(cls, params: dict[str, str]) -> QueueFilters:
        """Filters from URL parameters; a malformed value is refused naming the parameter."""

        def _list(name: str) -> list[str]:
            return [v for v in (params.get(name) or "").split(",") if v]

        def _amount(name: str) -> Decimal | None:
            raw = params.get(name)
            if not raw:
                return None
            try:
                return Decimal(raw)
            except InvalidOperation:
                raise ValidationFailed(f"{name}: {raw!r} is not an amount", field=name) from None

        try:
            payer_ids = tuple(int(p) for p in _list("payer"))
        except ValueError:
            raise ValidationFailed("payer: ids must be numbers", field="payer") from None
        return cls(
            kinds=tuple(_list("kind")),
            payer_ids=payer_ids,
            status=params.get("status") or "open",
            assignee=params.get("assignee") or None,
            due=params.get("due") or None,
            min_amount=_amount("min"),
            max_amount=_amount("max"),
            reason=(params.get("reason") or "").strip() or None,
            sort=params.get("sort") or "priority",
        )

    def as_json(self) -> dict[str, Any]:
        return self.to_params()


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the last row's sort key and id."""

    sort: str
    key: str  # priority as text, or the due timestamp in ISO form ("" when none)
    task_id: int

    def encode(self) -> str:
        return f"{self.sort}~{self.key}~{self.task_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            sort, key, task_id = text.split("~")
            return cls(sort, key, int(task_id))
        except ValueError:
            raise ValidationFailed(f"cursor: {text!r} is malformed", field="cursor") from None


@dataclass(frozen=True)
class QueueRow:
    task_id: int
    kind: str
    status: str
    priority: int
    claim_number: str | None
    payer: str | None
    amount: Decimal | None
    due_at: datetime | None
    age: str
    member_id: str  # masked
    assignee: str | None
    reason: str = ""  # why it is here and what to do, in words (``workqueue.reasons``)
    due_text: str = "—"  # the due date, or an em dash when there is none


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: Cursor | None
    total: int  # capped at COUNT_CAP
    capped: bool


def format_age(created_at: datetime, now: datetime) -> str:
    delta = now - created_at
    days, hours = delta.days, delta.seconds // 3600
    return f"{days}d {hours}h" if days else f"{hours}h {delta.seconds % 3600 // 60}m"


def _due_bound(window: str, now: datetime) -> datetime:
    return (
        now
        + {
            "overdue": timedelta(0),
            "24h": timedelta(hours=24),
            "3d": timedelta(days=3),
            "7d": timedelta(days=7),
            "30d": timedelta(days=30),
        }[window]
    )


def _filtered(
    query: _Query, filters: QueueFilters, *, user_id: int, allowed: tuple[str, ...]
) -> _Query:
    task = ReviewTask
    kinds = [k for k in (filters.kinds or allowed) if k in allowed]
    if set(kinds) != set(ALL_KINDS):
        query = query.where(col(task.kind).in_(kinds))
    if filters.status == "active":
        query = query.where(col(task.status).in_(OPEN_STATUSES))
    else:
        query = query.where(col(task.status) == filters.status)
    if filters.payer_ids:
        query = query.where(col(task.payer_id).in_(filters.payer_ids))
    if filters.assignee == "me":
        query = query.where(col(task.assignee_id) == user_id)
    elif filters.assignee == "unassigned":
        query = query.where(col(task.assignee_id).is_(None))
    elif filters.assignee:
        query = query.where(
            col(task.assignee_id).in_(select(User.id).where(User.username == filters.assignee))
        )
    if filters.due:
        query = query.where(col(task.due_at) <= _due_bound(filters.due, utcnow()))
    if filters.min_amount is not None:
        query = query.where(col(Claim.total_charge) >= filters.min_amount)
    if filters.max_amount is not None:
        query = query.where(col(Claim.total_charge) <= filters.max_amount)
    if filters.reason:
        query = query.where(_reason_matches(filters.reason))
    return query


def _reason_matches(reason: str) -> Any:
    """The task's context names this code: a denial's CARC (and group), else its outcome."""
    context = ReviewTask.__table__.c.context  # type: ignore[attr-defined]
    group, _, code = reason.upper().rpartition("-")
    carc = context["reason_code"].as_string() == code
    if group:
        carc = and_(carc, context["group_code"].as_string() == group)
    return or_(carc, context["outcome"].as_string() == reason.lower())


def queue_page_query(
    filters: QueueFilters,
    *,
    user_id: int,
    allowed: tuple[str, ...],
    cursor: Cursor | None = None,
    limit: int = PAGE_SIZE,
    nulls_only: bool = False,
) -> _Query:
    """The page query (also what ``bench/work_queue.py`` times): one index range, ``limit`` rows."""
    task = ReviewTask
    query: _Query = (
        sa_select(
            col(task.id),
            col(task.kind),
            col(task.status),
            col(task.priority),
            col(task.due_at),
            col(task.created_at),
            col(Claim.patient_control_number),
            col(Claim.total_charge),
            col(Payer.name),
            col(Coverage.member_id),
            col(User.username),
            col(task.context),
        )
        .select_from(task)
        .outerjoin(Claim, col(Claim.id) == col(task.claim_id))
        .outerjoin(Payer, col(Payer.id) == col(task.payer_id))
        .outerjoin(Coverage, col(Coverage.id) == col(Claim.coverage_id))
        .outerjoin(User, col(User.id) == col(task.assignee_id))
    )
    query = _filtered(query, filters, user_id=user_id, allowed=allowed)
    if filters.sort == "priority":
        if cursor is not None:
            p = int(cursor.key)
            # "priority <= p" bounds the index range; the OR only skips ties already shown.
            query = query.where(
                col(task.priority) <= p,
                or_(col(task.priority) < p, col(task.id) > cursor.task_id),
            )
        return query.order_by(col(task.priority).desc(), col(task.id)).limit(limit)
    # Due date first; tasks without a due date come after all dated ones (NULLS LAST).
    if nulls_only:
        query = query.where(col(task.due_at).is_(None))
        if cursor is not None and cursor.key == "":
            query = query.where(col(task.id) > cursor.task_id)
        return query.order_by(col(task.id)).limit(limit)
    query = query.where(col(task.due_at).is_not(None))
    if cursor is not None:
        due = datetime.fromisoformat(cursor.key)
        query = query.where(
            col(task.due_at) >= due,
            or_(col(task.due_at) > due, col(task.id) > cursor.task_id),
        )
    return query.order_by(col(task.due_at), col(task.id)).limit(limit)


def _count(
    session: Session, filters: QueueFilters, *, user_id: int, allowed: tuple[str, ...]
) -> int:
    inner = sa_select(col(ReviewTask.id)).select_from(ReviewTask)
    if filters.min_amount is not None or filters.max_amount is not None:
        inner = inner.join(Claim, col(Claim.id) == col(ReviewTask.claim_id))
    inner = _filtered(inner, filters, user_id=user_id, allowed=allowed).limit(COUNT_CAP + 1)
    return int(session.execute(select(func.count()).select_from(inner.subquery())).scalar_one())


def _row(values: Any, now: datetime) -> QueueRow:
    tid, kind, status, priority, due_at, created, pcn, amount, payer, member, assignee, ctx = values
    return QueueRow(
        task_id=tid,
        kind=kind,
        status=status,
        priority=priority,
        claim_number=pcn,
        payer=payer,
        amount=amount,
        due_at=due_at,
        age=format_age(created, now),
        member_id=mask_member_id(member),
        assignee=assignee,
        reason=why_in_queue(kind, ctx or {}).line(),
        due_text=due_at.date().isoformat() if due_at else "—",
    )


def read_queue_page(
    session: Session,
    filters: QueueFilters,
    *,
    user_id: int,
    allowed: tuple[str, ...],
    cursor: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> list[Any]:
    """Raw page rows, following the due sort's NULLS LAST tail when dated rows run out."""
    query = queue_page_query(filters, user_id=user_id, allowed=allowed, cursor=cursor, limit=limit)
    in_nulls = filters.sort == "due" and cursor is not None and cursor.key == ""
    if in_nulls:
        query = queue_page_query(
            filters, user_id=user_id, allowed=allowed, cursor=cursor, limit=limit, nulls_only=True
        )
    rows = list(session.execute(query).all())
    if filters.sort == "due" and not in_nulls and len(rows) < limit:
        tail = queue_page_query(
            filters, user_id=user_id, allowed=allowed, limit=limit - len(rows), nulls_only=True
        )
        rows.extend(session.execute(tail).all())
    return rows


def list_queue(
    engine: Engine,
    *,
    username: str,
    filters: QueueFilters,
    cursor: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> QueuePage:
    """One page of the queue the user's role covers; the view is audited."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "task.view")
        allowed = kinds_for_role(user.role)
        uid = user.id or 0
        rows = read_queue_page(
            session, filters, user_id=uid, allowed=allowed, cursor=cursor, limit=limit + 1
        )
        more = len(rows) > limit
        rows = rows[:limit]
        total = _count(session, filters, user_id=uid, allowed=allowed)
        now = utcnow()
        page_rows = [_row(r, now) for r in rows]
        next_cursor = None
        if more and page_rows:
            last = page_rows[-1]
            if filters.sort == "priority":
                next_cursor = Cursor("priority", str(last.priority), last.task_id)
            else:
                key = last.due_at.isoformat() if last.due_at else ""
                next_cursor = Cursor("due", key, last.task_id)
        append_audit_event(
            session,
            actor=user.username,
            action="queue.viewed",
            entity_type="review_task",
            details={
                "filters": filters.to_params(),
                "task_ids": [r.task_id for r in page_rows],
            },
        )
    return QueuePage(page_rows, next_cursor, min(total, COUNT_CAP), total > COUNT_CAP)
