"""sweep-review-deadlines: priorities, passed deadlines and SLA escalation on claimdesk's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session, select

from claimdesk.review.priority import MAX_PRIORITY, value_priority
from claimdesk.review.tasks import ensure_review_task
from claimdesk.workqueue.sweep import sweep_review_deadlines
from models import AuditEvent, Denial, ReviewTask, User
from tests.factories import make_claim

TODAY = date(2026, 3, 2)
NOW = datetime.combine(TODAY, time(9), tzinfo=UTC)


def _task(session: Session, step: int, *, kind: str = "remittance", **values: object) -> ReviewTask:
    task = ensure_review_task(
        session=session, kind=kind, claim_id=None, claim_version=None, step=step
    )
    for name, value in values.items():
        setattr(task, name, value)
    session.add(task)
    session.flush()
    return task


def _at(days: int) -> datetime:
    return datetime.combine(TODAY + timedelta(days=days), time(17), tzinfo=UTC)


def _user(session: Session, name: str, role: str) -> User:
    user = User(username=name, role=role, password_hash="unused")
    session.add(user)
    session.flush()
    return user


def _line(charge: str) -> dict[str, object]:
    return {
        "procedure_code": "99213",
        "charge": Decimal(charge),
        "diagnosis_pointers": [1],
        "service_date": date(2026, 10, 1),
    }


def _fresh(session: Session, task: ReviewTask) -> ReviewTask:
    found = session.get(ReviewTask, task.id, populate_existing=True)
    assert found is not None
    return found


def test_priority_rises_as_the_due_date_nears_and_never_falls(session: Session) -> None:
    near = _task(session, 1, priority=50, due_at=_at(2), updated_at=NOW)
    far = _task(session, 2, priority=50, due_at=_at(30), updated_at=NOW)
    high = _task(session, 3, priority=950, due_at=_at(10), updated_at=NOW)

    run = sweep_review_deadlines(session, today=TODAY, wall_now=NOW)

    assert _fresh(session, near).priority == 700
    assert _fresh(session, far).priority == 50
    assert _fresh(session, high).priority == 950
    assert run.reprioritised == [near.id]
    # The sweep's own change is not a person's touch: the SLA clock keeps running.
    assert _fresh(session, near).updated_at == NOW


def test_a_denial_task_is_reprioritised_by_recoverable_dollars_per_day_left(
    session: Session,
) -> None:
    claim = make_claim(session)
    denial = Denial(
        claim_id=claim.id or 0,
        group_code="CO",
        reason_code="50",
        amount=Decimal("300.00"),
        notice_date=TODAY - timedelta(days=100),
    )
    session.add(denial)
    session.flush()
    deadline = TODAY + timedelta(days=3)
    task = ensure_review_task(
        session=session,
        kind="denial",
        claim_id=claim.id,
        claim_version=claim.version,
        step=1,
        priority=10,
        context={"denial_id": denial.id, "deadline": deadline.isoformat()},
    )
    task.updated_at = NOW
    session.add(task)
    session.flush()

    sweep_review_deadlines(session, today=TODAY, wall_now=NOW)

    assert _fresh(session, task).priority == value_priority(Decimal("300.00"), deadline, TODAY)
    assert _fresh(session, task).priority > 10


def test_every_kind_is_ranked_by_the_dollars_at_stake_per_day_left(session: Session) -> None:
    """An eligibility hold on a big claim outranks one on a small claim with the same days left,
    and a small claim near its deadline outranks a big one far from it."""
    big = make_claim(session, lines=[_line("2400.00")])
    small = make_claim(session, lines=[_line("60.00")])
    tasks = {}
    for name, claim, days in (("big", big, 40), ("small", small, 40), ("soon", small, 1)):
        task = ensure_review_task(
            session=session, kind="eligibility", claim_id=claim.id,
            claim_version=claim.version, step=len(tasks) + 1, priority=60,
        )  # fmt: skip
        task.deadline_at = _at(days)
        task.due_at = _at(days + 30)  # the due date is far: no floor applies
        task.updated_at = NOW
        session.add(task)
        tasks[name] = task
    session.flush()

    sweep_review_deadlines(session, today=TODAY, wall_now=NOW)

    ranked = {name: _fresh(session, task).priority for name, task in tasks.items()}
    assert ranked["big"] == value_priority(Decimal("2400.00"), TODAY + timedelta(days=40), TODAY)
    assert ranked["big"] == 600 and ranked["small"] == 60  # 60 already: never lowered
    assert ranked["soon"] == value_priority(Decimal("60.00"), TODAY + timedelta(days=1), TODAY)
    assert ranked["soon"] > ranked["small"]


def test_a_passed_deadline_marks_the_task_once_at_the_top_of_the_queue(session: Session) -> None:
    late = _task(session, 1, deadline_at=_at(-1), due_at=_at(-15), updated_at=NOW)
    due_passed = _task(session, 2, due_at=_at(-1), updated_at=NOW)
    on_time = _task(session, 3, deadline_at=_at(0), due_at=_at(-14), updated_at=NOW)

    first = sweep_review_deadlines(session, today=TODAY, wall_now=NOW)
    second = sweep_review_deadlines(session, today=TODAY, wall_now=NOW)

    assert sorted(first.overdue) == sorted([late.id, due_passed.id]) and second.overdue == []
    assert _fresh(session, late).overdue_at is not None
    assert _fresh(session, late).priority == MAX_PRIORITY
    assert _fresh(session, on_time).overdue_at is None
    marked = session.exec(
        select(AuditEvent).where(AuditEvent.action == "task.deadline_passed")
    ).all()
    assert sorted(int(e.entity_id or 0) for e in marked) == sorted([late.id, due_passed.id])


def test_a_task_untouched_past_its_sla_goes_to_the_least_loaded_lead_once(
    session: Session,
) -> None:
    busy, idle = _user(session, "lead-busy", "lead"), _user(session, "lead-idle", "lead")
    specialist = _user(session, "spec", "specialist")
    _task(session, 9, status="claimed", assignee_id=busy.id, updated_at=NOW)
    stale = _task(
        session, 1, kind="scrub", status="claimed", assignee_id=specialist.id,
        updated_at=NOW - timedelta(hours=25),
    )  # fmt: skip
    fresh = _task(session, 2, kind="scrub", updated_at=NOW - timedelta(hours=2))

    first = sweep_review_deadlines(session, today=TODAY, wall_now=NOW)
    second = sweep_review_deadlines(session, today=TODAY, wall_now=NOW + timedelta(days=3))

    moved = _fresh(session, stale)
    assert first.escalated == [stale.id]
    # Three days on, the task touched two hours before the first sweep is stale too;
    # the one already escalated is not moved again.
    assert second.escalated == [fresh.id]
    assert (moved.assignee_id, moved.status) == (idle.id, "claimed")
    assert moved.escalated_at == NOW
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "task.escalated")).first()
    assert event is not None and event.details["from_user_id"] == specialist.id


def test_without_a_lead_nothing_is_reassigned_and_the_sweep_says_so(session: Session) -> None:
    stale = _task(session, 1, kind="scrub", updated_at=NOW - timedelta(days=5))

    run = sweep_review_deadlines(session, today=TODAY, wall_now=NOW)

    assert run.escalated == [] and run.no_lead == 1
    assert _fresh(session, stale).assignee_id is None
