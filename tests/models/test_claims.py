"""Claims: exact money, validation that names the field, the status state machine."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.errors import InvalidTransition, ValidationFailed
from models import AuditEvent, Claim, ClaimLine
from models.crud import validated
from models.reference import Practice
from tests.factories import make_claim, make_practice, valid_npi


def test_claim_money_round_trips_exactly(session: Session) -> None:
    lines = [
        {
            "procedure_code": "99214",
            "charge": "187.33",
            "diagnosis_pointers": [1],
            "service_date": date(2026, 10, 2),
        },
        {
            "procedure_code": "36415",
            "charge": Decimal("0.01"),
            "diagnosis_pointers": [1],
            "service_date": date(2026, 10, 2),
        },
    ]
    claim = make_claim(session, lines=lines)
    session.expire_all()
    stored = session.get(Claim, claim.id)
    assert stored is not None
    assert stored.total_charge == Decimal("187.34")
    assert isinstance(stored.total_charge, Decimal)
    charges = session.exec(
        select(ClaimLine.charge)
        .where(ClaimLine.claim_id == claim.id)
        .order_by(col(ClaimLine.line_number))
    ).all()
    assert charges == [Decimal("187.33"), Decimal("0.01")]


def test_claim_timestamps_come_back_timezone_aware(session: Session) -> None:
    claim = make_claim(session)
    session.expire_all()
    stored = session.get(Claim, claim.id)
    assert stored is not None and stored.created_at.tzinfo is not None
    assert abs((datetime.now(UTC) - stored.created_at).total_seconds()) < 60


@pytest.mark.parametrize(
    ("charge", "message"),
    [
        ("-5.00", "greater than or equal to 0"),
        ("12.x5", "not a decimal amount"),
        (12.5, "not a float"),
        ("1.001", "two decimal places"),
    ],
)
def test_claim_line_refuses_bad_amounts_naming_the_field(
    session: Session, charge: object, message: str
) -> None:
    bad_line = {
        "procedure_code": "99213",
        "charge": charge,
        "diagnosis_pointers": [1],
        "service_date": date(2026, 10, 1),
        "claim_id": 1,
        "line_number": 1,
        "line_control_number": "x",
    }
    with pytest.raises(ValidationFailed, match=message) as info:
        validated(ClaimLine, bad_line)
    assert info.value.field == "charge"


def test_claim_refuses_negative_total_charge(session: Session) -> None:
    with pytest.raises(ValidationFailed) as info:
        make_claim(session, total_charge=Decimal("-1.00"))
    assert info.value.field == "total_charge"


def test_claim_refuses_total_that_differs_from_lines(session: Session) -> None:
    with pytest.raises(ValidationFailed, match="lines' sum") as info:
        make_claim(session, total_charge=Decimal("999.00"))
    assert info.value.field == "total_charge"


def test_practice_refuses_bad_npi_naming_the_field() -> None:
    npi = valid_npi(42)
    bad = npi[:9] + str((int(npi[9]) + 1) % 10)
    with pytest.raises(ValidationFailed, match="NPI") as info:
        validated(Practice, {"name": "X", "npi": bad, "tin": "123456789"})
    assert info.value.field == "npi"
    assert validated(Practice, {"name": "X", "npi": npi, "tin": "123456789"}).npi == npi


def test_claim_patient_control_number_longer_than_20_is_refused(session: Session) -> None:
    with pytest.raises(ValidationFailed) as info:
        make_claim(session, patient_control_number="X" * 21)
    assert info.value.field == "patient_control_number"


def test_claim_patient_control_number_is_unique_per_practice(session: Session) -> None:
    practice = make_practice(session)
    make_claim(session, practice=practice, patient_control_number="DUP1")
    with pytest.raises(IntegrityError):
        make_claim(session, practice=practice, patient_control_number="DUP1")


def test_replacement_claim_requires_original_payer_claim_number(session: Session) -> None:
    with pytest.raises(ValidationFailed, match="REF\\*F8"):
        make_claim(session, frequency_code="7")


def test_claim_status_allowed_transition_is_audited(session: Session) -> None:
    claim = make_claim(session)
    set_claim_status(session=session, claim=claim, status="ready", actor="alice")
    set_claim_status(session=session, claim=claim, status="queued", actor="system:submission")
    assert claim.status == "queued"
    actions = session.exec(
        select(AuditEvent.details)
        .where(AuditEvent.claim_id == claim.id, AuditEvent.action == "claim.status_changed")
        .order_by(col(AuditEvent.id))
    ).all()
    assert [(d["from"], d["to"]) for d in actions] == [("draft", "ready"), ("ready", "queued")]


def test_claim_status_forbidden_transition_is_refused_naming_status(session: Session) -> None:
    claim = make_claim(session)
    with pytest.raises(InvalidTransition, match="'draft' cannot move to 'paid'") as info:
        set_claim_status(session=session, claim=claim, status="paid", actor="alice")
    assert info.value.field == "status"
    assert claim.status == "draft"


def test_claim_status_unknown_status_is_refused(session: Session) -> None:
    claim = make_claim(session)
    with pytest.raises(InvalidTransition, match="'lost'"):
        set_claim_status(session=session, claim=claim, status="lost", actor="alice")
