"""Appeal overturn rates per payer × CARC, from the office's own decided appeals, and the
chance of winning that weighs a denial's dollars in the queue's priority.

A decided appeal is overturned, partially overturned (both won) or upheld. The chance is
``(won + 1) / (decided + 1)``: one imaginary win, so a payer × CARC never appealed ranks
by its dollars alone (chance 1), one whose appeals were upheld four times in four ranks
at a fifth of them, and three wins in four at four fifths.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from models import Appeal, Claim, Denial

WON = ("overturned", "partially_overturned")
DECIDED = (*WON, "upheld")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class OverturnRate:
    won: int
    decided: int

    @property
    def chance(self) -> Decimal:
        return (Decimal(self.won + 1) / Decimal(self.decided + 1)).quantize(Decimal("0.0001"))


NO_HISTORY = OverturnRate(0, 0)


def overturn_rates(
    session: Session, *, payer_id: int | None = None
) -> dict[tuple[int, str], OverturnRate]:
    """(payer row id, "CO-50") → its decided appeals (every payer's, or ``payer_id``'s)."""
    query = (
        select(Appeal.outcome, Denial.group_code, Denial.reason_code, Claim.payer_id)
        .join(Denial, col(Denial.id) == col(Appeal.denial_id))
        .join(Claim, col(Claim.id) == col(Denial.claim_id))
        .where(col(Appeal.outcome).in_(DECIDED))
    )
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    counts: dict[tuple[int, str], list[int]] = {}
    for outcome, group, reason, payer in session.exec(query).all():
        won_decided = counts.setdefault((payer, f"{group}-{reason}"), [0, 0])
        won_decided[0] += int(outcome in WON)
        won_decided[1] += 1
    return {key: OverturnRate(won, decided) for key, (won, decided) in counts.items()}


def chance_of_winning(
    rates: dict[tuple[int, str], OverturnRate], payer_id: int, group: str, reason: str
) -> Decimal:
    return rates.get((payer_id, f"{group}-{reason}"), NO_HISTORY).chance


def weighted_amount(amount: Decimal, chance: Decimal) -> Decimal:
    """Dollars × chance of winning: what working the denial is expected to bring back."""
    return (amount * chance).quantize(CENT)
