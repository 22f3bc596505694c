"""Applying a recorded decision to the claim, exactly once.

Runs inside the resumed flow run (through a task) in one transaction: the
claim's changes, the status move, the audit event and ``applied_at`` commit
together, so a crash anywhere leaves either all of it or none of it. Which
function applies a kind is the kind's row in ``claimdesk.workqueue.kinds``.
"""

from __future__ import annotations

from sqlmodel import Session

from claimdesk.errors import NotFound
from claimdesk.review.tasks import mark_decision_applied
from claimdesk.workqueue.kinds import KINDS
from models import ReviewDecision, ReviewTask, append_audit_event


def apply_recorded_decision(*, session: Session, task_id: int, decision_id: int) -> str:
    """Apply decision ``decision_id`` of task ``task_id``; returns what happened (codes only)."""
    task = session.get(ReviewTask, task_id)
    decision_row = session.get(ReviewDecision, decision_id)
    if task is None or decision_row is None or task.decision_id != decision_id:
        raise NotFound(f"decision {decision_id} is not the recorded decision of task {task_id}")
    kind = KINDS.get(task.kind)
    if kind is None:
        raise NotFound(f"no way to apply a {task.kind!r} decision")
    if not mark_decision_applied(session=session, decision_id=decision_id):
        return "already_applied"
    decision = kind.decision.model_validate(decision_row.decision)
    actor = f"decision:{decision_id}"
    outcome = kind.apply(session, task, decision, actor=actor)
    append_audit_event(
        session,
        actor=actor,
        action="decision.applied",
        entity_type="review_task",
        entity_id=task_id,
        claim_id=task.claim_id,
        details={"outcome": outcome},
    )
    session.flush()
    return outcome
