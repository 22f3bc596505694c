"""The deadline sweep: priorities rise as deadlines near, neglected tasks go to a lead.

claimdesk never waits for Prefect's pause timeout to notice a late task (runs
suspend with none): this sweep, run every 15 minutes, reads the queue and
claimdesk's one clock and

- raises the priority of an open task as its due date nears (never lowers it), to
  at least the dollars at stake per day left before its deadline, for every kind
  (a denial's recoverable amount times the chance an appeal wins at its payer for its
  CARC, ``claimdesk.denials.overturn``; else the claim's charge; ``claimdesk.review.priority``);
- marks a task whose payer deadline (``deadline_at``, else ``due_at``) passed
  while it was open (``overdue_at``), at the top of the queue;
- hands a task nobody touched for its kind's SLA to the least-loaded lead
  (``escalated_at``; once per task).

Deadlines are calendar dates on claimdesk's clock (the simulator's in the demo);
an SLA is working time, so it is measured on the wall clock from the task's last
change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from claimdesk.denials.overturn import chance_of_winning, overturn_rates, weighted_amount
from claimdesk.review.priority import MAX_PRIORITY, value_priority
from claimdesk.review.status import CLAIMED, OPEN_STATUSES
from claimdesk.review.tasks import status_guard
from claimdesk.workqueue.kinds import review_kind
from models import Claim, Denial, ReviewTask, User, append_audit_event
from models.types import utcnow

ACTOR = "system:sweep"
# Floors by days left to the due date: the nearer, the higher.
PRIORITY_FLOORS = ((0, 900), (3, 700), (7, 500), (14, 300))


@dataclass
class SweepRun:
    reprioritised: list[int] = field(default_factory=list)
    overdue: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    no_lead: int = 0


def sweep_review_deadlines(
    session: Session, *, today: date, wall_now: datetime | None = None
) -> SweepRun:
    """One pass over the open tasks (flushes; the caller commits)."""
    wall_now = wall_now or utcnow()
    run = SweepRun()
    tasks = session.exec(select(ReviewTask).where(col(ReviewTask.status).in_(OPEN_STATUSES))).all()
    leads = _lead_load(session)
    at_stake = _amounts_at_stake(session, tasks)
    for task in tasks:
        _raise_priority(session, task, at_stake.get(task.id or 0), today, run)
        _mark_overdue(session, task, today, run)
        _escalate(session, task, wall_now, leads, run)
    session.flush()
    return run


def _days_left(moment: datetime | None, today: date) -> int | None:
    return None if moment is None else (moment.date() - today).days


def _amounts_at_stake(session: Session, tasks: Sequence[ReviewTask]) -> dict[int, Decimal]:
    """Dollars each task stands for: its denial's recoverable amount, else its claim's charge.

    Two queries for the whole pass (the queue may hold 100,000 tasks).
    """
    claim_ids = {t.claim_id for t in tasks if t.claim_id is not None}
    denial_ids = {
        d for t in tasks if isinstance(d := t.context.get("denial_id"), int) and t.kind == "denial"
    }
    charges: dict[int, Decimal] = {}
    for chunk in _chunks(sorted(claim_ids)):
        query = select(col(Claim.id), col(Claim.total_charge)).where(col(Claim.id).in_(chunk))
        charges.update({cid or 0: charge for cid, charge in session.exec(query)})
    denials: dict[int, Decimal] = {}
    rates = overturn_rates(session) if denial_ids else {}
    for chunk in _chunks(sorted(denial_ids)):
        with_payer = (
            select(Denial, col(Claim.payer_id))
            .join(Claim, col(Claim.id) == col(Denial.claim_id))
            .where(col(Denial.id).in_(chunk))
        )
        for denial, payer in session.exec(with_payer):
            chance = chance_of_winning(rates, payer, denial.group_code, denial.reason_code)
            denials[denial.id or 0] = weighted_amount(denial.amount, chance)
    amounts: dict[int, Decimal] = {}
    for task in tasks:
        denial_id = task.context.get("denial_id") if task.kind == "denial" else None
        amount = denials.get(denial_id) if isinstance(denial_id, int) else None
        if amount is None and task.claim_id is not None:
            amount = charges.get(task.claim_id)
        if amount is not None:
            amounts[task.id or 0] = amount
    return amounts


def _chunks(ids: list[int], size: int = 5000) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _deadline(task: ReviewTask) -> date | None:
    """The date the work is worth nothing after: a denial's appeal deadline, else the task's."""
    deadline = task.context.get("deadline") if task.kind == "denial" else None
    if isinstance(deadline, str):
        return date.fromisoformat(deadline)
    moment = task.deadline_at or task.due_at
    return None if moment is None else moment.date()


def _raise_priority(
    session: Session, task: ReviewTask, amount: Decimal | None, today: date, run: SweepRun
) -> None:
    wanted = task.priority
    left = _days_left(task.due_at, today)
    if left is not None:
        for within, floor in PRIORITY_FLOORS:
            if left <= within:
                wanted = max(wanted, floor)
                break
    deadline = _deadline(task)
    if amount is not None and deadline is not None:
        wanted = max(wanted, value_priority(amount, deadline, today))
    if wanted > task.priority:
        _change(session, task, priority=min(wanted, MAX_PRIORITY))
        run.reprioritised.append(task.id or 0)


def _mark_overdue(session: Session, task: ReviewTask, today: date, run: SweepRun) -> None:
    if task.overdue_at is not None:
        return
    deadline = task.deadline_at or task.due_at
    if deadline is None or deadline.date() >= today:
        return
    _change(
        session,
        task,
        overdue_at=datetime.combine(today, time(0), tzinfo=UTC),
        priority=MAX_PRIORITY,
    )
    run.overdue.append(task.id or 0)
    append_audit_event(
        session,
        actor=ACTOR,
        action="task.deadline_passed",
        entity_type="review_task",
        entity_id=task.id,
        claim_id=task.claim_id,
        details={"deadline": deadline.date().isoformat(), "kind": task.kind},
    )


def _lead_load(session: Session) -> dict[int, int]:
    """Active leads and how many open tasks each holds."""
    leads = session.exec(select(User.id).where(User.role == "lead", col(User.active))).all()
    load = dict(
        session.exec(
            select(ReviewTask.assignee_id, func.count())
            .where(col(ReviewTask.status).in_(OPEN_STATUSES))
            .where(col(ReviewTask.assignee_id).is_not(None))
            .group_by(col(ReviewTask.assignee_id))
        ).all()
    )
    return {lead: int(load.get(lead, 0)) for lead in leads if lead is not None}


def _escalate(
    session: Session, task: ReviewTask, wall_now: datetime, leads: dict[int, int], run: SweepRun
) -> None:
    if task.escalated_at is not None:
        return
    sla = timedelta(hours=review_kind(task.kind).sla_hours)
    if task.updated_at > wall_now - sla or task.assignee_id in leads:
        return
    if not leads:
        run.no_lead += 1
        return
    lead = min(leads, key=lambda lead_id: (leads[lead_id], lead_id))
    previous = task.assignee_id
    changed = _change(
        session,
        task,
        assignee_id=lead,
        status=CLAIMED,
        escalated_at=wall_now,
        updated_at=wall_now,
    )
    if not changed:
        return
    leads[lead] += 1
    run.escalated.append(task.id or 0)
    append_audit_event(
        session,
        actor=ACTOR,
        action="task.escalated",
        entity_type="review_task",
        entity_id=task.id,
        claim_id=task.claim_id,
        details={
            "to_user_id": lead,
            "from_user_id": previous,
            "sla_hours": int(sla.total_seconds() // 3600),
        },
    )


def _change(session: Session, task: ReviewTask, **values: object) -> bool:
    """A guarded update (the task's version), so a specialist's click meanwhile wins.

    The sweep's own changes keep ``updated_at``: a reprioritised task is still untouched.
    """
    values.setdefault("updated_at", task.updated_at)
    open_now = col(ReviewTask.status).in_(OPEN_STATUSES)
    result = session.execute(
        update(ReviewTask)
        .where(
            col(ReviewTask.id) == task.id,
            col(ReviewTask.version) == task.version,
            status_guard(CLAIMED) if values.get("status") == CLAIMED else open_now,
        )
        .values(**values, version=task.version + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(task)
    return True
