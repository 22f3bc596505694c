"""Working denials: open the review, check a decision against the denial, apply it.

The flow's per-denial run calls ``open_denial_review`` (or reads
``denial_review_spec`` and calls its own review helper), waits for the
decision, and ``claimdesk.denials.decisions.apply_denial_decision`` applies it:

- ``corrected_claim``: the claim is corrected and re-queued as a replacement
  (frequency 7 with REF*F8 = the payer's claim number) where the payer takes
  replacements, else as a new original (frequency 1), the payer's requirement;
- ``appeal``: an ``Appeal`` at the next level with its deadline (refused for a
  denial without appeal rights: Medicare CO-29, CO-16 with MA130 ...); with a
  document store the letter PDF is made at once (``appeals``);
- ``bill_secondary``: the COB claim for the next coverage;
- ``bill_patient``: only for a PR-group denial or with a signed waiver/ABN on file;
- ``write_off``: posted to the ledger; above ``write_off_approval_threshold``
  (routing settings) a lead approves first (a ``write_off_approval`` task).

Priority = recoverable amount weighted by days left; due = deadline − buffer.
A denial's status: open → corrected | appealed | billed_secondary | billed_patient
| write_off_pending → written_off (| closed for true duplicates); a refused
write-off or an upheld appeal puts it back to open, and ``open_denial_review``
then opens a new review round (a new step) for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from claimdesk.denials import (
    Route,
    RoutingTable,
    appeal_deadline,
    appeal_levels,
    due_date,
    find_level,
    load_routing_table,
)
from claimdesk.denials.overturn import chance_of_winning, overturn_rates, weighted_amount
from claimdesk.errors import NotFound
from claimdesk.review.priority import value_priority
from claimdesk.review.tasks import ensure_review_task
from models import (
    Appeal,
    Claim,
    Denial,
    Payer,
    ReviewTask,
)
from models.types import utcnow

if TYPE_CHECKING:
    pass

_PR = "PR"


@dataclass(frozen=True)
class DenialReviewSpec:
    """Everything ``ensure_review_task`` needs for a denial's review (ids and codes only)."""

    kind: str
    claim_id: int
    claim_version: int
    step: int
    payer_id: int
    priority: int
    due_at: datetime
    context: dict[str, Any]


def load_denial(session: Session, denial_id: int) -> tuple[Denial, Claim, Payer]:
    denial = session.get(Denial, denial_id)
    if denial is None:
        raise NotFound(f"no denial {denial_id}")
    claim = session.get(Claim, denial.claim_id)
    assert claim is not None
    payer = session.get(Payer, claim.payer_id)
    assert payer is not None
    return denial, claim, payer


def denial_route(denial: Denial, payer: Payer, table: RoutingTable | None = None) -> Route:
    table = table or load_routing_table()
    return table.route(
        denial.group_code, denial.reason_code, denial.remark_codes, payer_kind=payer.kind
    )


def work_deadline(
    session: Session, denial: Denial, payer: Payer, table: RoutingTable | None = None
) -> date:
    """The date the denial must be acted on by: the next appeal level's deadline when the
    denial can be appealed, else the payer's corrected-claim (timely filing) window."""
    table = table or load_routing_table()
    if denial_route(denial, payer, table).appealable:
        levels = appeal_levels(
            payer.appeal_levels,
            payer_kind=payer.kind,
            default_window_days=table.settings.default_appeal_window_days,
        )
        level = find_level(levels, next_appeal_level(session, denial)) or levels[-1]
        return appeal_deadline(_notice_for_level(session, denial), level)
    claim = session.get(Claim, denial.claim_id)
    assert claim is not None
    return claim.service_from + timedelta(days=payer.timely_filing_days)


def next_appeal_level(session: Session, denial: Denial) -> int:
    levels = session.exec(select(Appeal.level).where(Appeal.denial_id == denial.id)).all()
    return max(levels, default=0) + 1


def _notice_for_level(session: Session, denial: Denial) -> date:
    """Level 1 counts from the 835; a later level from the previous level's decision."""
    rounds = session.exec(
        select(Appeal).where(Appeal.denial_id == denial.id).order_by(col(Appeal.level))
    ).all()
    decided = [a for a in rounds if a.decided_at is not None]
    return (
        decided[-1].decided_at.date() if decided and decided[-1].decided_at else denial.notice_date
    )


# A denial worked again (write-off refused, appeal upheld) gets a new review step:
# its ordinal plus this stride per earlier round; no claim carries 1000 denials.
_ROUND_STRIDE = 1000


