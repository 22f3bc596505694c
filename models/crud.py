"""Plain data-layer functions: keyword-only, session passed in, ``flush()`` only.

The caller that opened the session owns the transaction and commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlmodel import Session, SQLModel

from claimdesk.errors import ValidationFailed
from models.audit import append_audit_event
from models.claims import Claim, ClaimBase, ClaimLine, ClaimLineBase, Diagnosis, DiagnosisBase

T = TypeVar("T", bound=SQLModel)


def validated(model: type[T], data: dict[str, Any] | SQLModel) -> T:
    """Build a table row through pydantic validation; a refusal names the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or model.__name__
        raise ValidationFailed(
            f"{model.__name__}.{field}: {first['msg']}",
            field=field,
            detail=str(first.get("input"))[:200],
        ) from None


def create_claim(
    *,
    session: Session,
    claim_in: ClaimBase | dict[str, Any],
    lines: Sequence[dict[str, Any]],
    diagnoses: Sequence[str],
    actor: str = "system",
) -> Claim:
    """Insert a claim with its lines and diagnoses; the charge must equal the lines' sum."""
    claim = validated(Claim, claim_in)
    if not lines:
        raise ValidationFailed(
            "Claim.lines: a claim needs at least one service line", field="lines"
        )
    if not diagnoses:
        raise ValidationFailed("Claim.diagnoses: a claim needs a diagnosis", field="diagnoses")
    session.add(claim)
    session.flush()
    assert claim.id is not None
    total = Decimal(0)
    for number, line in enumerate(lines, start=1):
        data = {"line_number": number, **line, "claim_id": claim.id}
        data.setdefault("line_control_number", f"{claim.id}-{number}")
        row = validated(ClaimLine, validated(ClaimLineBase, data))
        total += row.charge
        session.add(row)
    if total != claim.total_charge:
        raise ValidationFailed(
            f"Claim.total_charge: {claim.total_charge} does not equal the lines' sum {total}",
            field="total_charge",
        )
    for position, code in enumerate(diagnoses, start=1):
        session.add(
            validated(
                Diagnosis,
                validated(
                    DiagnosisBase, {"claim_id": claim.id, "position": position, "code": code}
                ),
            )
        )
    append_audit_event(
        session,
        actor=actor,
        action="claim.created",
        entity_type="claim",
        entity_id=claim.id,
        claim_id=claim.id,
        details={"status": claim.status, "lines": len(lines)},
    )
    session.flush()
    return claim
