"""An 837I from the database: bill type, admission, patient status, UB-04 codes, physicians."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from claimdesk.claims.wire_data import build_claim_batch, build_wire_claims
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.settings import Settings
from claimdesk.x12 import validate_with_pyx12, write_837
from claimdesk.x12.claim_data import ControlNumbers
from models import Claim, ClaimLine, Provider


def _institutional(session: Session, data: dict[str, object]) -> Claim:
    """A demo claim made institutional (revenue codes on its lines) with ``data`` stored."""
    generate_demo_practice(session, claims=4, seed=9, today=date(2026, 11, 2))
    claim = session.exec(select(Claim).order_by(col(Claim.id))).first()
    assert claim is not None
    for line in session.exec(select(ClaimLine).where(ClaimLine.claim_id == claim.id)).all():
        line.revenue_code = "0450"
        session.add(line)
    claim.kind, claim.facility_type_code, claim.institutional = "I", "11", data
    session.add(claim)
    session.flush()
    return claim


def _wire(session: Session, claim: Claim, tmp_path: Path) -> bytes:
    batch = build_claim_batch(
        session,
        settings=Settings(_env_file=None, data_dir=tmp_path),
        payer_id=claim.payer_id,
        claim_ids=[claim.id or 0],
        control=ControlNumbers(interchange=63, group=63, transaction_set=63),
        reference_id="INST63",
    )
    return write_837(batch)


def test_stored_institutional_data_reaches_the_837i_and_passes_pyx12(
    session: Session, tmp_path: Path
) -> None:
    claim = _institutional(
        session,
        {
            "admission_date": "2026-10-01",
            "admission_hour": "1415",
            "admission_type": "1",
            "admission_source": "7",
            "patient_status": "20",
            "admitting_diagnosis": "R509",
            "condition_codes": ["01", "A1"],
            "occurrences": [{"code": "11", "on": "2026-09-30"}],
            "occurrence_spans": [{"code": "70", "start": "2026-09-01", "end": "2026-09-05"}],
            "value_codes": [{"code": "80", "amount": "2"}, {"code": "A1", "amount": "25.00"}],
        },
    )
    person = session.exec(select(Provider).where(col(Provider.last_name).is_not(None))).first()
    assert person is not None, "the demo's rendering providers are people"
    claim.institutional = {**claim.institutional, "operating_provider_id": person.id}
    session.add(claim)
    data = _wire(session, claim, tmp_path)
    text = data.decode()
    assert "*11:A:1**" in text  # bill type 111: the claim's own facility code, not 13
    assert "DTP*435*DT*202610011415~CL1*1*7*20~" in text  # patient status 20, not 01
    for segment in (
        "HI*ABJ:R509~",
        "HI*BI:70:RD8:20260901-20260905~",
        "HI*BH:11:D8:20260930~",
        "HI*BE:80:::2*BE:A1:::25.00~",
        "HI*BG:01*BG:A1~",
        f"NM1*72*1*{person.last_name}*",
    ):
        assert segment in text, segment
    assert validate_with_pyx12(data) == []


def test_an_institutional_claim_without_data_says_home_and_bill_type_13(
    session: Session, tmp_path: Path
) -> None:
    claim = _institutional(session, {})
    claim.facility_type_code = None
    text = _wire(session, claim, tmp_path).decode()
    assert "*13:A:1**" in text and "CL1***01~" in text


def test_bad_institutional_data_names_the_field(session: Session) -> None:
    claim = _institutional(session, {"value_codes": [{"code": "80", "amount": "1.234"}]})
    built, failed = build_wire_claims(session, payer_id=claim.payer_id, claim_ids=[claim.id or 0])
    assert built == [] and failed[0][1].field.startswith("claim.institutional.value_codes.0")
    claim.institutional = {"admision_date": "2026-10-01"}
    _, failed = build_wire_claims(session, payer_id=claim.payer_id, claim_ids=[claim.id or 0])
    assert failed[0][1].field == "claim.institutional.admision_date"
