"""Demo claims → 837P through the codec → pyx12 finds zero errors; REF*D9/6R on the wire."""

from datetime import date

from sqlmodel import Session, col, select

from claimdesk.claims.wire_data import build_claim_batch
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.settings import Settings
from claimdesk.x12 import parse_837, validate_with_pyx12, write_837
from claimdesk.x12.claim_data import ControlNumbers
from models import Claim, Payer

TODAY = date(2026, 11, 2)


def test_demo_claims_become_an_837p_that_pyx12_accepts(session: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    generate_demo_practice(session, claims=240, seed=21, today=TODAY)
    settings = Settings(_env_file=None, data_dir=tmp_path)
    payer = session.exec(select(Payer).where(Payer.payer_id == "SIMACM")).one()
    claims = session.exec(
        select(Claim).where(Claim.payer_id == payer.id).order_by(col(Claim.id))
    ).all()
    assert len(claims) > 30
    batch = build_claim_batch(
        session,
        settings=settings,
        payer_id=payer.id or 0,
        claim_ids=[c.id or 0 for c in claims],
        control=ControlNumbers(interchange=17, group=17, transaction_set=17),
        reference_id="SUB17",
    )
    data = write_837(batch)
    assert validate_with_pyx12(data) == []
    # Each claim version and each line is named on the wire, so answers match back exactly.
    text = data.decode()
    first = claims[0]
    assert f"REF*D9*{first.id}-v1~" in text
    assert f"REF*6R*{first.id}-1~" in text
    parsed = parse_837(data)
    assert [c.patient_control_number for c in parsed.claims] == [
        c.patient_control_number for c in claims
    ]
