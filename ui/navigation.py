"""Which pages each role gets (the services check every action again)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claimdesk.services.permissions import ROLE_ACTIONS

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
ALL_PAGES = (QUEUE, TASK, REASSIGN, DASHBOARD, USERS, PAPER_EOB)
# Managers open on the dashboard; everyone else on the queue.
_FIRST = {"manager": DASHBOARD}


def pages_for_role(role: str) -> list[PageSpec]:
    allowed = [p for p in ALL_PAGES if role in ROLE_ACTIONS.get(p.action, frozenset())]
    first = _FIRST.get(role)
    if first in allowed:
        allowed.remove(first)
        allowed.insert(0, first)
    return allowed
