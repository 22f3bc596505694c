"""Patient-side KPIs for the manager dashboard: patient A/R ageing, collections per month,
deposit reconciliation, refunds pending. Aggregates only (no PHI); role checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, type_coerce
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access.auth import load_active_user
from claimdesk.billing.collections import BUCKETS, age_patient_balances
from claimdesk.billing.roles import require_billing
from claimdesk.claims.ledger import ZERO
from claimdesk.db import session_scope
from models import Deposit, DepositMatch, Refund, Remittance
from models.ledger import LedgerEntry
from models.types import Money


@dataclass(frozen=True)
class DepositReconciliation:
    matched_count: int
    matched_amount: Decimal
    unmatched_deposits_count: int
    unmatched_deposits_amount: Decimal
    mismatched_count: int
    unmatched_835_count: int
    unmatched_835_amount: Decimal


@dataclass(frozen=True)
class PatientKpis:
    as_of: date
    ageing: dict[str, Decimal]  # bucket → open patient balance
    patients_owing: int
    collections_by_month: list[tuple[str, Decimal]]  # (YYYY-MM, net patient payments)
    deposits: DepositReconciliation
    refunds_pending_count: int
    refunds_pending_amount: Decimal


def patient_ar_ageing(session: Session, *, as_of: date) -> tuple[dict[str, Decimal], int]:
    totals = dict.fromkeys(BUCKETS, ZERO)
    ageing = age_patient_balances(session, as_of=as_of)
    for patient in ageing:
        for bucket, amount in patient.buckets.items():
            totals[bucket] += amount
    return totals, len(ageing)


def collections_per_month(session: Session, *, as_of: date) -> list[tuple[str, Decimal]]:
    """Patient payments (net of patient refunds) per calendar month, up to ``as_of``."""
    totals: dict[str, Decimal] = {}
    rows = session.exec(
        select(col(LedgerEntry.effective_date), col(LedgerEntry.amount)).where(
            LedgerEntry.kind == "patient_payment", LedgerEntry.effective_date <= as_of
        )
    ).all()
    for day, amount in rows:
        key = f"{day:%Y-%m}"
        totals[key] = totals.get(key, ZERO) + amount
    return sorted(totals.items())


def deposit_reconciliation(session: Session) -> DepositReconciliation:
    """Counts and amounts as they stand (the review queue holds the aged exceptions)."""

    def total(query: object) -> tuple[int, Decimal]:
        count, amount = session.exec(query).one()  # type: ignore[call-overload]
        return int(count or 0), amount or ZERO

    money = type_coerce(func.sum(Deposit.amount), Money)
    matched = total(
        select(func.count(), money).join(
            DepositMatch, col(DepositMatch.deposit_id) == col(Deposit.id)
        )
    )
    unmatched = total(
        select(func.count(), money).where(col(Deposit.status).in_(("unmatched", "mismatch")))
    )
    mismatched, _ = total(select(func.count(), money).where(Deposit.status == "mismatch"))
    remit_money = type_coerce(func.sum(Remittance.amount), Money)
    missing = total(
        select(func.count(), remit_money).where(
            col(Remittance.amount) > 0,
            Remittance.payment_method != "NON",
            Remittance.status != "exception",
            col(Remittance.id).not_in(select(DepositMatch.remittance_id)),
        )
    )
    return DepositReconciliation(
        matched[0], matched[1], unmatched[0], unmatched[1], mismatched, missing[0], missing[1]
    )


def refunds_pending(session: Session) -> tuple[int, Decimal]:
    count, amount = session.exec(
        select(func.count(), type_coerce(func.sum(Refund.amount), Money)).where(
            Refund.status == "pending"
        )
    ).one()
    return int(count or 0), amount or ZERO


def compute_patient_kpis(session: Session, *, as_of: date) -> PatientKpis:
    ageing, owing = patient_ar_ageing(session, as_of=as_of)
    count, amount = refunds_pending(session)
    return PatientKpis(
        as_of=as_of,
        ageing=ageing,
        patients_owing=owing,
        collections_by_month=collections_per_month(session, as_of=as_of),
        deposits=deposit_reconciliation(session),
        refunds_pending_count=count,
        refunds_pending_amount=amount,
    )


def read_patient_kpis(engine: Engine, *, username: str, as_of: date) -> PatientKpis:
    """The dashboard's patient-side numbers for a signed-in user (lead, manager, admin, auditor)."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require_billing(user, "billing.kpis")
        return compute_patient_kpis(session, as_of=as_of)
