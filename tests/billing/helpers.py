"""Builders for the billing tests: claims with a posted 835, users, a store, PDF checks."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader
from sqlmodel import Session

from claimdesk.remittance.posting import post_remittance
from models import Claim, Patient, Payer, User
from tests.denials.builders_835 import Clp, Svc, remit
from tests.factories import make_claim

_traces = itertools.count(1)


def make_user(session: Session, role: str = "specialist") -> User:
    n = next(_traces)
    user = User(username=f"{role}{n}", role=role, password_hash="x")
    session.add(user)
    session.flush()
    return user


def posted_claim(
    session: Session,
    *,
    patient: Patient | None = None,
    payer: Payer | None = None,
    charge: str = "200.00",
    paid: str = "100.00",
    contractual: str = "50.00",
    pr: tuple[tuple[str, str], ...] = (("1", "30.00"), ("2", "10.00"), ("3", "10.00")),
    pay_date: str = "20261102",
    trace: str | None = None,
) -> tuple[Claim, bytes]:
    """A sent claim and its 835 posted: paid, CO-45 and PR by code; returns the 835 bytes."""
    claim = make_claim(
        session,
        status="sent",
        lines=[
            {
                "procedure_code": "99213",
                "charge": Decimal(charge),
                "diagnosis_pointers": [1],
                "service_date": date(2026, 10, 1),
            }
        ],
        **_world(session, patient, payer),
    )
    patient_share = sum((Decimal(a) for _, a in pr), Decimal(0))
    cas: dict[str, tuple[tuple[str, str], ...]] = {}
    if Decimal(contractual):
        cas["CO"] = (("45", contractual),)
    if pr:
        cas["PR"] = pr
    clp = Clp(
        claim.patient_control_number,
        "1",
        charge,
        paid,
        patient=f"{patient_share:.2f}",
        services=(Svc("99213", charge, paid, cas=cas),),
        payer_claim=f"PC{claim.id}",
    )
    data = remit([clp], trace=trace or f"TRN{next(_traces):06d}", pay_date=pay_date)
    report = post_remittance(
        session, document_bytes_or_parsed=data, payer_id=claim.payer_id, document_id=None
    )
    assert report.outcomes == ("posted",), report
    return claim, data


def _world(session: Session, patient: Patient | None, payer: Payer | None) -> dict[str, object]:
    """Reuse a patient's (and payer's) world so several claims share one patient."""
    from sqlmodel import select

    from models import Coverage, Practice, Provider

    out: dict[str, object] = {}
    if payer is not None:
        out["payer"] = payer
    if patient is not None:
        out["patient"] = patient
        out["practice"] = session.get(Practice, patient.practice_id)
        coverage = session.exec(select(Coverage).where(Coverage.patient_id == patient.id)).first()
        if coverage is not None:
            out["coverage"] = coverage
            out["payer"] = session.get(Payer, coverage.payer_id)
        provider = session.exec(
            select(Provider).where(Provider.practice_id == patient.practice_id)
        ).first()
        if provider is not None:
            out["provider"] = provider
    return out


def pdf_text(data: bytes, path: Path) -> str:
    """The PDF's text (pypdf), after writing it and a PNG of each page (pypdfium2) to ``path``."""
    import io

    import pypdfium2

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    document = pypdfium2.PdfDocument(data)
    for index in range(len(document)):
        image = document[index].render(scale=1.5).to_pil()
        image.save(path.with_name(f"{path.stem}-p{index + 1}.png"))
    document.close()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
