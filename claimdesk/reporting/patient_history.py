"""One patient's balance and its ageing over time, read from the detail page's ledger.

Pure: the entries come from ``billing.views.read_patient_detail`` (one audited read), so
the pictures show exactly what the tables below them list.

- **Balance over time**: after each day with a ledger move, what the patient owes and
  what insurance still owes, over all their encounters. A claim nothing was posted to
  yet owes its charge to insurance from its date of service (as ``claim_balance`` says).
- **Ageing over time**: at each month's end, the patient's open balance by age
  (30/60/90/120 days), aged per encounter from the day part of it first became the
  patient's (as ``billing.collections`` ages it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from claimdesk.billing.collections import BUCKETS, age_bucket
from claimdesk.billing.views import LedgerLine, PatientDetail

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class BalancePoint:
    day: date
    patient: Decimal
    insurance: Decimal


@dataclass(frozen=True)
class AgeingPoint:
    month_end: date
    bucket: str
    dollars: Decimal


def _moves(detail: PatientDetail) -> list[LedgerLine]:
    """The ledger plus the implied charge of encounters nothing was posted to yet."""
    charged = {e.claim_id for e in detail.ledger if e.kind == "charge"}
    implied = [
        LedgerLine(
            0, c.claim_id, c.service_from, "charge", "charge", "insurance", c.balance.charge, ""
        )
        for c in detail.claims
        if c.claim_id not in charged and c.balance.charge
    ]
    return sorted([*detail.ledger, *implied], key=lambda e: (e.effective_date, e.entry_id))


def balance_history(detail: PatientDetail, *, as_of: date) -> list[BalancePoint]:
    balances = {"patient": ZERO, "insurance": ZERO}
    by_day: dict[date, BalancePoint] = {}
    for entry in _moves(detail):
        if entry.effective_date > as_of:
            break
        for account, sign in ((entry.from_account, -1), (entry.to_account, 1)):
            if account in balances:
                balances[account] += sign * entry.amount
        by_day[entry.effective_date] = BalancePoint(
            entry.effective_date, balances["patient"], balances["insurance"]
        )
    if by_day and as_of not in by_day:
        by_day[as_of] = BalancePoint(as_of, balances["patient"], balances["insurance"])
    return list(by_day.values())


def _month_ends(first: date, last: date) -> list[date]:
    ends: list[date] = []
    month = first.replace(day=1)
    while month <= last:
        following = (month + timedelta(days=32)).replace(day=1)
        ends.append(min(following - timedelta(days=1), last))
        month = following
    return ends


def ageing_history(detail: PatientDetail, *, as_of: date, months: int = 12) -> list[AgeingPoint]:
    moves = [e for e in _moves(detail) if e.effective_date <= as_of]
    if not moves:
        return []
    start = max(moves[0].effective_date, (as_of - timedelta(days=31 * (months - 1))).replace(day=1))
    points: list[AgeingPoint] = []
    for end in _month_ends(start, as_of):
        owed: dict[int, Decimal] = defaultdict(lambda: ZERO)
        since: dict[int, date] = {}
        for entry in moves:
            if entry.effective_date > end:
                break
            if entry.to_account == "patient":
                owed[entry.claim_id] += entry.amount
                if entry.from_account == "insurance" and entry.amount > 0:
                    since.setdefault(entry.claim_id, entry.effective_date)
            if entry.from_account == "patient":
                owed[entry.claim_id] -= entry.amount
        buckets = dict.fromkeys(BUCKETS, ZERO)
        for account, amount in owed.items():
            if amount > 0:
                arose = since.get(account, end)
                buckets[age_bucket((end - arose).days)] += amount
        points.extend(AgeingPoint(end, bucket, dollars) for bucket, dollars in buckets.items())
    return points
