"""A claim's coverage as the payer last described it, with the visit's estimate (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.claims.fees import expected_allowed
from claimdesk.db import session_scope
from claimdesk.eligibility.benefits import (
    BenefitSummary,
    Estimate,
    estimate_patient_share,
    summarize,
)
from claimdesk.errors import NotFound
from models import Claim, ClaimLine, EligibilityCheck, Payer, append_audit_event


@dataclass(frozen=True)
class CoverageView:
    claim_id: int
    payer: str
    checked_at: datetime | None
    outcome: str | None
    summary: BenefitSummary
    estimate: Estimate | None
    allowed_source: str  # "fee schedule" or "charges" (no fee schedule for a line)


def read_coverage(engine: Engine, *, username: str, claim_id: int) -> CoverageView:
    """The latest 271 for the claim's coverage in words, and the patient's likely share."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "claim.view_phi")
        claim = session.get(Claim, claim_id)
        if claim is None:
            raise NotFound(f"no claim {claim_id}")
        payer = session.get(Payer, claim.payer_id)
        check = session.exec(
            select(EligibilityCheck)
            .where(EligibilityCheck.coverage_id == claim.coverage_id)
            .where(col(EligibilityCheck.responded_at).is_not(None))
            .order_by(col(EligibilityCheck.responded_at).desc())
        ).first()
        summary = summarize(check.benefits if check else [])
        allowed, source = Decimal("0"), "fee schedule"
        for line in session.exec(select(ClaimLine).where(ClaimLine.claim_id == claim_id)):
            modifier = line.modifiers[0] if line.modifiers else None
            unit = expected_allowed(
                session,
                payer_id=claim.payer_id,
                code=line.procedure_code or "",
                modifier=modifier,
                on=claim.service_from,
            )
            if unit is None:
                allowed += line.charge
                source = "charges"
            else:
                allowed += unit * line.units
        estimate = estimate_patient_share(summary, allowed) if check else None
        append_audit_event(
            session,
            actor=user.username,
            action="coverage.viewed",
            entity_type="claim",
            entity_id=claim_id,
            claim_id=claim_id,
            details={"eligibility_check_id": check.id if check else None},
        )
        return CoverageView(
            claim_id=claim_id,
            payer=payer.name if payer else "?",
            checked_at=check.responded_at if check else None,
            outcome=check.outcome if check else None,
            summary=summary,
            estimate=estimate,
            allowed_source=source,
        )
