"""An 835 with the issue's codes: no reduction opens a denial; the unknown one goes to triage."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from claimdesk.remittance.posting import post_remittance
from models import Denial, Document
from tests.denials.builders_835 import Clp, Svc, remit
from tests.factories import make_claim

D = Decimal


def test_reductions_post_without_denials_and_an_unknown_carc_goes_to_triage(
    session: Session,
) -> None:
    claim = make_claim(
        session,
        lines=[
            {"procedure_code": "99214", "charge": D("600.00"), "diagnosis_pointers": [1],
             "service_date": date(2026, 10, 1)},
            {"procedure_code": "36415", "charge": D("400.00"), "diagnosis_pointers": [1],
             "service_date": date(2026, 10, 1)},
        ],
        status="sent",
    )  # fmt: skip
    reductions = (("45", "100"), ("253", "10"), ("59", "20"), ("94", "5"), ("131", "15"))
    clp = Clp(
        claim.patient_control_number,
        "1",
        "1000",
        "700",
        "50",
        services=(
            Svc("99214", "600", "425",
                {"CO": (*reductions, ("144", "5")), "PI": (("45", "10"),), "OA": (("45", "10"),)},
                ref=f"{claim.id}-1"),
            Svc("36415", "400", "275",
                {"CO": (("236", "25"), ("B7", "25"), ("Z99", "25")), "PR": (("27", "50"),)},
                ref=f"{claim.id}-2"),
        ),
    )  # fmt: skip
    data = remit([clp])
    digest = hashlib.sha256(data).hexdigest()
    doc = Document(kind="x12_835", sha256=digest, size=len(data),
                   content_type="application/edi-x12", storage_key=f"sha256/{digest}",
                   direction="received")  # fmt: skip
    session.add(doc)
    session.flush()
    assert doc.id is not None
    post_remittance(
        session, document_bytes_or_parsed=data, payer_id=claim.payer_id, document_id=doc.id
    )
    denials = session.exec(select(Denial).where(Denial.claim_id == claim.id)).all()
    opened = {(d.group_code, d.reason_code): d.queue for d in denials}
    assert opened == {
        ("CO", "236"): "coding",
        ("CO", "B7"): "eligibility",
        ("CO", "Z99"): "triage",
        ("PR", "27"): "eligibility",
    }
