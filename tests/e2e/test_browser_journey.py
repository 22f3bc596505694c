"""The app in Chromium against the real stack: Prefect server and worker, simulator, app.

Three demo claims, eligibility done, carry scrub errors; the submission deployment
runs, so each claim gets a scrub review task whose claim-review run is suspended in
Prefect. Then, in Debian's Chromium (Playwright) against `streamlit run`:

1. a specialist takes the next task (the page shows its run Suspended) and submits
   an override; the run leaves Suspended (Prefect API);
2. two specialists press "Next task" at once and get different tasks (while the
   worker runs the resumed run);
3. the resumed run ran again and completed (its state history), the decision was
   applied and the claim moved to queued (app DB), and the task page, opened
   again, shows the task resolved and its run Completed;
4. the manager's dashboard shows one task and one suspended run fewer than at the
   start, and something resolved in the throughput chart.

The tests run in file order: each builds on what the one before did. The app
database is PostgreSQL, so "Next task" takes its ``FOR UPDATE SKIP LOCKED`` path
(the one a busy office runs; SQLite's conditional UPDATE is covered in tests/ui).
Screenshots of every page go to ``test-output/screenshots/journey/``.
"""

from __future__ import annotations

import contextvars
import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.cli._bootstrap import bootstrap_stack
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.migrate import upgrade_database
from claimdesk.passwords import hash_password
from claimdesk.stack import REPO_ROOT, Stack
from models import Claim, ClaimLine, Coverage, Diagnosis, ReviewDecision, ReviewTask, User
from tests.e2e.stack_fixtures import (
    flow_run_history,
    flow_run_state,
    free_ports,
    open_tasks,
    run_flow,
    suspended,
    wait_until,
)
from tests.ui.browser_sign_in import finish_sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.postgres]

SHOTS = REPO_ROOT / "test-output" / "screenshots" / "journey"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "journey-horse-7"
USERS = {"spec1": "specialist", "spec2": "specialist", "mgr1": "manager"}
# Streamlit's first render imports pandas, altair and Prefect; the machine is busy.
WAIT_MS = 60_000
VIEWPORT = {"width": 1400, "height": 4500}  # the dashboard is ~4000 px tall
REVIEW_TASKS = 3
T = TypeVar("T")


@dataclass
class Dashboard:
    """What the manager's dashboard shows, read off the page."""

    open_tasks: int
    suspended_runs: int
    nothing_resolved: bool


@dataclass
class Journey:
    stack: Stack
    engine: Engine
    browser: Any
    user_ids: dict[str, int]
    review_task_ids: list[int]
    before: Dashboard | None = None  # the manager's dashboard with every run suspended
    resolved: ReviewTask | None = None  # the task the first specialist decided
    shots: list[Path] = field(default_factory=list)


def _seed(session: Session) -> dict[str, int]:
    """Three demo claims, one per patient, each with a scrub error; three people."""
    today = datetime.now(UTC).date()
    n = REVIEW_TASKS
    generate_demo_practice(session, claims=n, seed=42, today=today, patients=n)
    for coverage in session.exec(select(Coverage)).all():
        coverage.effective_to = None  # everyone insured and just verified
        coverage.verified_at = datetime.now(UTC)
        session.add(coverage)
    claims = session.exec(select(Claim).order_by(col(Claim.id))).all()
    assert len(claims) == REVIEW_TASKS
    for claim in claims:  # eligibility done: the submission flow scrubs them
        set_claim_status(session=session, claim=claim, status="ready", actor="test:journey")
    for claim in claims[:2]:  # 26 with TC: conflicting modifiers
        line = session.exec(select(ClaimLine).where(ClaimLine.claim_id == claim.id)).first()
        assert line is not None
        line.modifiers = ["26", "TC"]
        session.add(line)
    diagnosis = session.exec(select(Diagnosis).where(Diagnosis.claim_id == claims[2].id)).first()
    assert diagnosis is not None
    diagnosis.code = "E11"  # a category, not a billable code
    session.add(diagnosis)
    password_hash = hash_password(PASSWORD)
    users = {}
    for name, role in USERS.items():
        users[name] = User(
            username=name, role=role, display_name=name.title(), password_hash=password_hash
        )
        session.add(users[name])
    session.flush()
    return {name: user.id or 0 for name, user in users.items()}