def _step(session: Session, denial: Denial, claim_version: int) -> int:
    """The claim's n-th denial is step n; its k-th re-review is n + 1000·k.

    Deterministic per denial and round, so concurrent per-denial runs never share a task.
    """
    ordinal = len(
        session.exec(
            select(Denial.id).where(Denial.claim_id == denial.claim_id, col(Denial.id) <= denial.id)
        ).all()
    )
    finished = [
        task
        for task in session.exec(
            select(ReviewTask).where(
                ReviewTask.kind == "denial",
                ReviewTask.claim_id == denial.claim_id,
                ReviewTask.claim_version == claim_version,
                col(ReviewTask.status).in_(("resolved", "cancelled")),
            )
        ).all()
        if task.context.get("denial_id") == denial.id
    ]
    rounds = len(finished) if denial.status == "open" else max(len(finished) - 1, 0)
    return ordinal + _ROUND_STRIDE * rounds


def denial_review_spec(
    session: Session, denial_id: int, *, today: date | None = None
) -> DenialReviewSpec:
    table = load_routing_table()
    denial, claim, payer = load_denial(session, denial_id)
    today = today or utcnow().date()
    deadline = work_deadline(session, denial, payer, table)
    due = due_date(deadline, table.settings.deadline_buffer_days)
    route = denial_route(denial, payer, table)
    assert claim.id is not None and payer.id is not None and denial.id is not None
    return DenialReviewSpec(
        kind="denial",
        claim_id=claim.id,
        claim_version=claim.version,
        step=_step(session, denial, claim.version),
        payer_id=payer.id,
        # Dollars × the chance an appeal wins at this payer for this CARC (its history).
        priority=value_priority(
            weighted_amount(
                denial.amount,
                chance_of_winning(
                    overturn_rates(session, payer_id=payer.id),
                    payer.id,
                    denial.group_code,
                    denial.reason_code,
                ),
            ),
            deadline,
            today,
        ),
        due_at=datetime.combine(due, time(17), tzinfo=UTC),
        context={
            "denial_id": denial.id,
            "group_code": denial.group_code,
            "reason_code": denial.reason_code,
            "remark_codes": list(denial.remark_codes),
            "queue": route.queue,
            "suggested_action": route.action,
            "appealable": route.appealable,
            "deadline": deadline.isoformat(),
        },
    )


def open_denial_review(
    session: Session, denial_id: int, *, flow_run_id: str | None = None, today: date | None = None
) -> ReviewTask:
    """Find or create the denial's review task (idempotent).

    For a denial without appeal rights the task's form offers no appeal (its stored
    schema drops the choice); ``check_denial_decision`` refuses one in any case.
    """
    spec = denial_review_spec(session, denial_id, today=today)
    task = ensure_review_task(
        session=session,
        kind=spec.kind,
        claim_id=spec.claim_id,
        claim_version=spec.claim_version,
        step=spec.step,
        payer_id=spec.payer_id,
        flow_run_id=flow_run_id,
        priority=spec.priority,
        due_at=spec.due_at,
        context=spec.context,
    )
    if not spec.context["appealable"]:
        drop_action(task, "appeal")
        session.add(task)
        session.flush()
    return task


def drop_action(task: ReviewTask, action: str) -> None:
    schema = dict(task.decision_schema)
    properties = dict(schema.get("properties", {}))
    field = dict(properties.get("action", {}))
    choices = field.get("enum")
    if not isinstance(choices, list) or action not in choices:
        return
    field["enum"] = [c for c in choices if c != action]
    properties["action"] = field
    schema["properties"] = properties
    task.decision_schema = schema


def denial_explanation(session: Session, denial_id: int) -> dict[str, Any]:
    """The payer's words and plain English for one denial (for the app and letters)."""
    table = load_routing_table()
    denial, _, payer = load_denial(session, denial_id)
    route = denial_route(denial, payer, table)
    return {
        "code": f"{denial.group_code}-{denial.reason_code}",
        "payer_words": table.carc_description(denial.reason_code),
        "remarks": [(r, table.rarc_description(r)) for r in denial.remark_codes],
        "plain_english": route.explanation,
        "queue": route.queue,
        "suggested_action": route.action,
        "appealable": route.appealable,
        "amount": str(denial.amount),
    }


__all__ = [
    "DenialReviewSpec",
    "denial_explanation",
    "denial_review_spec",
    "denial_route",
    "load_denial",
    "next_appeal_level",
    "open_denial_review",
    "work_deadline",
]
