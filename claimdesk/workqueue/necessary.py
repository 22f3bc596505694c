"""Minimum necessary (45 CFR 164.502(b)): a specialist opens the work of their own queues.

A role that works only some kinds of review task (``kinds_for_role``) opens tasks of
those kinds, and the claims and patients those tasks are about. Anything else is a
search: allowed to the roles with ``phi.search``, with a reason the person gives,
and audited as ``phi.searched`` with that reason; without one it is refused (and the
refusal audited). Roles that oversee every queue (lead, manager, auditor, admin) are
not narrowed here; their reads are audited where they happen.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from claimdesk.access.permissions import Actor, deny, require
from claimdesk.workqueue.kinds import ALL_KINDS, kinds_for_role
from models import Claim, ReviewTask, User, append_audit_event

MIN_REASON = 8


def narrowed(role: str) -> frozenset[str] | None:
    """The kinds ``role`` works when that is not every kind; None for the unrestricted."""
    kinds = frozenset(kinds_for_role(role))
    return None if kinds >= frozenset(ALL_KINDS) else kinds


def require_task_access(
    session: Session, user: User | Actor, task: ReviewTask, *, reason: str | None = None
) -> None:
    kinds = narrowed(user.role)
    if kinds is None or task.kind in kinds:
        return
    _searched(session, user, reason, "task", task.id, {"kind": task.kind}, task.claim_id)


def require_claim_access(
    session: Session, user: User, claim_id: int | None, *, reason: str | None = None
) -> None:
    kinds = narrowed(user.role)
    if kinds is None or claim_id is None or _has_task(session, kinds, claim_ids=[claim_id]):
        return
    _searched(session, user, reason, "claim", claim_id, {}, claim_id)


def require_patient_access(
    session: Session, user: User, patient_id: int, *, reason: str | None = None
) -> None:
    kinds = narrowed(user.role)
    if kinds is None:
        return
    claim_ids = [c for c in session.exec(select(Claim.id).where(Claim.patient_id == patient_id))]
    if claim_ids and _has_task(session, kinds, claim_ids=[c for c in claim_ids if c]):
        return
    _searched(session, user, reason, "patient", patient_id, {}, None)


def _has_task(session: Session, kinds: frozenset[str], *, claim_ids: list[int]) -> bool:
    return (
        session.exec(
            select(ReviewTask.id).where(
                col(ReviewTask.claim_id).in_(claim_ids), col(ReviewTask.kind).in_(kinds)
            )
        ).first()
        is not None
    )


def _searched(
    session: Session,
    user: User | Actor,
    reason: str | None,
    what: str,
    entity_id: int | None,
    details: dict[str, object],
    claim_id: int | None,
) -> None:
    action = f"{what}.search"
    require(user, "phi.search", session=session)
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        deny(
            user,
            action,
            f"{what} {entity_id} is outside role {user.role!r}'s queues; opening it is a "
            f"search: give a reason ({MIN_REASON}+ characters), which is audited.",
            session=session,
            details={"entity_id": entity_id, **details},
        )
    append_audit_event(
        session,
        actor=user.username,
        action="phi.searched",
        entity_type=what,
        entity_id=entity_id,
        claim_id=claim_id,
        details={"reason": text[:500], **details},
    )
