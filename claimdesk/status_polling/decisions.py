"""Applying a status review: a follow-up date that holds back the next poll."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session

from claimdesk.clock import today
from claimdesk.review.decisions import StatusDecision
from claimdesk.settings import get_settings
from models import ReviewTask, append_audit_event


def apply_status_decision(
    session: Session, task: ReviewTask, decision: StatusDecision, *, actor: str
) -> str:
    """Nothing changes on the claim; polling opens a new task if it is still stuck later."""
    follow_up = today(get_settings()) + timedelta(days=decision.follow_up_days)
    task.context = {**task.context, "follow_up_on": follow_up.isoformat()}
    flag_modified(task, "context")
    session.add(task)
    append_audit_event(
        session,
        actor=actor,
        action="claim.status_followed_up",
        entity_type="claim",
        entity_id=task.claim_id,
        claim_id=task.claim_id,
        details={"action": decision.action, "follow_up_on": follow_up.isoformat()},
    )
    return decision.action
