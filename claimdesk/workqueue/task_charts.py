"""The task page's pictures as data: the claim's timeline by lane, and its money as steps.

Both are read from the ``TaskView`` the page already has (one audited read): the timeline
from its entries, the money from the encounter's ledger balance (``claims.ledger``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from claimdesk.claims.ledger import ClaimBalance
from claimdesk.workqueue.task_view import TaskView, TimelineEntry

# Top to bottom, in the claim's order.
LANES = (
    "Eligibility",
    "Sent",
    "Acknowledged",
    "Status answers",
    "Paid / denied",
    "People",
    "Workflow",
)
_TO = re.compile(r"\bto=([a-z_]+)")
_STATUS_LANE = {
    "eligibility_hold": "Eligibility",
    "ready": "Eligibility",
    "queued": "Sent",
    "sent": "Sent",
    "accepted": "Acknowledged",
    "rejected": "Acknowledged",
    "pending": "Status answers",
}
_TRANSACTION_LANE = (
    ("270/271", "Eligibility"),
    ("837", "Sent"),
    ("276/277", "Status answers"),
)


@dataclass(frozen=True)
class TimelinePoint:
    at: datetime
    lane: str
    label: str
    who: str


def _lane(entry: TimelineEntry) -> str:
    if entry.source in ("decision", "comment"):
        return "People"
    if entry.source == "flow":
        return "Workflow"
    if entry.source == "transaction":
        lanes = (lane for prefix, lane in _TRANSACTION_LANE if entry.text.startswith(prefix))
        return next(lanes, "Sent")
    found = _TO.search(entry.text)
    if entry.text.startswith("claim.status_changed") and found:
        return _STATUS_LANE.get(found.group(1), "Paid / denied")
    if entry.text.startswith(("remittance.", "denial.", "refund.", "patient_payment.")):
        return "Paid / denied"
    if entry.actor and not entry.actor.startswith("system:"):
        return "People"  # a person's step (claimed, attached, reassigned …)
    return "Workflow"


def timeline_points(view: TaskView) -> list[TimelinePoint]:
    """Every timeline entry on its lane, oldest first."""
    return sorted(
        (
            TimelinePoint(e.at, _lane(e), e.text[:120], e.actor or "claimdesk")
            for e in view.timeline
        ),
        key=lambda p: p.at,
    )


@dataclass(frozen=True)
class MoneyStep:
    """One bar of the waterfall: a total from zero, or a change from the running amount."""

    label: str
    start: Decimal
    end: Decimal
    total: bool  # a level (charge, allowed, still open) rather than a change

    @property
    def amount(self) -> Decimal:
        return self.end - self.start


def money_steps(balance: ClaimBalance) -> list[MoneyStep]:
    """Charge → contractual → allowed → written off → paid → the patient's → still open.

    The steps follow the ledger's identity (charge = payments + write-offs + open balance),
    so the running amount ends at what insurance still owes.
    """
    steps = [MoneyStep("Charge", Decimal(0), balance.charge, True)]
    running = balance.charge
    allowed = balance.charge - balance.contractual
    steps.append(MoneyStep("Contractual adjustments", running, allowed, False))
    steps.append(MoneyStep("Allowed", Decimal(0), allowed, True))
    running = allowed
    for label, amount in (
        ("Written off", balance.written_off),
        ("Paid by payers", balance.paid_by_payers),
        ("Paid by the patient", balance.paid_by_patient),
        ("Patient owes", balance.patient_balance),
    ):
        steps.append(MoneyStep(label, running, running - amount, False))
        running -= amount
    if running != balance.insurance_balance:  # the identity is broken: show it, do not hide it
        steps.append(MoneyStep("Not explained", running, balance.insurance_balance, False))
    steps.append(MoneyStep("Insurance still owes", Decimal(0), balance.insurance_balance, True))
    return steps


def task_money(view: TaskView) -> list[MoneyStep]:
    return money_steps(view.balance) if view.balance is not None else []
