"""Patients, their coverages, appointments and authorizations (all PHI: stay in this database)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import field_validator, model_validator
from sqlmodel import Field, SQLModel, UniqueConstraint

from models._fields import json_field, timestamp_field
from models.reference import AddressMixin


class PatientBase(AddressMixin):
    practice_id: int = Field(foreign_key="practice.id", index=True)
    account_number: str = Field(min_length=1, max_length=30)
    last_name: str = Field(min_length=1, max_length=60)
    first_name: str = Field(min_length=1, max_length=35)
    birth_date: date
    gender: str = Field(default="U", max_length=1)
    phone: str | None = Field(default=None, max_length=20)
    # The patient's identifier in the practice's own record system (FHIR Patient.identifier
    # of type MR): how an import finds the same patient when the account number changed.
    medical_record_number: str | None = Field(default=None, max_length=40)

    @field_validator("gender")
    @classmethod
    def _gender(cls, value: str) -> str:
        if value not in ("F", "M", "U"):
            raise ValueError("gender must be F, M or U")
        return value


class Patient(PatientBase, table=True):
    __table_args__ = (
        UniqueConstraint("practice_id", "account_number", name="uq_patient_account"),
        UniqueConstraint("practice_id", "medical_record_number", name="uq_patient_mrn"),
    )
    id: int | None = Field(default=None, primary_key=True)


# X12 individual relationship codes (SBR02 / PAT01): 18 self, 01 spouse, 19 child, G8 other.
RELATIONSHIP_CODES = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}


class CoverageBase(SQLModel):
    patient_id: int = Field(foreign_key="patient.id", index=True)
    payer_id: int = Field(foreign_key="payer.id", index=True)
    member_id: str = Field(min_length=1, max_length=80)
    group_number: str | None = Field(default=None, max_length=50)
    plan_name: str | None = Field(default=None, max_length=60)
    relationship: str = Field(default="self", max_length=8)
    # Subscriber's own details when the patient is a dependent.
    subscriber_last_name: str | None = Field(default=None, max_length=60)
    subscriber_first_name: str | None = Field(default=None, max_length=35)
    subscriber_birth_date: date | None = None
    effective_from: date
    effective_to: date | None = None
    # 1 primary, 2 secondary, 3 tertiary.
    coverage_order: int = Field(default=1, ge=1, le=3)
    verified_at: datetime | None = timestamp_field(nullable=True)

    @field_validator("relationship")
    @classmethod
    def _relationship(cls, value: str) -> str:
        if value not in RELATIONSHIP_CODES:
            raise ValueError(f"relationship must be one of {', '.join(RELATIONSHIP_CODES)}")
        return value

    @model_validator(mode="after")
    def _dates(self) -> CoverageBase:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self


class Coverage(CoverageBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class AppointmentBase(SQLModel):
    patient_id: int = Field(foreign_key="patient.id", index=True)
    provider_id: int = Field(foreign_key="provider.id")
    scheduled_at: datetime = timestamp_field(index=True)
    status: str = Field(default="scheduled", max_length=12)
    reason: str | None = Field(default=None, max_length=120)


class Appointment(AppointmentBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class AuthorizationBase(SQLModel):
    patient_id: int = Field(foreign_key="patient.id", index=True)
    payer_id: int = Field(foreign_key="payer.id")
    # prior_auth → REF*G1, referral → REF*9F on the 837.
    kind: str = Field(default="prior_auth", max_length=10)
    number: str = Field(min_length=1, max_length=50)
    codes: list[str] = json_field(default_factory=list)
    valid_from: date
    valid_to: date
    units: int | None = Field(default=None, ge=0)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in ("prior_auth", "referral"):
            raise ValueError("kind must be prior_auth or referral")
        return value


class Authorization(AuthorizationBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
