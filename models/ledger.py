"""The money ledger: every move of a claim's charge, and the provider-level (PLB) ledger.

Double entry on five accounts. A claim's charge enters ``insurance`` from
``charge``; payments move money to ``paid``, contractual adjustments and
write-offs to ``written_off``, patient responsibility from ``insurance`` to
``patient`` (and back, when a secondary payer takes it over). So at every moment

    charge = paid + written_off + open balance (insurance + patient)

The ledger account of a COB claim (secondary, tertiary) is its primary claim:
one encounter, one balance. Every row carries a ``source_key`` that is unique,
so posting the same remittance twice cannot post anything twice.
Patient payments (a later issue) are ``patient_payment`` rows from ``patient`` to ``paid``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from models._fields import money_field, timestamp_field

LEDGER_KINDS = ("charge", "payment", "adjustment", "write_off", "transfer", "patient_payment")
LEDGER_ACCOUNTS = ("charge", "insurance", "patient", "paid", "written_off")


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("source_key", name="uq_ledger_entry_source_key"),
        Index("ix_ledger_entry_claim_date", "claim_id", "effective_date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # The account: the primary claim of the encounter.
    claim_id: int = Field(foreign_key="claim.id")
    # The claim whose remittance or decision made the entry (a secondary claim, say).
    source_claim_id: int | None = Field(default=None, foreign_key="claim.id")
    kind: str = Field(max_length=16)
    from_account: str = Field(max_length=12)
    to_account: str = Field(max_length=12)
    # Signed: a reversal posts the same moves with negative amounts.
    amount: Decimal = money_field(ge_zero=False)
    # The payer that paid or adjusted; None for the patient.
    payer_id: int | None = Field(default=None, foreign_key="payer.id")
    group_code: str | None = Field(default=None, max_length=2)
    reason_code: str | None = Field(default=None, max_length=5)
    remittance_id: int | None = Field(default=None, foreign_key="remittance.id", index=True)
    claim_payment_id: int | None = Field(default=None, foreign_key="claim_payment.id")
    adjustment_id: int | None = Field(default=None, foreign_key="adjustment.id")
    denial_id: int | None = Field(default=None, foreign_key="denial.id")
    # The date the money moved (the 835's payment date), for A/R as of a date.
    effective_date: date
    source_key: str = Field(max_length=80)
    created_at: datetime = timestamp_field(default_now=True)


class ProviderLedgerEntry(SQLModel, table=True):
    """One PLB reason/amount: interest, withholds, forward balances, recoupments."""

    __tablename__ = "provider_ledger_entry"
    __table_args__ = (
        UniqueConstraint("remittance_id", "position", name="uq_provider_ledger_position"),
    )
    id: int | None = Field(default=None, primary_key=True)
    remittance_id: int = Field(foreign_key="remittance.id", index=True)
    payer_id: int | None = Field(default=None, foreign_key="payer.id")
    # 1-based among the remittance's PLB pairs.
    position: int = Field(ge=1)
    provider_identifier: str = Field(max_length=80)  # PLB01
    fiscal_period_date: date | None = None
    reason_code: str = Field(max_length=5)  # PLB03-1: L6 interest, WO, FB, 72, ...
    reference: str = Field(default="", max_length=50)  # PLB03-2
    # As on the wire: positive reduces the payment, negative (interest) adds to it.
    amount: Decimal = money_field(ge_zero=False)
    # What PLB03-2 names, when claimdesk knows it: an earlier remittance or a claim.
    linked_remittance_id: int | None = Field(default=None, foreign_key="remittance.id")
    linked_claim_id: int | None = Field(default=None, foreign_key="claim.id")
    created_at: datetime = timestamp_field(default_now=True)


class ClaimCrossover(SQLModel, table=True):
    """The primary payer forwarded the claim to the secondary (CLP02 19-21 or NM1*TT)."""

    __tablename__ = "claim_crossover"
    __table_args__ = (UniqueConstraint("claim_payment_id", name="uq_claim_crossover_payment"),)
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    claim_payment_id: int = Field(foreign_key="claim_payment.id")
    status_code: str = Field(max_length=2)  # CLP02
    # NM1*TT NM109 when the 835 names the crossover carrier.
    carrier_identifier: str | None = Field(default=None, max_length=80)
    created_at: datetime = timestamp_field(default_now=True)
