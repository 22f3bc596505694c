"""The demo practice's institutional claims: on request only, each made once per seed."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from claimdesk.demo.generate import generate_demo_practice
from models import Claim, ClaimLine, Provider


def test_institutional_claims_come_on_request_once_per_seed(session: Session) -> None:
    today = date(2026, 11, 2)
    generate_demo_practice(session, claims=6, seed=31, today=today)
    assert session.exec(select(Claim).where(Claim.kind == "I")).all() == []
    summary = generate_demo_practice(
        session, claims=6, seed=31, today=today, institutional_claims=7
    )
    assert (summary.claims_created, summary.claims_skipped) == (7, 6)
    claims = session.exec(select(Claim).where(Claim.kind == "I")).all()
    assert len(claims) == 7
    for claim in claims:
        billing = session.get(Provider, claim.billing_provider_id)
        assert billing is not None and billing.organization_name in (
            "Riverside Hospital",
            "Riverside Surgery Center",
        )
        lines = session.exec(select(ClaimLine).where(ClaimLine.claim_id == claim.id)).all()
        assert all(line.revenue_code and line.procedure_code for line in lines)
        assert claim.institutional["patient_status"] == "01"
    surgery = [c for c in claims if c.facility_type_code == "83"]
    assert surgery and all(c.institutional.get("operating_provider_id") for c in surgery)
    again = generate_demo_practice(session, claims=6, seed=31, today=today, institutional_claims=7)
    assert (again.claims_created, again.claims_skipped) == (0, 13)
    assert len(session.exec(select(col(Claim.id)).where(Claim.kind == "I")).all()) == 7
