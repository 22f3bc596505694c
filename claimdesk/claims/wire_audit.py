"""The claim's timeline says when its texts went on the wire transliterated, by field name.

The stored values stay as written; the event names the transaction and the fields
(``patient.last_name``), never a value (PHI).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from models import AuditEvent, append_audit_event

ACTION = "claim.transliterated"


def record_transliterated(
    session: Session,
    *,
    actor: str,
    transaction: str,
    fields: Sequence[str],
    claims: Sequence[tuple[int, int]],
    coverage_id: int | None = None,
    once: bool = False,
    extra: dict[str, Any] | None = None,
) -> None:
    """One event per claim (id, version) whose ``fields`` were transliterated for ``transaction``.

    With no claim (a 270 ahead of an appointment) the event is on the coverage. With
    ``once``, a claim version already carrying the same event is left alone, so a
    transaction repeated on a schedule (the 276) does not fill the timeline.
    """
    if not fields:
        return
    details: dict[str, Any] = {"transaction": transaction, "fields": sorted(set(fields))}
    if not claims and coverage_id is not None:
        append_audit_event(
            session,
            actor=actor,
            action=ACTION,
            entity_type="coverage",
            entity_id=coverage_id,
            details={**details, **(extra or {})},
        )
        return
    for claim_id, version in claims:
        mine = {**details, "version": version}
        if once and _recorded(session, claim_id, mine):
            continue
        append_audit_event(
            session,
            actor=actor,
            action=ACTION,
            entity_type="claim",
            entity_id=claim_id,
            claim_id=claim_id,
            details={**mine, **(extra or {})},
        )


def _recorded(session: Session, claim_id: int, details: dict[str, Any]) -> bool:
    events = session.exec(
        select(AuditEvent.details).where(
            AuditEvent.claim_id == claim_id, col(AuditEvent.action) == ACTION
        )
    ).all()
    return any(all(event.get(k) == v for k, v in details.items()) for event in events)
