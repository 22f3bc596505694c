"""Void (8) and replacement (7) of an adjudicated claim: re-queued, audited, on the wire."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from claimdesk.claims.frequency import replace_claim, void_claim
from claimdesk.claims.moves import set_claim_status
from claimdesk.claims.wire_data import build_claim_batch
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.errors import PermissionDenied, ValidationFailed
from claimdesk.review.decisions import ClaimCorrections
from claimdesk.settings import Settings
from claimdesk.x12 import validate_with_pyx12, write_837
from claimdesk.x12.claim_data import ControlNumbers
from models import AuditEvent, Claim, ClaimLine, User

TODAY = date(2026, 11, 2)


def _user(session: Session, role: str) -> User:
    user = User(username=f"{role}-1", role=role, password_hash="x")
    session.add(user)
    session.flush()
    return user


def _adjudicated(session: Session, status: str = "paid", number: str | None = "PCLM123") -> Claim:
    """A demo 837P claim taken through ready → queued → sent → ``status``."""
    generate_demo_practice(session, claims=6, seed=5, today=TODAY)
    claim = session.exec(select(Claim).where(Claim.kind == "P").order_by(col(Claim.id))).first()
    assert claim is not None
    for step in ("ready", "queued", "sent", status):
        set_claim_status(session=session, claim=claim, status=step, actor="test")
    claim.payer_claim_number = number
    session.add(claim)
    session.flush()
    return claim


def _wire(session: Session, claim: Claim, tmp_path: Path) -> bytes:
    batch = build_claim_batch(
        session,
        settings=Settings(_env_file=None, data_dir=tmp_path),
        payer_id=claim.payer_id,
        claim_ids=[claim.id or 0],
        control=ControlNumbers(interchange=41, group=41, transaction_set=41),
        reference_id="VOID41",
    )
    return write_837(batch)


def test_void_requeues_a_paid_claim_as_frequency_8_that_pyx12_accepts(
    session: Session, tmp_path: Path
) -> None:
    claim = _adjudicated(session)
    lead = _user(session, "lead")
    void_claim(session, claim.id or 0, lead, "billed the wrong patient")
    assert (claim.status, claim.frequency_code, claim.version) == ("queued", "8", 2)
    assert claim.original_payer_claim_number == "PCLM123"
    data = _wire(session, claim, tmp_path)
    text = data.decode()
    assert f"*{claim.place_of_service}:B:8*" in text  # CLM05: POS, B, frequency 8
    assert "REF*F8*PCLM123~" in text
    assert f"REF*D9*{claim.id}-v2~" in text
    assert validate_with_pyx12(data) == []
    actions = session.exec(
        select(AuditEvent.action, AuditEvent.actor).where(AuditEvent.claim_id == claim.id)
    ).all()
    assert ("claim.void_queued", "lead-1") in actions
    assert ("claim.status_changed", "lead-1") in actions


def test_replacement_applies_corrections_and_carries_ref_f8(
    session: Session, tmp_path: Path
) -> None:
    claim = _adjudicated(session, status="denied")
    specialist = _user(session, "specialist")
    fix = ClaimCorrections.model_validate({"lines": [{"line_number": 1, "charge": "77.00"}]})
    replace_claim(session, claim.id or 0, specialist, "wrong charge on line 1", fix)
    assert (claim.status, claim.frequency_code, claim.version) == ("queued", "7", 2)
    line = session.exec(
        select(ClaimLine).where(ClaimLine.claim_id == claim.id, ClaimLine.line_number == 1)
    ).one()
    assert line.charge == Decimal("77.00")
    data = _wire(session, claim, tmp_path)
    assert f"*{claim.place_of_service}:B:7*".encode() in data
    assert b"REF*F8*PCLM123~" in data
    assert validate_with_pyx12(data) == []


def test_a_claim_the_payer_never_numbered_is_refused_naming_the_field(session: Session) -> None:
    claim = _adjudicated(session, number=None)
    with pytest.raises(ValidationFailed, match="payer_claim_number") as refused:
        void_claim(session, claim.id or 0, _user(session, "lead"), "duplicate")
    assert refused.value.field == "claim.payer_claim_number"
    assert (claim.status, claim.frequency_code, claim.version) == ("paid", "1", 1)


def test_only_adjudicated_claims_and_real_reasons_are_taken(session: Session) -> None:
    generate_demo_practice(session, claims=3, seed=6, today=TODAY)
    draft = session.exec(select(Claim).order_by(col(Claim.id))).first()
    assert draft is not None and draft.status == "draft"
    lead = _user(session, "lead")
    with pytest.raises(ValidationFailed, match="only an adjudicated claim") as refused:
        void_claim(session, draft.id or 0, lead, "duplicate")
    assert refused.value.field == "claim.status"
    with pytest.raises(ValidationFailed) as no_reason:
        replace_claim(session, draft.id or 0, lead, "   ")
    assert no_reason.value.field == "reason"


def test_roles_outside_the_policy_cannot_void_or_replace(session: Session) -> None:
    claim = _adjudicated(session)
    with pytest.raises(PermissionDenied, match=r"may not claim\.void"):
        void_claim(session, claim.id or 0, _user(session, "specialist"), "duplicate")
    with pytest.raises(PermissionDenied, match=r"may not claim\.replace"):
        replace_claim(session, claim.id or 0, _user(session, "auditor"), "typo")
    assert (claim.status, claim.version) == ("paid", 1)