@pytest.fixture(scope="module")
def journey(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; .ci/run installs it, so CI must have it")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    from prefect.settings import PREFECT_API_URL, temporary_settings

    started = time.monotonic()

    def log(line: str) -> None:  # shown with a failure: where the setup's time went
        print(f"[{time.monotonic() - started:5.1f}s] {line}")

    settings = databases.settings("postgresql", tmp_path_factory.mktemp("journey"))
    engine = make_engine(settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        user_ids = _seed(session)
    # with_ui=False: the app is started beside the bootstrap (it needs neither Prefect
    # nor the simulator to start), which saves its start-up time on a busy machine.
    stack = Stack(settings, free_ports(), with_ui=False, worker_limit=6, clock_source="payer_sim")
    saved = {
        k: os.environ.get(k)
        for k in ("PREFECT_API_URL", "CLAIMDESK_PAYER_SIM_URL", "CLAIMDESK_CLOCK_SOURCE")
    }
    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SHOTS}")
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            app = pool.submit(stack.start_ui)
            bootstrap_stack(stack, demo=False, echo=print, schedules="off")
            app.result()
        log("app: up")
        os.environ["CLAIMDESK_PAYER_SIM_URL"] = f"{stack.payer_url}/core"
        # Prefect caches its settings per process: point this one at this stack.
        with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
            run_flow("submission/submission")
            log("submission flow: completed")
            tasks = open_tasks(engine)
            assert len(tasks) == REVIEW_TASKS and {t.kind for t in tasks} == {"scrub"}, tasks
            wait_until(lambda: suspended(engine, tasks), timeout=120, what="review runs to suspend")
            log("review runs: suspended")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                yield Journey(stack, engine, browser, user_ids, [t.id or 0 for t in tasks])
                browser.close()
    finally:
        stack.stop()
        engine.dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _beside_playwright(fn: Callable[..., T], *args: Any) -> T:
    """Call a Prefect helper (it runs its own event loop) off Playwright's thread.

    Playwright's sync API keeps an event loop running in the test's thread; the
    helper runs in another thread with this one's context (Prefect's settings).
    """
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, fn, *args).result()


def _run_state(run_id: str) -> str:
    return _beside_playwright(flow_run_state, run_id)


def _run_history(run_id: str) -> list[str]:
    return _beside_playwright(flow_run_history, run_id)


# -- the browser ---------------------------------------------------------------------------


def _sign_in(journey: Journey, username: str, path: str = "") -> Any:
    page = journey.browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{journey.stack.ui_url}/{path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    finish_sign_in(page, username)  # admins and managers enter a TOTP code
    return page


def _shot(journey: Journey, page: Any, name: str, last: Any = None) -> None:
    """Screenshot the page's content once ``last`` (the page's last element) is drawn."""
    if last is not None:  # Streamlit draws elements in script order
        last.first.wait_for(state="attached")
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    # Metrics, tables and date pickers show a skeleton until their code has loaded.
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')")
    page.evaluate(_TWO_FRAMES)
    # The app scrolls inside its main container, so the window is tall (no resize
    # to redraw for) and the shot is cut to the content's height.
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]')"
        "?.getBoundingClientRect().bottom ?? 0"
    )
    height = min(max(int(height) + 40, 900), VIEWPORT["height"])
    clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}
    path = SHOTS / f"{len(journey.shots) + 1:02d}-{name}.png"
    page.screenshot(path=str(path), clip=clip)
    journey.shots.append(path)


_TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _claim_tab(page: Any) -> Any:
    """The last element of the task page's first tab (the one a task opens on)."""
    return page.get_by_role("heading", name="Eligibility")


def _task_id(page: Any) -> int:
    page.wait_for_url(re.compile(r".*/task\?task=\d+"))
    match = re.search(r"task=(\d+)", page.url)
    assert match
    task_id = int(match.group(1))
    page.get_by_role("heading", name=f"Task {task_id} · scrub").wait_for()
    return task_id


def _read_dashboard(page: Any) -> Dashboard:
    page.get_by_role("heading", name="Dashboard").wait_for()
    metric = page.get_by_test_id("stMetric").filter(has_text="Open or claimed tasks")
    suspended_heading = page.get_by_role("heading", name=re.compile(r"^Suspended \(\d+\)"))
    suspended_heading.wait_for()
    match = re.search(r"\((\d+)\)", suspended_heading.inner_text())
    assert match
    return Dashboard(
        open_tasks=int(metric.get_by_test_id("stMetricValue").inner_text().strip()),
        suspended_runs=int(match.group(1)),
        nothing_resolved=page.get_by_text("Nothing resolved yet.").count() > 0,
    )


# -- the journey (in file order) -------------------------------------------------------------


