"""A secondary claim made by posting the primary's 835 names the primary's claim (2330B REF*F8)."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, col, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.claims.wire_data import build_claim_batch
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.remittance.posting import post_remittance
from claimdesk.settings import Settings
from claimdesk.x12 import parse_837, validate_with_pyx12, write_837
from claimdesk.x12.claim_data import ControlNumbers
from models import Claim, ClaimLine, Coverage, Document, Payer
from tests.denials.builders_835 import Clp, Svc, remit

SHARE = Decimal("10.00")  # the patient's share on each line, left for the secondary


def _post(session: Session, data: bytes, payer_id: int) -> None:
    digest = hashlib.sha256(data).hexdigest()
    document = Document(
        kind="x12_835",
        sha256=digest,
        size=len(data),
        content_type="application/edi-x12",
        storage_key=f"sha256/{digest[:2]}/{digest}",
        direction="received",
    )
    session.add(document)
    session.flush()
    post_remittance(
        session, document_bytes_or_parsed=data, payer_id=payer_id, document_id=document.id or 0
    )


def test_secondary_837p_carries_the_primary_claim_number_in_2330b(
    session: Session, tmp_path: Path
) -> None:
    generate_demo_practice(session, claims=6, seed=8, today=date(2026, 11, 2))
    primary = session.exec(select(Claim).where(Claim.kind == "P").order_by(col(Claim.id))).first()
    assert primary is not None
    other = session.exec(select(Payer).where(Payer.id != primary.payer_id)).first()
    assert other is not None
    primary_coverage = session.get(Coverage, primary.coverage_id)
    assert primary_coverage is not None
    data = primary_coverage.model_dump(exclude={"id", "payer_id", "member_id", "coverage_order"})
    session.add(Coverage(**data, payer_id=other.id, member_id="SEC55501", coverage_order=2))
    for step in ("ready", "queued", "sent"):
        set_claim_status(session=session, claim=primary, status=step, actor="test")
    lines = session.exec(
        select(ClaimLine).where(ClaimLine.claim_id == primary.id).order_by(col(ClaimLine.id))
    ).all()
    services = tuple(
        Svc(
            line.procedure_code,
            f"{line.charge:.2f}",
            f"{line.charge - SHARE:.2f}",
            {"PR": (("2", f"{SHARE:.2f}"),)},
            ref=line.line_control_number,
        )
        for line in lines
    )
    share = SHARE * len(lines)
    clp = Clp(
        primary.patient_control_number,
        "1",
        f"{primary.total_charge:.2f}",
        f"{primary.total_charge - share:.2f}",
        f"{share:.2f}",
        services=services,
        payer_claim="PRIM77001",
    )
    _post(session, remit([clp]), primary.payer_id)
    secondary = session.exec(select(Claim).where(Claim.primary_claim_id == primary.id)).one()

    batch = build_claim_batch(
        session,
        settings=Settings(_env_file=None, data_dir=tmp_path),
        payer_id=secondary.payer_id,
        claim_ids=[secondary.id or 0],
        control=ControlNumbers(interchange=52, group=52, transaction_set=52),
        reference_id="COB52",
    )
    wire = write_837(batch)
    segments = wire.decode().split("~")
    primary_payer = session.get(Payer, primary.payer_id)
    assert primary_payer is not None
    at = next(
        i
        for i, s in enumerate(segments)
        if s.startswith("NM1*PR*")
        and s.endswith(f"*PI*{primary_payer.payer_id}")
        and i > segments.index(next(s for s in segments if s.startswith("OI*")))
    )
    # 2330B: NM1*PR, its DTP*573 when sent, then REF*F8 with the primary's claim number.
    assert "REF*F8*PRIM77001" in segments[at + 1 : at + 3]
    assert validate_with_pyx12(wire) == []
    assert parse_837(wire).claims[0].other_payers[0].claim_control_number == "PRIM77001"
