"""Who may do what with patient balances, payments, deposits and refunds.

Checked inside every service call, like ``claimdesk.access.permissions``: a page that
hides a button grants nothing. Kept here so the billing actions do not widen the queue's.
"""

from __future__ import annotations

from claimdesk.access.permissions import require_in
from models import User

BILLING_ACTIONS: dict[str, frozenset[str]] = {
    # Balances, statements, payments, deposits, refunds: PHI (names, amounts owed).
    "billing.view": frozenset({"specialist", "lead", "manager", "auditor", "admin"}),
    "billing.post": frozenset({"specialist", "lead"}),  # payments, plans, statements, deposits
    "billing.refund": frozenset({"specialist", "lead"}),  # money leaving the practice
    "billing.kpis": frozenset({"lead", "manager", "admin", "auditor"}),
}


def require_billing(user: User, action: str) -> None:
    """Raise ``PermissionDenied`` unless ``user`` (active) may perform billing ``action``."""
    require_in(BILLING_ACTIONS, user, action)