def test_specialist_takes_the_next_task_and_a_decision_resumes_its_run(journey: Journey) -> None:
    manager = _sign_in(journey, "mgr1")
    journey.before = _read_dashboard(manager)
    _shot(journey, manager, "dashboard-before", manager.get_by_text("Timely-filing losses"))
    manager.context.close()
    assert journey.before.open_tasks == REVIEW_TASKS
    assert journey.before.suspended_runs == REVIEW_TASKS
    assert journey.before.nothing_resolved

    page = _sign_in(journey, "spec1")
    page.get_by_role("heading", name="Work queue").wait_for()
    _shot(journey, page, "queue-specialist", page.get_by_text(re.compile(r"tasks · page 1")))
    page.get_by_role("button", name="Next task").click()
    task_id = _task_id(page)
    page.get_by_text("flow run Suspended").wait_for()
    _shot(journey, page, "task-claim", _claim_tab(page))
    with Session(journey.engine) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None and task.flow_run_id
        assert task.status == "claimed" and task.assignee_id == journey.user_ids["spec1"]
    assert _run_history(task.flow_run_id)[-1] == "Suspended"

    page.get_by_role("tab", name="Decision").click()
    page.get_by_test_id("stSelectbox").filter(has_text="What to do").click()
    page.get_by_role("option", name="Send it as it is: the finding does not apply").click()
    page.get_by_label("Reason or note (stored as text)").fill(
        "payer confirmed the modifiers by phone"
    )
    _shot(journey, page, "task-decision-form")
    page.get_by_role("button", name="Submit decision").click()
    page.get_by_text("decision recorded; flow run resumed").wait_for()
    _shot(journey, page, "task-decision-submitted")
    page.context.close()
    journey.resolved = task
    # Prefect: the run is no longer waiting for a person.
    run_id = task.flow_run_id
    wait_until(lambda: _run_state(run_id) != "PAUSED", timeout=30, what="the run to resume")


def test_two_specialists_taking_next_task_at_once_get_different_tasks(journey: Journey) -> None:
    assert journey.resolved is not None
    first = _sign_in(journey, "spec1")
    second = _sign_in(journey, "spec2")
    buttons = [p.get_by_role("button", name="Next task") for p in (first, second)]
    for button in buttons:
        button.wait_for()
    for button in buttons:  # both clicks go out before either answer comes back
        button.click(no_wait_after=True)
    ids = [_task_id(first), _task_id(second)]
    _shot(journey, first, "task-spec1", _claim_tab(first))
    _shot(journey, second, "task-spec2", _claim_tab(second))
    assert ids[0] != ids[1]
    assert set(ids) == set(journey.review_task_ids) - {journey.resolved.id}
    with Session(journey.engine) as session:
        owners = {
            t.id: (t.status, t.assignee_id)
            for t in session.exec(select(ReviewTask).where(col(ReviewTask.id).in_(ids)))
        }
    users = journey.user_ids
    assert owners == {ids[0]: ("claimed", users["spec1"]), ids[1]: ("claimed", users["spec2"])}
    first.context.close()
    second.context.close()


def test_the_resumed_run_completes_and_the_claim_moves_on(journey: Journey) -> None:
    task = journey.resolved
    assert task is not None and task.flow_run_id and task.id
    run_id = task.flow_run_id
    # Prefect: the run left Suspended, ran again, and completed.
    wait_until(lambda: _run_state(run_id) == "COMPLETED", timeout=90, what="the run to complete")
    history = _run_history(run_id)
    suspended_at = history.index("Suspended")
    assert "Running" in history[suspended_at:] and history[-1] == "Completed", history
    # The app database: the run applied the decision and the claim moved on.
    with Session(journey.engine) as session:
        fresh = session.get(ReviewTask, task.id)
        assert fresh is not None and fresh.status == "resolved" and fresh.decision_id
        decision = session.get(ReviewDecision, fresh.decision_id)
        assert decision is not None and decision.decision["action"] == "override"
        assert decision.resumed_at is not None and decision.applied_at is not None
        claim = session.get(Claim, task.claim_id)
        assert claim is not None and claim.status == "queued"
    # The task page, opened again, shows the task resolved and its run completed.
    page = _sign_in(journey, "spec1", f"task?task={task.id}")
    page.get_by_role("heading", name=f"Task {task.id} · scrub").wait_for()
    page.get_by_text("Status resolved").wait_for()
    page.get_by_text("flow run Completed").wait_for()
    page.get_by_role("tab", name="Decision").click()
    page.get_by_text("This task is resolved.").wait_for()
    _shot(journey, page, "task-after-resume")
    page.context.close()


def test_manager_dashboard_reflects_the_work(journey: Journey) -> None:
    assert journey.before is not None and journey.resolved is not None
    page = _sign_in(journey, "mgr1")
    after = _read_dashboard(page)
    page.get_by_text("Throughput: resolved per specialist").wait_for()
    _shot(journey, page, "dashboard-after", page.get_by_text("Timely-filing losses"))
    page.context.close()
    # One task resolved (the two claimed ones still count) and its run no longer waits.
    assert after.open_tasks == journey.before.open_tasks - 1
    assert after.suspended_runs == journey.before.suspended_runs - 1
    assert not after.nothing_resolved
