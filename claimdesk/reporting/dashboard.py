"""Queue health for managers: depth, ageing, SLA, dollars at risk and throughput.

Aggregates only (counts and sums, no PHI), computed in the database with
GROUP BY so a queue of a hundred thousand tasks costs one index scan each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import col

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from models import Claim, ReviewTask, User
from models.types import utcnow

if TYPE_CHECKING:
    from claimdesk.reporting.kpis import Kpis

ACTIVE = ("open", "claimed")
AGE_BUCKETS = ("<1d", "1-3d", "3-7d", ">7d")
DEADLINE_BUCKETS = ("overdue", "<24h", "1-3d", "3-7d", ">7d", "no deadline")
THROUGHPUT_DAYS = 14  # two working weeks: long enough to see a trend, short enough to act on


@dataclass(frozen=True)
class QueueHealth:
    depth: list[tuple[str, str, int]]  # kind, status, count
    ageing: list[tuple[str, str, int]]  # kind, age bucket, count
    per_specialist: list[tuple[str, str, int]]  # username, kind, claimed count
    past_sla: list[tuple[str, int]]  # kind, count of active tasks past due
    dollars_at_risk: list[tuple[str, Decimal, int]]  # deadline bucket, sum of charges, tasks
    throughput: list[tuple[str, str, int]]  # username, day (ISO), resolved count
    generated_at: datetime


def _age_bucket(now: datetime) -> object:
    created = col(ReviewTask.created_at)
    return case(
        (created > now - timedelta(days=1), "<1d"),
        (created > now - timedelta(days=3), "1-3d"),
        (created > now - timedelta(days=7), "3-7d"),
        else_=">7d",
    )


def _deadline_bucket(now: datetime) -> object:
    due = col(ReviewTask.due_at)
    return case(
        (due.is_(None), "no deadline"),
        (due < now, "overdue"),
        (due < now + timedelta(hours=24), "<24h"),
        (due < now + timedelta(days=3), "1-3d"),
        (due < now + timedelta(days=7), "3-7d"),
        else_=">7d",
    )


def read_queue_health(engine: Engine, *, username: str) -> QueueHealth:
    """The numbers behind the manager's charts (aggregates only: not audited as a PHI view)."""
    now = utcnow()
    task = ReviewTask
    active = col(task.status).in_(ACTIVE)
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "dashboard.view")
        depth = session.execute(
            sa_select(col(task.kind), col(task.status), func.count())
            .where(active)
            .group_by(col(task.kind), col(task.status))
        ).all()
        age = _age_bucket(now)
        ageing = session.execute(
            sa_select(col(task.kind), age, func.count())  # type: ignore[call-overload]
            .where(active)
            .group_by(col(task.kind), age)
        ).all()
        per_specialist = session.execute(
            sa_select(col(User.username), col(task.kind), func.count())
            .join(User, col(User.id) == col(task.assignee_id))
            .where(col(task.status) == "claimed")
            .group_by(col(User.username), col(task.kind))
        ).all()
        past_sla = session.execute(
            sa_select(col(task.kind), func.count())
            .where(active, col(task.due_at) < now)
            .group_by(col(task.kind))
        ).all()
        bucket = _deadline_bucket(now)
        at_risk = session.execute(
            sa_select(bucket, func.sum(col(Claim.total_charge)), func.count())  # type: ignore[call-overload]
            .select_from(task)
            .join(Claim, col(Claim.id) == col(task.claim_id))
            .where(active)
            .group_by(bucket)
        ).all()
        resolved_since = now - timedelta(days=THROUGHPUT_DAYS)
        resolved = session.execute(
            sa_select(col(User.username), col(task.resolved_at))
            .join(User, col(User.id) == col(task.assignee_id))
            .where(col(task.status) == "resolved", col(task.resolved_at) >= resolved_since)
        ).all()
    counts: dict[tuple[str, str], int] = {}
    for who, at in resolved:
        key = (who, at.date().isoformat())
        counts[key] = counts.get(key, 0) + 1
    order = {b: i for i, b in enumerate(DEADLINE_BUCKETS)}
    return QueueHealth(
        depth=[(k, s, int(n)) for k, s, n in depth],
        ageing=[(k, str(b), int(n)) for k, b, n in ageing],
        per_specialist=[(u, k, int(n)) for u, k, n in per_specialist],
        past_sla=[(k, int(n)) for k, n in past_sla],
        dollars_at_risk=sorted(
            ((str(b), Decimal(s or 0), int(n)) for b, s, n in at_risk),
            key=lambda row: order.get(row[0], 99),
        ),
        throughput=[(who, day, n) for (who, day), n in sorted(counts.items())],
        generated_at=now,
    )


def read_kpis(engine: Engine, *, username: str, date_from: date, date_to: date) -> Kpis:
    """The revenue-cycle KPIs (``kpi_service``) for the period; aggregates only."""
    from claimdesk.reporting.kpis import compute_kpis

    with session_scope(engine) as session:
        require(load_active_user(session, username), "dashboard.view")
        return compute_kpis(session, date_from=date_from, date_to=date_to)
