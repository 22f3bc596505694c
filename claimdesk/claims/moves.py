"""Moving a claim along its state machine (``claimdesk.claims.status``), audited.

The only place a claim's ``status`` is written: every stage calls ``set_claim_status``
(a forbidden move raises) or ``move_claim`` (a forbidden move is audited and skipped,
for posting paths where the payer's word may arrive out of order).
"""

from __future__ import annotations

from sqlmodel import Session

from claimdesk.claims.status import CLAIM
from claimdesk.errors import InvalidTransition
from models import Claim, append_audit_event
from models.types import utcnow


def set_claim_status(
    *, session: Session, claim: Claim, status: str, actor: str, reason: str | None = None
) -> Claim:
    """Move a claim along the state machine, with an audit event; refuse forbidden moves."""
    previous = CLAIM.move(claim, status)
    claim.status_changed_at = utcnow()
    session.add(claim)
    append_audit_event(
        session,
        actor=actor,
        action="claim.status_changed",
        entity_type="claim",
        entity_id=claim.id,
        claim_id=claim.id,
        details={"from": previous, "to": claim.status, "reason": reason},
    )
    session.flush()
    return claim


def move_claim(session: Session, claim: Claim, target: str, actor: str, reason: str) -> None:
    """Move along the state machine; a move it forbids is audited, never forced."""
    if claim.status == target:
        return
    try:
        set_claim_status(session=session, claim=claim, status=target, actor=actor, reason=reason)
    except InvalidTransition:
        append_audit_event(
            session,
            actor=actor,
            action="claim.status_not_moved",
            entity_type="claim",
            entity_id=claim.id,
            claim_id=claim.id,
            details={"from": claim.status, "to": target, "reason": reason},
        )
