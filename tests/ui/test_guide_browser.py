"""The queue a specialist meets on a real morning, in Chromium: the pictures of docs/guide.md.

The same app as ``test_browser`` (a migrated, seeded SQLite database; ``streamlit run`` as a
subprocess), with the day's mix added through the stage functions: denials opened by the
denial service (CO-16 with N290, CO-197, a $1,840 one and a $95 one), a coverage question
and a claim the payer has not answered. The queue lists them by dollars per day left,
says why each is there in words, filters by reason code from the page's address, and a
denial's page (a deep link) opens with the payer's words on top.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session

from claimdesk.denials.service import open_denial_review
from claimdesk.review.tasks import ensure_review_task
from claimdesk.workqueue import filters as queue_lists
from claimdesk.workqueue.filters import QueueFilters
from claimdesk.workqueue.sweep import sweep_review_deadlines
from models import Denial, Payer
from models.types import utcnow
from tests.factories import make_claim
from tests.ui import test_browser as real_app

app_server = real_app.app_server
browser = real_app.browser

pytestmark = pytest.mark.browser


def _line(charge: str, code: str = "99214") -> dict[str, Any]:
    return {
        "procedure_code": code,
        "charge": Decimal(charge),
        "diagnosis_pointers": [1],
        "service_date": date(2026, 10, 1),
    }


@pytest.fixture(scope="module")
def morning(app_server: dict[str, Any]) -> dict[str, int]:
    """The day's work, added the way the flows add it; returns task ids by name."""
    today = utcnow().date()
    ids: dict[str, int] = {}
    with Session(app_server["engine"]) as session:
        payer = session.get(Payer, 1)
        assert payer is not None
        for name, charge, group, carc, remarks, days_ago in (
            ("big-denial", "1840.00", "CO", "16", ["N290"], 80),
            ("small-denial", "95.00", "CO", "197", [], 10),
        ):
            claim = make_claim(session, payer=payer, lines=[_line(charge)], status="denied")
            denial = Denial(
                claim_id=claim.id or 0, group_code=group, reason_code=carc,
                remark_codes=remarks, amount=Decimal(charge),
                notice_date=today - timedelta(days=days_ago),
            )  # fmt: skip
            session.add(denial)
            session.flush()
            ids[name] = open_denial_review(session, denial.id or 0).id or 0
        claim = make_claim(session, payer=payer, lines=[_line("240.00")], status="eligibility_hold")
        ids["coverage"] = (
            ensure_review_task(
                session=session, kind="eligibility", claim_id=claim.id,
                claim_version=claim.version, payer_id=payer.id, priority=60,
                context={"outcome": "other_primary", "rejection_codes": []},
            ).id
            or 0
        )  # fmt: skip
        session.commit()
        sweep_review_deadlines(session, today=today)  # the 15-minute sweep ranks them
        session.commit()
    return ids


def test_the_queue_says_why_and_ranks_by_dollars_per_day_left(
    app_server: Any, browser: Any, morning: dict[str, int]
) -> None:
    page = real_app._sign_in(browser, app_server["url"], "spec1")
    page.get_by_role("heading", name="Work queue").wait_for()
    page.get_by_test_id("stDataFrame").first.wait_for()
    real_app._shot(page, "guide-queue")

    # The order is the dollars per day left: the $1,840 denial before the $240 claim's
    # coverage question before the $95 denial with months to go.
    rows = queue_lists.list_queue(
        app_server["engine"], username="spec1", filters=QueueFilters(status="active")
    ).rows
    order = [row.task_id for row in rows]
    assert order.index(morning["big-denial"]) < order.index(morning["coverage"])
    assert order.index(morning["coverage"]) < order.index(morning["small-denial"])

    # Filtered by reason code from the address, as a bookmark or a saved view would be.
    page.goto(f"{app_server['url']}/queue?reason=CO-16")
    page.get_by_role("heading", name="Work queue").wait_for()
    page.get_by_text(re.compile(r"^1 tasks · page 1")).wait_for()
    real_app._shot(page, "guide-queue-filtered")

    page.goto(f"{app_server['url']}/task?task={morning['big-denial']}")
    why = page.get_by_text(re.compile(r"CO-16 \+ N290"))
    why.first.wait_for()
    page.get_by_text("What to do:").first.wait_for()
    real_app._shot(page, "guide-denial-task")
    page.context.close()
