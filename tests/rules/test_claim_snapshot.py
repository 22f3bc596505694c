"""build_claim_snapshot reads a claim's world from the tables (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session

from claimdesk.claims.snapshot import build_claim_snapshot
from claimdesk.errors import NotFound
from claimdesk.rules import CORE_PACK, run_rules
from models import Authorization, Claim
from models.crud import validated
from tests.factories import make_claim, make_coverage, make_patient, make_payer, make_practice

TODAY = date(2026, 11, 27)


def _add_authorization(session: Session, claim: Claim, **data: object) -> Authorization:
    row = validated(
        Authorization,
        {"patient_id": claim.patient_id, "payer_id": claim.payer_id, "number": "PA-1", **data},
    )
    session.add(row)
    session.flush()
    return row


def test_build_claim_snapshot_reads_factory_claim(session: Session) -> None:
    claim = make_claim(session)
    assert claim.id is not None
    snapshot = build_claim_snapshot(session=session, claim_id=claim.id, today=TODAY)
    assert snapshot.claim_id == claim.id
    assert [(ln.number, ln.procedure_code, ln.charge) for ln in snapshot.lines] == [
        (1, "99213", Decimal("125.00"))
    ]
    assert [(d.position, d.code) for d in snapshot.diagnoses] == [(1, "E119")]
    assert snapshot.coverage is not None and snapshot.coverage.has_member_id
    assert snapshot.billing_provider is not None and snapshot.rendering_provider is None
    assert snapshot.other_services == ()
    assert run_rules(snapshot, CORE_PACK).findings == ()


def test_build_claim_snapshot_holds_no_member_id(session: Session) -> None:
    claim = make_claim(session)
    assert claim.id is not None
    dumped = build_claim_snapshot(session=session, claim_id=claim.id, today=TODAY).model_dump_json()
    assert "MEM" not in dumped and "Testpatient" not in dumped


def test_build_claim_snapshot_finds_duplicate_on_other_claim(session: Session) -> None:
    practice = make_practice(session)
    payer = make_payer(session)
    patient = make_patient(session, practice)
    coverage = make_coverage(session, patient, payer)
    world = {"practice": practice, "payer": payer, "patient": patient, "coverage": coverage}
    first = make_claim(session, **world)
    voided = make_claim(session, status="voided", **world)
    second = make_claim(session, **world)
    assert second.id is not None
    snapshot = build_claim_snapshot(session=session, claim_id=second.id, today=TODAY)
    assert {s.claim_id for s in snapshot.other_services} == {first.id}
    assert voided.id not in {s.claim_id for s in snapshot.other_services}
    result = run_rules(snapshot, CORE_PACK)
    assert [f.rule_id for f in result.errors] == ["CD-DUP-001"]
    assert f"claim {first.id}" in result.errors[0].message


def test_build_claim_snapshot_reads_payer_config_and_authorizations(session: Session) -> None:
    payer = make_payer(
        session,
        prior_auth_codes=["97110"],
        timely_filing_days=60,
        connectivity={"scrub_rules": {"required_modifiers": {"97110": ["GP"]}}},
    )
    line = {
        "procedure_code": "97110",
        "modifiers": ["GP"],
        "units": Decimal(2),
        "charge": Decimal("130.00"),
        "diagnosis_pointers": [1],
        "service_date": date(2026, 10, 1),
    }
    claim = make_claim(session, payer=payer, lines=[line], diagnoses=["M5450"])
    assert claim.id is not None
    _add_authorization(
        session, claim, codes=["97110"], valid_from=date(2026, 9, 1), valid_to=date(2026, 12, 31)
    )
    snapshot = build_claim_snapshot(session=session, claim_id=claim.id, today=TODAY)
    assert snapshot.payer.prior_auth_codes == frozenset({"97110"})
    assert snapshot.payer.rules.required_modifiers == {"97110": ("GP",)}
    assert [a.codes for a in snapshot.authorizations] == [frozenset({"97110"})]
    # 57 days after the From date with a 60-day limit: only the timely filing warning.
    assert [f.rule_id for f in run_rules(snapshot, CORE_PACK).findings] == ["CD-TF-002"]


def test_build_claim_snapshot_refuses_unknown_claim(session: Session) -> None:
    with pytest.raises(NotFound, match="claim 987654"):
        build_claim_snapshot(session=session, claim_id=987654, today=TODAY)
