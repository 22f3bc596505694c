"""Separation of duties: who asked for money to leave the books does not approve it.

A write-off above the threshold, a refund and any task whose context names who asked
(``requested_by``: a large adjustment) are approved by someone else. Checked in
``record_decision`` for every caller; a refusal is audited like any other.
"""

from __future__ import annotations

from sqlmodel import Session, select

from claimdesk.access.permissions import Actor, deny
from models import Refund, ReviewDecision, ReviewTask, User


def requesters(session: Session, task: ReviewTask) -> set[str]:
    """Usernames of whoever asked for what ``task`` approves (empty: nobody in particular)."""
    context = task.context or {}
    names: set[str] = set()
    if requested_by := context.get("requested_by"):
        names.add(str(requested_by))
    if task.kind == "write_off_approval" and (denial_task_id := context.get("denial_task_id")):
        # Who decided the denial task "write off" (the decision that opened this approval).
        decided_by = session.exec(
            select(User.username)
            .join(ReviewDecision, ReviewDecision.decided_by_id == User.id)  # type: ignore[arg-type]
            .where(ReviewDecision.review_task_id == int(denial_task_id))
        ).all()
        names.update(decided_by)
    if task.kind == "refund":
        refund = session.exec(select(Refund).where(Refund.review_task_id == task.id)).first()
        if refund is not None and refund.created_by:
            names.add(refund.created_by)
    return names


def require_separation(session: Session, task: ReviewTask, user: User | Actor) -> None:
    """Refuse (audited) when ``user`` asked for what ``task`` approves."""
    if user.username in requesters(session, task):
        deny(
            user,
            f"{task.kind}.approve",
            f"task {task.id}: you asked for this {task.kind.replace('_', ' ')}, so another "
            "lead approves it (separation of duties).",
            session=session,
            details={"task_id": task.id},
        )
