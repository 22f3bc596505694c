"""Claims, their service lines and diagnoses."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import field_validator, model_validator
from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from claimdesk.claims.status import ClaimStatus
from models._fields import json_field, money_field, parse_money, timestamp_field
from models.types import utcnow


class ClaimBase(SQLModel):
    practice_id: int = Field(foreign_key="practice.id")
    patient_id: int = Field(foreign_key="patient.id", index=True)
    coverage_id: int = Field(foreign_key="coverage.id")
    payer_id: int = Field(foreign_key="payer.id", index=True)
    billing_provider_id: int = Field(foreign_key="provider.id")
    rendering_provider_id: int | None = Field(default=None, foreign_key="provider.id")
    authorization_id: int | None = Field(default=None, foreign_key="authorization.id")
    # P professional (837P), I institutional (837I).
    kind: str = Field(default="P", max_length=1)
    # CLM01: unique per practice, at most 20 characters on the wire.
    patient_control_number: str = Field(min_length=1, max_length=20)
    # Rises with each corrected resubmission; REF*D9 carries "<id>-v<version>".
    version: int = Field(default=1, ge=1)
    # CLM05-3: 1 original, 7 replacement, 8 void.
    frequency_code: str = Field(default="1", max_length=1)
    original_payer_claim_number: str | None = Field(default=None, max_length=50)
    payer_claim_number: str | None = Field(default=None, max_length=50)
    place_of_service: str = Field(default="11", max_length=2)
    # 837I type of bill facility code (CLM05-1), e.g. "13" hospital outpatient.
    facility_type_code: str | None = Field(default=None, max_length=2)
    # 837I beyond the bill type: admission, patient status, UB-04 codes, operating physicians
    # (keys and checks in claimdesk.claims.institutional); {} on a professional claim.
    institutional: dict[str, Any] = json_field(default_factory=dict)
    service_from: date
    service_to: date
    total_charge: Decimal = money_field()
    # Which coverage this claim bills: 1 primary, 2 secondary, 3 tertiary.
    coverage_order: int = Field(default=1, ge=1, le=3)
    # The primary's claim this secondary claim follows (COB).
    primary_claim_id: int | None = Field(default=None, foreign_key="claim.id")
    status: str = Field(default=ClaimStatus.DRAFT.value, max_length=20)

    @field_validator("total_charge", mode="before")
    @classmethod
    def _money(cls, value: object) -> object:
        return parse_money(value)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in ("P", "I"):
            raise ValueError("kind must be P (professional) or I (institutional)")
        return value

    @field_validator("frequency_code")
    @classmethod
    def _frequency(cls, value: str) -> str:
        if value not in ("1", "7", "8"):
            raise ValueError("frequency_code must be 1 (original), 7 (replacement) or 8 (void)")
        return value

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        try:
            return ClaimStatus(value).value
        except ValueError:
            raise ValueError(f"unknown claim status {value!r}") from None

    @model_validator(mode="after")
    def _consistency(self) -> ClaimBase:
        if self.service_to < self.service_from:
            raise ValueError("service_to is before service_from")
        if self.frequency_code in ("7", "8") and not self.original_payer_claim_number:
            raise ValueError(
                "a replacement (7) or void (8) claim needs original_payer_claim_number (REF*F8)"
            )
        return self


class Claim(ClaimBase, table=True):
    __table_args__ = (
        UniqueConstraint("practice_id", "patient_control_number", name="uq_claim_pcn"),
        Index("ix_claim_status_payer", "status", "payer_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_field(default_now=True)
    status_changed_at: datetime = timestamp_field(default_now=True)
    updated_at: datetime = timestamp_field(default_now=True, sa_column_kwargs={"onupdate": utcnow})


class ClaimLineBase(SQLModel):
    claim_id: int = Field(foreign_key="claim.id", index=True)
    line_number: int = Field(ge=1, le=50)
    # HC (CPT/HCPCS) on 837P; 837I lines also carry a revenue code.
    procedure_code: str = Field(min_length=5, max_length=5)
    modifiers: list[str] = json_field(default_factory=list)
    diagnosis_pointers: list[int] = json_field(default_factory=list)
    revenue_code: str | None = Field(default=None, max_length=4)
    units: Decimal = Field(default=Decimal(1), gt=0, max_digits=8, decimal_places=3)
    charge: Decimal = money_field()
    service_date: date
    service_date_to: date | None = None
    # REF*6R: unique on the wire so 835 service lines match back exactly.
    line_control_number: str = Field(min_length=1, max_length=30)

    @field_validator("charge", mode="before")
    @classmethod
    def _money(cls, value: object) -> object:
        return parse_money(value)

    @field_validator("modifiers")
    @classmethod
    def _modifiers(cls, value: list[str]) -> list[str]:
        if len(value) > 4:
            raise ValueError("at most 4 modifiers")
        if any(len(m) != 2 or not m.isalnum() for m in value):
            raise ValueError("a modifier is two letters or digits")
        return value

    @field_validator("diagnosis_pointers")
    @classmethod
    def _pointers(cls, value: list[int]) -> list[int]:
        if not 1 <= len(value) <= 4 or any(not 1 <= p <= 12 for p in value):
            raise ValueError("1 to 4 diagnosis pointers, each between 1 and 12")
        return value


class ClaimLine(ClaimLineBase, table=True):
    __tablename__ = "claim_line"
    __table_args__ = (
        UniqueConstraint("claim_id", "line_number", name="uq_claim_line_number"),
        UniqueConstraint("line_control_number", name="uq_claim_line_control_number"),
    )
    id: int | None = Field(default=None, primary_key=True)


class DiagnosisBase(SQLModel):
    claim_id: int = Field(foreign_key="claim.id", index=True)
    position: int = Field(ge=1, le=12)
    # ICD-10-CM without the dot, as on the wire (e.g. E119).
    code: str = Field(min_length=3, max_length=7)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        value = value.replace(".", "").upper()
        if not value.isalnum():
            raise ValueError("an ICD-10-CM code holds letters and digits only")
        return value


class Diagnosis(DiagnosisBase, table=True):
    __table_args__ = (UniqueConstraint("claim_id", "position", name="uq_diagnosis_position"),)
    id: int | None = Field(default=None, primary_key=True)
