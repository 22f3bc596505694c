"""What the office's history teaches, in a real browser (Debian's Chromium through
Playwright): on the Suggestions page a lead has the learners look at the office's 835s,
sees the suggested rule with its evidence and backtest, and approves it with a reason
(recorded and audited); on a denial's task page a specialist applies the learned fix
("added GP: 2 of 2 paid") in one click, and the claim's line gets its GP."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from claimdesk.db import session_scope
from claimdesk.workqueue.appliers import apply_recorded_decision
from models import AuditEvent, ClaimLine, LearnedRule, ReviewDecision, ReviewTask, User
from tests.learning.corrections import corrected, denial_task
from tests.learning.history import Line, office
from tests.ui import test_browser as real_app

# The app under `streamlit run` and the browser, as the app's browser tests start them.
app_server = real_app.app_server
browser = real_app.browser

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def history(app_server: Any) -> None:
    """SIMBLU denied 97110 without GP six times (CO-4, $140 each) and paid it with GP six
    times, ten days ago on the system clock the app runs on."""
    served = date.today() - timedelta(days=10)
    with session_scope(app_server["engine"]) as session:
        blu = office(session, "SIMBLU")
        for modifiers, denied in (((), "4"), (("GP",), None)):
            for _ in range(6):
                blu.claim(
                    [Line("97110", modifiers=modifiers, denied=denied)],
                    served=served,
                    paid_on=served + timedelta(days=3),
                )


def test_a_lead_sees_the_suggestion_with_its_backtest_and_approves_it(
    app_server: Any, browser: Any, history: None
) -> None:
    page = real_app._sign_in(browser, app_server["url"], "lead1")
    page.goto(f"{app_server['url']}/suggestions")
    page.get_by_role("heading", name="Suggested scrub rules").wait_for()
    page.get_by_role("button", name="Look for new suggestions").click()
    page.get_by_text("1 suggestion(s) in the window.").wait_for()
    page.get_by_text("SIMBLU: 97110 without GP → hold; CO-4, 6 of 6 denied").wait_for()
    caught = page.get_by_test_id("stMetric").filter(has_text="Denials caught")
    assert caught.get_by_test_id("stMetricValue").inner_text() == "6"
    dollars = page.get_by_test_id("stMetric").filter(has_text="Dollars caught")
    assert dollars.get_by_test_id("stMetricValue").inner_text() == "$840.00"
    false_holds = page.get_by_test_id("stMetric").filter(has_text="False holds")
    assert false_holds.get_by_test_id("stMetricValue").inner_text() == "0"
    real_app._shot(page, "suggestions-lead")

    page.get_by_label("Reason (needed to dismiss)").fill("payer policy confirmed")
    page.get_by_role("button", name="Approve").click()
    with Session(app_server["engine"]) as session:
        [rule] = session.exec(select(LearnedRule)).all()
    page.get_by_text(f"Rule #{rule.id} approved.").wait_for()
    page.get_by_text("approved by lead1: payer policy confirmed").wait_for()
    real_app._shot(page, "suggestions-approved")

    with Session(app_server["engine"]) as session:
        row = session.get(LearnedRule, rule.id)
        assert row is not None
        assert (row.status, row.decided_by, row.pack_version) == ("approved", "lead1", 1)
        events = session.exec(
            select(AuditEvent).where(AuditEvent.entity_type == "learned_rule")
        ).all()
    actions = {(e.action, e.actor) for e in events}
    assert ("learned_rule.approved", "lead1") in actions
    assert ("learned_rule.suggested", "lead1") in actions
    assert ("learned_rule.listed", "lead1") in actions
    [approved] = [e for e in events if e.action == "learned_rule.approved"]
    assert approved.details["reason"] == "payer policy confirmed"
    page.context.close()


@pytest.fixture(scope="module")
def worked_denials(app_server: Any) -> int:
    """SIMFIX denied 97110 CO-4 twice; each time spec1 added GP and the payer paid. A third
    such denial waits in the queue: its task's id."""
    served = date.today() - timedelta(days=20)
    with session_scope(app_server["engine"]) as session:
        fix = office(session, "SIMFIX")
        spec = session.exec(select(User).where(User.username == "spec1")).one()
        for _ in range(2):
            corrected(session, fix, spec, ["GP"], True, served=served, later=served + timedelta(7))
        task = denial_task(session, fix, served=served, notice=served, today=date.today())
        assert task.id is not None
        return task.id


def test_a_specialist_applies_the_learned_fix_on_the_denial_in_one_click(
    app_server: Any, browser: Any, worked_denials: int
) -> None:
    task_id = worked_denials
    page = real_app._sign_in(browser, app_server["url"], "spec1")
    page.goto(f"{app_server['url']}/task?task={task_id}")
    # The first task page of the app process reads the code sets: give it twice the wait.
    heading = page.get_by_role("heading", name=f"Task {task_id} · denial")
    heading.wait_for(timeout=2 * real_app.WAIT_MS)
    page.get_by_role("tab", name="Decision").click()
    page.get_by_text("Learned fix for line 1:").wait_for()
    page.get_by_text("added GP: 2 of 2 paid").wait_for()
    page.get_by_role("button", name="Submit decision").wait_for()  # the form, below the fix
    real_app._shot(page, "task-learned-fix")
    page.get_by_role("button", name="Apply the learned fix").click()
    # A denial's decision starts its appeal run, which applies it; this app has no Prefect,
    # so the start waits for the reconciler and the decision is kept.
    page.get_by_text("decision recorded; run start deferred").wait_for()

    with Session(app_server["engine"]) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None and task.status == "resolved"
        decision = session.exec(
            select(ReviewDecision).where(ReviewDecision.review_task_id == task_id)
        ).one()
        assert decision.applied_at is None
    # What the appeal run does first with the decision it finds: apply it.
    with session_scope(app_server["engine"]) as session:
        apply_recorded_decision(session=session, task_id=task_id, decision_id=decision.id or 0)
    with Session(app_server["engine"]) as session:
        line = session.exec(select(ClaimLine).where(ClaimLine.claim_id == task.claim_id)).one()
        assert line.modifiers == ["GP"]
        offered = session.exec(
            select(AuditEvent).where(AuditEvent.action == "learned_fix.offered")
        ).all()
    assert [(e.actor, e.entity_id, e.details["fix"]) for e in offered][:1] == [
        ("spec1", str(task_id), "added GP: 2 of 2 paid")
    ]
    page.context.close()
