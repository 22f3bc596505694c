"""Who may do what. Checked again here on every call: a hidden button is not a permission."""

from __future__ import annotations

from claimdesk.errors import PermissionDenied
from models import User

# action → roles allowed to perform it.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "task.view": frozenset({"specialist", "lead", "manager", "auditor", "admin"}),
    "task.claim": frozenset({"specialist", "lead"}),
    "task.resolve": frozenset({"specialist", "lead"}),
    "task.reassign": frozenset({"lead", "manager", "admin"}),
    "task.comment": frozenset({"specialist", "lead", "manager"}),
    "claim.view_phi": frozenset({"specialist", "lead", "manager", "auditor", "admin"}),
    "dashboard.view": frozenset({"lead", "manager", "admin", "auditor"}),
    "user.manage": frozenset({"admin"}),
}


def require(user: User, action: str) -> None:
    """Raise ``PermissionDenied`` unless ``user`` (active) may perform ``action``."""
    require_in(ROLE_ACTIONS, user, action)


def require_in(table: dict[str, frozenset[str]], user: User, action: str) -> None:
    """``require`` against another table of actions (the billing actions keep their own)."""
    allowed = table.get(action)
    if allowed is None:
        raise PermissionDenied(f"unknown action {action!r}")
    if not user.active or user.role not in allowed:
        raise PermissionDenied(
            f"user {user.username!r} with role {user.role!r} may not {action}; "
            f"allowed roles: {', '.join(sorted(allowed))}."
        )
