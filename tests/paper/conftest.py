"""A practice that bills one payer on paper: claims with everything the CMS-1500 shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from models import Claim, Payer, Practice, User
from tests.factories import (
    make_claim,
    make_coverage,
    make_patient,
    make_payer,
    make_practice,
    make_provider,
    valid_npi,
)

TODAY = date(2026, 11, 20)
ADDRESS = {"address_line1": "12 MAIN ST", "city": "SPRINGFIELD", "state": "IL"}
PROCEDURES = ("99213", "36415", "85025", "80053", "93000", "71046", "81002", "87880")


@dataclass
class PaperWorld:
    practice: Practice
    payer: Payer
    billing_npi: str
    rendering_npi: str
    kwargs: dict[str, Any]


def make_paper_world(session: Session) -> PaperWorld:
    practice = make_practice(session, **ADDRESS, postal_code="627011234", taxonomy="207Q00000X")
    payer = make_payer(
        session,
        name="Prairie Mutual",
        connectivity={"submission_channel": "paper"},
        address_line1="PO BOX 4400",
        city="PEORIA",
        state="IL",
        postal_code="61601",
    )
    billing = make_provider(session, practice, **ADDRESS, postal_code="627011234")
    rendering = make_provider(
        session,
        practice,
        role="rendering",
        organization_name=None,
        last_name="WELBY",
        first_name="MARCUS",
        npi=valid_npi(4242),
    )
    patient = make_patient(
        session, practice, **ADDRESS, postal_code="62702", gender="F", birth_date=date(1961, 3, 9)
    )
    coverage = make_coverage(session, patient, payer, member_id="PMX55501234", group_number="G77")
    return PaperWorld(
        practice=practice,
        payer=payer,
        billing_npi=billing.npi,
        rendering_npi=rendering.npi,
        kwargs={
            "practice": practice,
            "payer": payer,
            "patient": patient,
            "coverage": coverage,
            "provider": billing,
            "rendering_provider_id": rendering.id,
        },
    )


def paper_claim(
    session: Session,
    world: PaperWorld,
    *,
    lines: int = 2,
    status: str = "queued",
    diagnoses: tuple[str, ...] = ("E119", "I10"),
    **overrides: Any,
) -> Claim:
    """A claim of ``lines`` lines (charges 100.00, 110.00, ...) billed to the paper payer."""
    rows = [
        {
            "procedure_code": PROCEDURES[n % len(PROCEDURES)],
            "charge": Decimal(100 + 10 * n),
            "diagnosis_pointers": [1, 2] if n == 0 else [2],
            "service_date": date(2026, 10, 1),
            **({"modifiers": ["25"]} if n == 0 else {}),
        }
        for n in range(lines)
    ]
    return make_claim(
        session,
        lines=rows,
        diagnoses=list(diagnoses),
        status=status,
        **world.kwargs,
        **overrides,
    )


def make_user(session: Session, username: str, role: str) -> User:
    user = User(username=username, role=role, display_name=username.title(), password_hash="x")
    session.add(user)
    session.flush()
    return user


@pytest.fixture(scope="session")
def paper_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the rendered forms go for a person to look at (printed at the end of the run)."""
    return tmp_path_factory.mktemp("paper-forms")
