"""The app in a real browser: Debian's Chromium through Playwright against `streamlit run
ui/server.py`, the app server `claimdesk up` runs (so a reload or a link keeps the sign-in).

The app runs as a subprocess on a free port over a migrated, seeded SQLite
database, without Prefect: a decision is recorded and (no flow run waits for
these seeded tasks) applied by the service, so the claim moves at once.
Screenshots of every page go to ``test-output/screenshots/``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from claimdesk.access.sessions import COOKIE_NAME
from claimdesk.db import make_engine
from claimdesk.settings import Settings
from models import Claim, ReviewDecision, ReviewTask
from tests.ui.browser_sign_in import finish_sign_in
from tests.ui.seed import PASSWORD, UI_DIR, seed_app_database

pytestmark = pytest.mark.browser

REPO_ROOT = UI_DIR.parent
SHOTS = REPO_ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Streamlit's first render imports pandas and altair; a busy machine needs time.
WAIT_MS = 45_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; .ci/run installs it, so CI must have it")
        pytest.skip(message)
    data_dir = tmp_path_factory.mktemp("browser-app")
    settings = Settings(_env_file=None, data_dir=data_dir)
    seeded = seed_app_database(settings)
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CLAIMDESK_DATABASE_URL", "CLAIMDESK_PREFECT_API_URL", "PREFECT_API_URL")
    }
    env["CLAIMDESK_DATA_DIR"] = str(data_dir)
    log = (data_dir / "streamlit.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(UI_DIR / "server.py"),  # the app `claimdesk up` runs (pages + session cookie)
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        os.killpg(process.pid, signal.SIGTERM)
        pytest.fail(f"streamlit did not start: {(data_dir / 'streamlit.log').read_text()[-2000:]}")
    engine = make_engine(settings)
    try:
        yield {"url": url, "engine": engine, **seeded}
    finally:
        engine.dispose()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _sign_in(browser: Any, url: str, username: str) -> Any:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    finish_sign_in(page, username)  # admins and managers enter a TOTP code
    # The session cookie comes from a request the page makes after sign-in; a test that
    # follows a link (page.goto) before it lands would meet the sign-in form again.
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        if any(c["name"] == COOKIE_NAME for c in page.context.cookies()):
            break
        time.sleep(0.2)
    return page


def _shot(page: Any, name: str) -> None:
    """A full-page screenshot once the script run is over and every element has drawn."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    # Tables, metrics and date pickers show a skeleton until their code has loaded.
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')")
    page.wait_for_timeout(500)  # let charts and tables finish drawing
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _task_id(page: Any) -> int:
    page.wait_for_url(re.compile(r".*/task\?task=\d+"))
    match = re.search(r"task=(\d+)", page.url)
    assert match
    return int(match.group(1))


def test_specialist_takes_the_next_task_and_resolves_it(app_server: Any, browser: Any) -> None:
    page = _sign_in(browser, app_server["url"], "spec1")
    page.get_by_role("heading", name="Work queue").wait_for()
    _shot(page, "queue-specialist")
    page.get_by_role("button", name="Next task").click()
    task_id = _task_id(page)
    assert task_id == app_server["task_ids"][-1]  # priority 55, the highest
    page.get_by_role("heading", name=f"Task {task_id} · scrub").wait_for()
    _shot(page, "task-claim")
    page.get_by_role("tab", name="Decision").click()
    page.get_by_test_id("stSelectbox").filter(has_text="What to do").click()
    page.get_by_role("option", name="Send it as it is: the finding does not apply").click()
    page.get_by_label("Reason or note (stored as text)").fill("payer confirmed the codes by phone")
    _shot(page, "task-decision-form")
    page.get_by_role("button", name="Submit decision").click()
    page.get_by_text("decision recorded and applied (overridden)").wait_for()
    _shot(page, "task-decision-recorded")

    with Session(app_server["engine"]) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None and task.status == "resolved" and task.decision_id
        decision = session.get(ReviewDecision, task.decision_id)
        assert decision is not None and decision.decision["action"] == "override"
        claim = session.get(Claim, task.claim_id)
        assert claim is not None and claim.status == "queued"
    page.context.close()


def test_two_sessions_taking_next_task_at_once_get_different_tasks(
    app_server: Any, browser: Any
) -> None:
    first = _sign_in(browser, app_server["url"], "spec1")
    second = _sign_in(browser, app_server["url"], "spec2")
    buttons = [p.get_by_role("button", name="Next task") for p in (first, second)]
    for button in buttons:
        button.wait_for()
    for button in buttons:  # both clicks go out before either answer comes back
        button.click(no_wait_after=True)
    ids = [_task_id(first), _task_id(second)]
    assert ids[0] != ids[1]
    with Session(app_server["engine"]) as session:
        owners = {
            t.id: t.assignee_id
            for t in session.exec(select(ReviewTask).where(ReviewTask.id.in_(ids)))  # type: ignore[union-attr]
        }
    users = app_server["user_ids"]
    assert owners == {ids[0]: users["spec1"], ids[1]: users["spec2"]}
    first.context.close()
    second.context.close()


def test_manager_dashboard_reflects_the_work(app_server: Any, browser: Any) -> None:
    with Session(app_server["engine"]) as session:
        active = len(
            session.exec(
                select(ReviewTask).where(ReviewTask.status.in_(("open", "claimed")))  # type: ignore[attr-defined]
            ).all()
        )
    page = _sign_in(browser, app_server["url"], "mgr1")
    page.get_by_role("heading", name="Dashboard").wait_for()
    metric = page.get_by_test_id("stMetric").filter(has_text="Open or claimed tasks")
    assert metric.get_by_test_id("stMetricValue").inner_text().strip() == str(active)
    page.get_by_text("no Prefect API configured").wait_for()
    page.get_by_text("Throughput: resolved per specialist").wait_for()
    _shot(page, "dashboard-manager")
    page.context.close()


def test_screenshots_of_every_page_as_admin(app_server: Any, browser: Any) -> None:
    page = _sign_in(browser, app_server["url"], "admin1")
    for title, heading in [
        ("Reassign", "Reassign tasks"),
        ("Dashboard", "Dashboard"),
        ("Users", "Users"),
        ("Work queue", "Work queue"),
    ]:
        page.get_by_role("link", name=title).first.click()
        page.get_by_role("heading", name=heading).first.wait_for()
        _shot(page, f"{title.lower().replace(' ', '-')}-admin")
    page.context.close()
