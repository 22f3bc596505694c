"""What went over the wire and what came back: checks, submissions, remittances, denials."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Field, SQLModel, UniqueConstraint

from models._fields import json_field, money_field, timestamp_field


class EligibilityCheck(SQLModel, table=True):
    __tablename__ = "eligibility_check"
    id: int | None = Field(default=None, primary_key=True)
    coverage_id: int = Field(foreign_key="coverage.id", index=True)
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    requested_at: datetime = timestamp_field(default_now=True)
    responded_at: datetime | None = timestamp_field(nullable=True)
    # active, inactive, terminated, unknown_member, other_primary, mismatch, error
    outcome: str | None = Field(default=None, max_length=20)
    request_document_id: int | None = Field(default=None, foreign_key="document.id")
    response_document_id: int | None = Field(default=None, foreign_key="document.id")
    benefits: list[dict[str, Any]] = json_field(default_factory=list)
    rejection_codes: list[str] = json_field(default_factory=list)


class Submission(SQLModel, table=True):
    """One 837 interchange; built and committed before it is sent, so a retry resends it."""

    __table_args__ = (
        UniqueConstraint("interchange_control_number", name="uq_submission_isa13"),
        UniqueConstraint("payload_id", name="uq_submission_payload_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    payer_id: int = Field(foreign_key="payer.id", index=True)
    interchange_control_number: str = Field(max_length=9)
    group_control_number: str = Field(max_length=9)
    set_control_number: str = Field(max_length=9)
    payload_id: str = Field(max_length=36, description="CAQH CORE PayloadID (UUID)")
    document_id: int | None = Field(default=None, foreign_key="document.id")
    # built → sent → acknowledged | rejected
    status: str = Field(default="built", max_length=12, index=True)
    created_at: datetime = timestamp_field(default_now=True)
    sent_at: datetime | None = timestamp_field(nullable=True)
    ack_999_status: str | None = Field(default=None, max_length=1)  # A, E, R, P
    ack_999_document_id: int | None = Field(default=None, foreign_key="document.id")
    ta1_status: str | None = Field(default=None, max_length=3)


class SubmissionClaim(SQLModel, table=True):
    """A claim version inside a submission. The unique key makes sending exactly-once."""

    __tablename__ = "submission_claim"
    __table_args__ = (UniqueConstraint("claim_id", "claim_version", name="uq_submission_claim"),)
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    claim_id: int = Field(foreign_key="claim.id")
    claim_version: int = Field(ge=1)
    # 277CA outcome: accepted / rejected, with the STC codes.
    outcome: str | None = Field(default=None, max_length=10)
    stc_codes: list[str] = json_field(default_factory=list)
    ack_document_id: int | None = Field(default=None, foreign_key="document.id")


class StatusCheck(SQLModel, table=True):
    __tablename__ = "status_check"
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    checked_at: datetime = timestamp_field(default_now=True)
    category_code: str | None = Field(default=None, max_length=3)
    status_code: str | None = Field(default=None, max_length=5)
    entity_code: str | None = Field(default=None, max_length=3)
    effective_date: date | None = None
    amount_paid: Decimal | None = money_field(nullable=True)
    payer_claim_number: str | None = Field(default=None, max_length=50)
    request_document_id: int | None = Field(default=None, foreign_key="document.id")
    response_document_id: int | None = Field(default=None, foreign_key="document.id")


class Remittance(SQLModel, table=True):
    """One 835 transaction set as received."""

    __table_args__ = (
        UniqueConstraint("payer_id", "trace_number", "sha256", name="uq_remittance_trace_content"),
    )
    id: int | None = Field(default=None, primary_key=True)
    payer_id: int | None = Field(default=None, foreign_key="payer.id", index=True)
    trace_number: str = Field(max_length=50, index=True)
    payment_method: str = Field(max_length=3)  # CHK, ACH, NON, FWT, BOP
    payment_date: date | None = None
    amount: Decimal = money_field(ge_zero=False)
    sha256: str = Field(max_length=64)
    document_id: int | None = Field(default=None, foreign_key="document.id")
    # received → posted | exception
    status: str = Field(default="received", max_length=10)
    received_at: datetime = timestamp_field(default_now=True)
    posted_at: datetime | None = timestamp_field(nullable=True)


class ClaimPayment(SQLModel, table=True):
    """An 835 CLP loop, matched to a claim when it can be."""

    __tablename__ = "claim_payment"
    id: int | None = Field(default=None, primary_key=True)
    remittance_id: int = Field(foreign_key="remittance.id", index=True)
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    patient_control_number: str = Field(max_length=38)
    status_code: str = Field(max_length=2)  # CLP02
    charge: Decimal = money_field(ge_zero=False)
    paid: Decimal = money_field(ge_zero=False)
    patient_responsibility: Decimal = money_field(ge_zero=False)
    payer_claim_number: str | None = Field(default=None, max_length=50)


class ServicePayment(SQLModel, table=True):
    """An 835 SVC loop."""

    __tablename__ = "service_payment"
    id: int | None = Field(default=None, primary_key=True)
    claim_payment_id: int = Field(foreign_key="claim_payment.id", index=True)
    claim_line_id: int | None = Field(default=None, foreign_key="claim_line.id")
    procedure_code: str = Field(max_length=48)
    modifiers: list[str] = json_field(default_factory=list)
    charge: Decimal = money_field(ge_zero=False)
    paid: Decimal = money_field(ge_zero=False)
    units: Decimal | None = Field(default=None, max_digits=8, decimal_places=3)
    line_control_number: str | None = Field(default=None, max_length=50)


class Adjustment(SQLModel, table=True):
    """One CAS reason/amount/quantity, at claim or service level."""

    id: int | None = Field(default=None, primary_key=True)
    claim_payment_id: int = Field(foreign_key="claim_payment.id", index=True)
    service_payment_id: int | None = Field(default=None, foreign_key="service_payment.id")
    group_code: str = Field(max_length=2)  # CO, PR, OA, PI, CR
    reason_code: str = Field(max_length=5)  # CARC
    amount: Decimal = money_field(ge_zero=False)
    quantity: Decimal | None = Field(default=None, max_digits=15, decimal_places=3)


class RemarkCode(SQLModel, table=True):
    """A RARC (LQ*HE at service level, MIA/MOA at claim level)."""

    __tablename__ = "remark_code"
    id: int | None = Field(default=None, primary_key=True)
    claim_payment_id: int = Field(foreign_key="claim_payment.id", index=True)
    service_payment_id: int | None = Field(default=None, foreign_key="service_payment.id")
    code: str = Field(max_length=10)


class Denial(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    claim_payment_id: int | None = Field(default=None, foreign_key="claim_payment.id")
    group_code: str = Field(max_length=2)
    reason_code: str = Field(max_length=5)
    remark_codes: list[str] = json_field(default_factory=list)
    amount: Decimal = money_field(ge_zero=False)
    notice_date: date
    queue: str = Field(default="denials", max_length=30)
    # open → corrected | appealed | written_off | billed_patient | billed_secondary | closed
    status: str = Field(default="open", max_length=20, index=True)
    created_at: datetime = timestamp_field(default_now=True)


class Appeal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    denial_id: int = Field(foreign_key="denial.id", index=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    level: int = Field(ge=1, le=5)
    deadline: date
    channel: str | None = Field(default=None, max_length=12)  # electronic, fax, mail
    # The payer's id for an appeal filed electronically (to read its outcome).
    payer_appeal_id: str | None = Field(default=None, max_length=50)
    letter_document_id: int | None = Field(default=None, foreign_key="document.id")
    submitted_at: datetime | None = timestamp_field(nullable=True)
    # pending → overturned | partially_overturned | upheld
    outcome: str = Field(default="pending", max_length=24)
    decided_at: datetime | None = timestamp_field(nullable=True)
