"""Which pages each role gets (the services check every action again)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claimdesk.access.permissions import ROLE_ACTIONS
from claimdesk.billing.roles import BILLING_ACTIONS

UI_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    url_path: str
    icon: str
    action: str


QUEUE = PageSpec("pages/queue_page.py", "Work queue", "queue", ":material/inbox:", "task.view")
TASK = PageSpec("pages/task_page.py", "Task", "task", ":material/assignment:", "task.view")
REASSIGN = PageSpec(
    "pages/reassign_page.py", "Reassign", "reassign", ":material/swap_horiz:", "task.reassign"
)
DASHBOARD = PageSpec(
    "pages/dashboard_page.py", "Dashboard", "dashboard", ":material/monitoring:", "dashboard.view"
)
USERS = PageSpec("pages/users_page.py", "Users", "users", ":material/group:", "user.manage")
# Posting money by hand: the roles that may comment on tasks (specialist, lead, manager).
PAPER_EOB = PageSpec(
    "pages/paper_eob_page.py", "Paper EOB", "paper-eob", ":material/receipt:", "task.comment"
)
COVERAGE = PageSpec(
    "pages/coverage_page.py", "Coverage", "coverage", ":material/health_and_safety:",
    "claim.view_phi",
)  # fmt: skip
# 835s in, 837s out and their acknowledgements, as files for portals (same roles as paper EOBs).
PORTAL_FILES = PageSpec(
    "pages/remittances_page.py", "Portal files", "portal-files", ":material/upload_file:",
    "task.comment",
)  # fmt: skip
# Scrub rules learned from the office's own denials: leads decide, managers read.
SUGGESTIONS = PageSpec(
    "pages/suggestions_page.py", "Suggestions", "suggestions", ":material/lightbulb:",
    "rules.view",
)  # fmt: skip
# The office's own data (claimdesk.intake.office_edit): admins, like the Users page.
ADMIN_PRACTICE = PageSpec(
    "pages/admin_practice_page.py", "Practice", "admin-practice", ":material/domain:",
    "office.manage",
)  # fmt: skip
ADMIN_PAYERS = PageSpec(
    "pages/admin_payers_page.py", "Payers", "admin-payers", ":material/account_balance:",
    "office.manage",
)  # fmt: skip
ADMIN_FEES = PageSpec(
    "pages/admin_fees_page.py", "Fee schedules", "admin-fees", ":material/request_quote:",
    "office.manage",
)  # fmt: skip
# A visit's charges keyed as a draft claim (claimdesk.intake.charge_entry).
CHARGE_ENTRY = PageSpec(
    "pages/charge_entry_page.py", "Charge entry", "charge-entry", ":material/add_card:",
    "claim.create",
)  # fmt: skip
# Patients and claims by name, account, member id or claim number (claimdesk.reporting.search).
SEARCH = PageSpec(
    "pages/search_page.py", "Search", "search", ":material/search:", "phi.search"
)  # fmt: skip
ALL_PAGES = (
    QUEUE, TASK, REASSIGN, DASHBOARD, USERS, PAPER_EOB, PORTAL_FILES, COVERAGE, SUGGESTIONS,
    ADMIN_PRACTICE, ADMIN_PAYERS, ADMIN_FEES, CHARGE_ENTRY, SEARCH,
)  # fmt: skip
# Patient billing: roles from claimdesk/billing/roles.py (its services check every action
# again). Deposits and refunds are for leads and the overseers, not for specialists.
PAGE_ROLES: dict[str, frozenset[str]] = {
    **ROLE_ACTIONS,
    **BILLING_ACTIONS,
    "billing.reconcile": BILLING_ACTIONS["billing.kpis"],
}
BALANCES = PageSpec(
    "pages/balances_page.py",
    "Patient balances",
    "balances",
    ":material/account_balance_wallet:",
    "billing.view",
)
STATEMENTS = PageSpec(
    "pages/statements_page.py",
    "Statements",
    "statements",
    ":material/description:",
    "billing.view",
)
PAYMENTS = PageSpec(
    "pages/payments_page.py", "Payments", "payments", ":material/payments:", "billing.view"
)
DEPOSITS = PageSpec(
    "pages/deposits_page.py",
    "Deposits",
    "deposits",
    ":material/account_balance:",
    "billing.reconcile",
)
REFUNDS = PageSpec(
    "pages/refunds_page.py",
    "Refunds",
    "refunds",
    ":material/currency_exchange:",
    "billing.reconcile",
)
BILLING_PAGES = (BALANCES, STATEMENTS, PAYMENTS, DEPOSITS, REFUNDS)
# Managers open on the dashboard; everyone else on the queue.
_FIRST = {"manager": DASHBOARD}


def pages_for_role(role: str) -> list[PageSpec]:
    allowed = [
        p for p in (*ALL_PAGES, *BILLING_PAGES) if role in PAGE_ROLES.get(p.action, frozenset())
    ]
    first = _FIRST.get(role)
    if first in allowed:
        allowed.remove(first)
        allowed.insert(0, first)
    return allowed
