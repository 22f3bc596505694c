"""Who bills and who pays: practices, providers, payers and fee schedules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import field_validator
from sqlmodel import Field, SQLModel, UniqueConstraint

from claimdesk.x12.npi import is_valid_npi
from models._fields import json_field, money_field, parse_money


def _check_npi(value: str | None) -> str | None:
    if value is not None and not is_valid_npi(value):
        raise ValueError("not a valid NPI (10 digits with a Luhn check digit over prefix 80840)")
    return value


class AddressMixin(SQLModel):
    address_line1: str = Field(default="", max_length=55)
    address_line2: str | None = Field(default=None, max_length=55)
    city: str = Field(default="", max_length=30)
    state: str = Field(default="", max_length=2)
    postal_code: str = Field(default="", max_length=15)


class PracticeBase(AddressMixin):
    name: str = Field(min_length=1, max_length=60)
    npi: str = Field(max_length=10)
    tin: str = Field(max_length=9, description="Employer identification number, digits only")
    taxonomy: str | None = Field(default=None, max_length=10)
    # Where payers send money when not to the address above (837P loop 2010AB); all None if so.
    pay_to_address_line1: str | None = Field(default=None, max_length=55)
    pay_to_address_line2: str | None = Field(default=None, max_length=55)
    pay_to_city: str | None = Field(default=None, max_length=30)
    pay_to_state: str | None = Field(default=None, max_length=2)
    pay_to_postal_code: str | None = Field(default=None, max_length=15)

    @field_validator("npi")
    @classmethod
    def _npi(cls, value: str) -> str | None:
        return _check_npi(value)


class Practice(PracticeBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


ProviderRole = Literal["billing", "rendering", "referring", "facility"]


class ProviderBase(AddressMixin):
    practice_id: int = Field(foreign_key="practice.id", index=True)
    role: str = Field(default="rendering", max_length=12)
    organization_name: str | None = Field(default=None, max_length=60)
    last_name: str | None = Field(default=None, max_length=60)
    first_name: str | None = Field(default=None, max_length=35)
    npi: str = Field(max_length=10, index=True)
    tin: str | None = Field(default=None, max_length=9)
    taxonomy: str | None = Field(default=None, max_length=10)

    @field_validator("npi")
    @classmethod
    def _npi(cls, value: str) -> str | None:
        return _check_npi(value)

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in ("billing", "rendering", "referring", "facility"):
            raise ValueError("role must be billing, rendering, referring or facility")
        return value


class Provider(ProviderBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class PayerBase(AddressMixin):
    name: str = Field(min_length=1, max_length=60)
    payer_id: str = Field(min_length=2, max_length=80, description="Payer's EDI id (NM109, 2010BB)")
    # medicare / medicaid / commercial: drives sequestration, appeal rules and COB defaults.
    kind: str = Field(default="commercial", max_length=12)
    # X12 claim filing indicator (SBR09): MB Medicare B, MC Medicaid, CI commercial, ...
    claim_filing_indicator: str = Field(default="CI", max_length=2)
    timely_filing_days: int = Field(default=365, gt=0)
    # [{"level": 1, "name": "redetermination", "window_days": 120, "clock_starts": "notice"}]
    appeal_levels: list[dict[str, Any]] = json_field(default_factory=list)
    accepts_replacement_claims: bool = True
    electronic_appeals: bool = False
    status_poll_interval_hours: int = Field(default=24, gt=0)
    # CPT/HCPCS codes that need a prior authorization on file.
    prior_auth_codes: list[str] = json_field(default_factory=list)
    # Endpoint, CORE sender/receiver ids, credential *reference* (never the secret itself).
    connectivity: dict[str, Any] = json_field(default_factory=dict)
    rate_limit_per_s: float = Field(default=10.0, gt=0)
    timeout_s: float = Field(default=20.0, gt=0)
    max_concurrency: int = Field(default=4, gt=0)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in ("medicare", "medicaid", "commercial"):
            raise ValueError("kind must be medicare, medicaid or commercial")
        return value


class Payer(PayerBase, table=True):
    __table_args__ = (UniqueConstraint("payer_id", name="uq_payer_payer_id"),)
    id: int | None = Field(default=None, primary_key=True)


class FeeScheduleBase(SQLModel):
    payer_id: int = Field(foreign_key="payer.id", index=True)
    code: str = Field(max_length=5)
    modifier: str | None = Field(default=None, max_length=2)
    effective_from: date
    effective_to: date | None = None
    expected_allowed: Decimal = money_field()

    @field_validator("expected_allowed", mode="before")
    @classmethod
    def _money(cls, value: object) -> object:
        return parse_money(value)


class FeeSchedule(FeeScheduleBase, table=True):
    __tablename__ = "fee_schedule"
    id: int | None = Field(default=None, primary_key=True)
