"""Who may do what with patient balances, payments, deposits and refunds.

Checked inside every service call, like ``claimdesk.access.permissions``: a page that
hides a button grants nothing. Kept here so the billing actions do not widen the queue's.
"""

from __future__ import annotations

from sqlmodel import Session

from claimdesk.access.permissions import SERVICE_ROLE, Actor, require_in, service_identity
from models import User

# Who the scheduled statements flow acts as (claimdesk.access.permissions.ServiceIdentity).
STATEMENTS_SERVICE = service_identity("statements")
DEPOSITS_SERVICE = service_identity("deposits")

BILLING_ACTIONS: dict[str, frozenset[str]] = {
    # Balances, statements, payments, deposits, refunds: PHI (names, amounts owed).
    "billing.view": frozenset({"specialist", "lead", "manager", "auditor", "admin"}),
    "billing.post": frozenset({"specialist", "lead"}),  # payments, plans, statements, deposits
    "billing.refund": frozenset({"specialist", "lead"}),  # money leaving the practice
    "billing.kpis": frozenset({"lead", "manager", "admin", "auditor"}),
    # The statement cycle and deposit matching: by hand, or by the scheduled flow.
    "billing.cycle": frozenset({"specialist", "lead", SERVICE_ROLE}),
    # A statement's stored PDF: the flow that wrote it may read it back.
    "billing.statement_pdf": frozenset(
        {"specialist", "lead", "manager", "auditor", "admin", SERVICE_ROLE}
    ),
}


def require_billing(user: User | Actor, action: str, *, session: Session | None = None) -> None:
    """Raise ``PermissionDenied`` unless ``user`` (active) may perform billing ``action``."""
    require_in(BILLING_ACTIONS, user, action, session=session)
