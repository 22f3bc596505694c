"""The patient side of the money and the bank: statements, patient payments and receipts,
payment plans, deposits matched to 835s, and refunds of credit balances.

Every row says who made it and when; money moves themselves live in the ledger
(``models.ledger``): a patient payment is a ``patient_payment`` entry per claim it is
applied to, a refund a signed reversal of the payment it returns. These tables
hold what the ledger does not: the payment as the patient handed it over, what
each statement showed, which bank deposit carried which 835.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from models._fields import json_field, money_field, timestamp_field

PAYMENT_METHODS = ("cash", "check", "card")
PLAN_STATUSES = ("active", "completed", "cancelled")
INSTALLMENT_STATUSES = ("due", "paid", "missed", "waived")
DEPOSIT_STATUSES = ("unmatched", "matched", "mismatch", "dismissed")
REFUND_PAYEES = ("payer", "patient")
REFUND_STATUSES = ("pending", "posted", "dismissed")


class PatientStatement(SQLModel, table=True):
    """One statement sent to a patient: the amount due and the claims it showed."""

    __tablename__ = "patient_statement"
    # One statement per patient and day: a re-run of the cycle finds it instead.
    __table_args__ = (
        UniqueConstraint("patient_id", "statement_date", name="uq_patient_statement_day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    practice_id: int = Field(foreign_key="practice.id")
    statement_date: date
    amount_due: Decimal = money_field(ge_zero=False)
    claim_ids: list[int] = json_field(default_factory=list)
    document_id: int | None = Field(default=None, foreign_key="document.id")
    created_by: str = Field(max_length=60)
    created_at: datetime = timestamp_field(default_now=True)


class PatientStatementLine(SQLModel, table=True):
    """One claim on a statement, as it was shown (later postings do not change it)."""

    __tablename__ = "patient_statement_line"
    __table_args__ = (
        UniqueConstraint("statement_id", "claim_id", name="uq_patient_statement_line"),
    )
    id: int | None = Field(default=None, primary_key=True)
    statement_id: int = Field(foreign_key="patient_statement.id", index=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    service_date: date
    description: str = Field(max_length=120)
    billed: Decimal = money_field(ge_zero=False)
    insurance_paid: Decimal = money_field(ge_zero=False)
    adjustments: Decimal = money_field(ge_zero=False)
    # Patient responsibility in the payer's words: PR-1, PR-2, PR-3 and any other PR.
    deductible: Decimal = money_field(ge_zero=False)
    coinsurance: Decimal = money_field(ge_zero=False)
    copay: Decimal = money_field(ge_zero=False)
    other_patient: Decimal = money_field(ge_zero=False)
    patient_paid: Decimal = money_field(ge_zero=False)
    amount_due: Decimal = money_field(ge_zero=False)


class PatientPayment(SQLModel, table=True):
    """Money a patient handed over, as handed over; ``unapplied`` is left on account."""

    __tablename__ = "patient_payment"
    __table_args__ = (UniqueConstraint("source_key", name="uq_patient_payment_source_key"),)
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    method: str = Field(max_length=5)  # cash / check / card
    # Check number or card authorisation reference; never a card number.
    reference: str | None = Field(default=None, max_length=40)
    amount: Decimal = money_field()
    unapplied: Decimal = money_field()
    received_on: date
    # The caller's idempotency key (a till's transaction id): a retried post finds the first.
    source_key: str = Field(max_length=80)
    plan_id: int | None = Field(default=None, foreign_key="payment_plan.id")
    posted_by: str = Field(max_length=60)
    created_at: datetime = timestamp_field(default_now=True)


class PaymentReceipt(SQLModel, table=True):
    """The receipt handed to the patient (its PDF in the document store)."""

    __tablename__ = "payment_receipt"
    __table_args__ = (
        UniqueConstraint("payment_id", name="uq_payment_receipt_payment"),
        UniqueConstraint("receipt_number", name="uq_payment_receipt_number"),
    )
    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="patient_payment.id")
    receipt_number: str = Field(max_length=20)
    document_id: int | None = Field(default=None, foreign_key="document.id")
    issued_by: str = Field(max_length=60)
    issued_at: datetime = timestamp_field(default_now=True)


class PatientPaymentAllocation(SQLModel, table=True):
    """The part of a payment applied to one claim (one ``patient_payment`` ledger entry)."""

    __tablename__ = "patient_payment_allocation"
    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="patient_payment.id", index=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    amount: Decimal = money_field()
    ledger_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id")
    created_at: datetime = timestamp_field(default_now=True)


class PaymentPlan(SQLModel, table=True):
    __tablename__ = "payment_plan"
    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    total_amount: Decimal = money_field()
    installment_amount: Decimal = money_field()
    cadence_days: int = Field(ge=1, le=366)
    start_date: date
    next_due_date: date | None = None
    status: str = Field(default="active", max_length=10, index=True)
    created_by: str = Field(max_length=60)
    created_at: datetime = timestamp_field(default_now=True)


class PaymentPlanInstallment(SQLModel, table=True):
    __tablename__ = "payment_plan_installment"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_plan_installment_number"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="payment_plan.id", index=True)
    number: int = Field(ge=1)
    due_date: date
    amount: Decimal = money_field()
    paid_amount: Decimal = money_field(default=Decimal("0.00"))
    status: str = Field(default="due", max_length=8)
    review_task_id: int | None = Field(default=None, foreign_key="review_task.id")
    updated_at: datetime = timestamp_field(default_now=True)


class Deposit(SQLModel, table=True):
    """One line of the bank statement: money that reached the bank."""

    __tablename__ = "deposit"
    # The same bank line imported twice (the same file, or overlapping exports) is one deposit.
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_deposit_dedupe_key"),)
    id: int | None = Field(default=None, primary_key=True)
    bank_date: date
    amount: Decimal = money_field(ge_zero=False)
    trace_number: str = Field(max_length=50, index=True)  # the 835's TRN02 (check or EFT)
    payer_name: str = Field(default="", max_length=60)
    reference: str = Field(default="", max_length=80)
    source_file: str = Field(max_length=200)
    source_sha256: str = Field(max_length=64)
    source_row: int = Field(ge=1)
    dedupe_key: str = Field(max_length=200)
    status: str = Field(default="unmatched", max_length=10, index=True)
    imported_by: str = Field(max_length=60)
    created_at: datetime = timestamp_field(default_now=True)


class DepositMatch(SQLModel, table=True):
    """A deposit reassociated with its 835: each side at most once (database constraints)."""

    __tablename__ = "deposit_match"
    __table_args__ = (
        UniqueConstraint("deposit_id", name="uq_deposit_match_deposit"),
        UniqueConstraint("remittance_id", name="uq_deposit_match_remittance"),
    )
    id: int | None = Field(default=None, primary_key=True)
    deposit_id: int = Field(foreign_key="deposit.id")
    remittance_id: int = Field(foreign_key="remittance.id")
    # Deposit minus BPR02: zero for an automatic match; a person may accept a difference.
    difference: Decimal = money_field(ge_zero=False, default=Decimal("0.00"))
    matched_by: str = Field(max_length=60)
    created_at: datetime = timestamp_field(default_now=True)


class Refund(SQLModel, table=True):
    """A credit balance to give back, to the payer or to the patient."""

    __tablename__ = "refund"
    __table_args__ = (
        UniqueConstraint("review_task_id", name="uq_refund_review_task"),
        Index("ix_refund_status", "status", "deadline"),
    )
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)  # the ledger account
    payee: str = Field(max_length=8)  # payer / patient
    payer_id: int | None = Field(default=None, foreign_key="payer.id")
    patient_id: int = Field(foreign_key="patient.id")
    amount: Decimal = money_field()
    reason: str = Field(max_length=200)
    identified_on: date
    # Medicare-like payers: report and return within 60 days of identification.
    deadline: date | None = None
    status: str = Field(default="pending", max_length=10)
    review_task_id: int | None = Field(default=None, foreign_key="review_task.id")
    ledger_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id")
    method: str | None = Field(default=None, max_length=10)
    reference: str | None = Field(default=None, max_length=40)
    details: dict[str, Any] = json_field()
    created_by: str = Field(max_length=60)
    created_at: datetime = timestamp_field(default_now=True)
    posted_by: str | None = Field(default=None, max_length=60)
    posted_at: datetime | None = timestamp_field(nullable=True)
