"""A specialist's corrections to a claim's fields, checked and applied (audited, no values)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from claimdesk.errors import ValidationFailed
from claimdesk.review.decisions import ClaimCorrections
from models import Claim, ClaimLine, Diagnosis, ReviewTask, append_audit_event


def check_correction_lines(session: Session, task: ReviewTask, decision: Any) -> None:
    """Refuse, before it is stored, a correction naming a line the claim does not have."""
    corrections = getattr(decision, "corrections", None)
    if corrections is None or not corrections.lines or task.claim_id is None:
        return
    numbers = set(
        session.exec(select(ClaimLine.line_number).where(ClaimLine.claim_id == task.claim_id))
    )
    for fix in corrections.lines:
        if fix.line_number not in numbers:
            raise ValidationFailed(
                f"decision.corrections.lines: the claim has no line {fix.line_number}; "
                f"its lines are {sorted(numbers)}.",
                field="corrections.lines",
            )


def apply_corrections(session: Session, claim: Claim, corrections: ClaimCorrections) -> None:
    """Change the claim's fields as corrected; line totals stay consistent."""
    changed: list[str] = []
    if corrections.place_of_service:
        claim.place_of_service = corrections.place_of_service
        changed.append("place_of_service")
    if corrections.diagnoses:
        existing = session.exec(select(Diagnosis).where(Diagnosis.claim_id == claim.id)).all()
        for row in existing:
            session.delete(row)
        session.flush()
        for position, code in enumerate(corrections.diagnoses, start=1):
            session.add(
                Diagnosis(
                    claim_id=claim.id or 0, position=position, code=code.replace(".", "").upper()
                )
            )
        changed.append("diagnoses")
    lines = {
        line.line_number: line
        for line in session.exec(select(ClaimLine).where(ClaimLine.claim_id == claim.id)).all()
    }
    for fix in corrections.lines:
        line = lines.get(fix.line_number)
        if line is None:
            raise ValidationFailed(
                f"corrections.lines: claim has no line {fix.line_number}", field="corrections.lines"
            )
        updates: dict[str, Any] = fix.model_dump(exclude_none=True, exclude={"line_number"})
        for name, value in updates.items():
            setattr(line, name, value)
        session.add(line)
        changed.extend(f"lines[{fix.line_number}].{name}" for name in updates)
    claim.total_charge = sum((line.charge for line in lines.values()), claim.total_charge * 0)
    session.add(claim)
    session.flush()
    append_audit_event(
        session,
        actor="system:corrections",
        action="claim.corrected",
        entity_type="claim",
        entity_id=claim.id,
        claim_id=claim.id,
        details={"fields": changed},
    )
