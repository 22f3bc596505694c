"""Three specialists in real browsers beside 20 through the service layer, for a minute.

The app (``streamlit run``) on the PostgreSQL database the 20 service-layer
specialists (tests/reliability/specialists.py) work; three Chromium contexts
(Playwright, Debian's ``/usr/bin/chromium``) sign in and loop: Work queue, "Next
task", the Decision tab, override with a reason, Submit. No Prefect here: a decision
is recorded and its resume deferred to the reconciler (the app says so), which is
all this test needs. Held: no task resolved twice (by anyone, browser or service),
one decision per task, the database's resolved tasks are exactly the ones someone
saw resolved, and every browser resolved some.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.passwords import hash_password
from claimdesk.settings import Settings
from models import ReviewDecision, ReviewTask, User
from tests.e2e.stack_fixtures import free_port
from tests.reliability.specialists import RecordingResumer, Tally, percentiles, seed_tasks, work
from tests.ui.seed import PASSWORD, UI_DIR

pytestmark = [pytest.mark.slow, pytest.mark.soak, pytest.mark.browser, pytest.mark.timeout(600)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
WAIT_MS = 60_000
SPECIALISTS = 20
BROWSERS = ("web1", "web2", "web3")
SECONDS = 60


@pytest.fixture
def app(databases: Any, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    settings: Settings = databases.settings("postgresql", tmp_path)
    engine = make_engine(settings, pool_size=SPECIALISTS + 4)
    upgrade_database(engine)
    with session_scope(engine) as session:
        for name in BROWSERS:
            session.add(
                User(username=name, role="specialist", password_hash=hash_password(PASSWORD))
            )
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CLAIMDESK_PREFECT_API_URL", "PREFECT_API_URL")
    }
    env["CLAIMDESK_DATA_DIR"] = str(tmp_path)
    assert settings.database_url is not None
    env["CLAIMDESK_DATABASE_URL"] = settings.database_url.get_secret_value()
    log = (tmp_path / "streamlit.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(UI_DIR / "app.py"),
         "--server.headless", "true", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        env=env, cwd=UI_DIR.parent, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()}")
        yield url, engine
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        log.close()
        engine.dispose()


async def _browser_specialist(
    browser: Any, url: str, username: str, stop: threading.Event, seen: list[int]
) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    await page.goto(url)
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Work queue").wait_for()
    while not stop.is_set():
        await page.get_by_role("button", name="Next task").click()
        await page.wait_for_url(re.compile(r".*/task\?task=\d+"))
        match = re.search(r"task=(\d+)", page.url)
        assert match, page.url
        task_id = int(match.group(1))
        await page.get_by_role("heading", name=f"Task {task_id} · scrub").wait_for()
        await page.get_by_role("tab", name="Decision").click()
        await page.get_by_test_id("stSelectbox").filter(has_text="Action").click()
        await page.get_by_role("option", name="override").click()
        await page.get_by_label("Reason", exact=True).fill(f"{username}: payer confirmed by phone")
        await page.get_by_role("button", name="Submit decision").click()
        await page.get_by_text("decision recorded").first.wait_for()
        seen.append(task_id)
        await page.get_by_test_id("stSidebarNavLink").filter(has_text="Work queue").click()
        await page.get_by_role("button", name="Next task").wait_for()
    await context.close()


async def _browsers(url: str, stop: threading.Event, seen: dict[str, list[int]]) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(
                *(_browser_specialist(browser, url, name, stop, seen[name]) for name in BROWSERS)
            )
        finally:
            await browser.close()


def test_three_browsers_beside_20_specialists_nothing_resolved_twice(
    app: tuple[str, Engine],
) -> None:
    url, engine = app
    names = seed_tasks(engine, tasks=20_000, specialists=SPECIALISTS)
    resumer = RecordingResumer()
    tallies = [Tally(name) for name in names]
    stop = threading.Event()
    errors: list[BaseException] = []
    seen: dict[str, list[int]] = {name: [] for name in BROWSERS}

    def guarded(target: Any, *args: Any) -> None:
        try:
            target(*args)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            stop.set()

    browsers = threading.Thread(
        target=guarded, args=(lambda: asyncio.run(_browsers(url, stop, seen)),)
    )
    browsers.start()
    # The browsers' first sign-in is slow (Streamlit imports on first render): start the
    # service-layer specialists once every browser has resolved a task, then a minute.
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not all(seen.values()) and not errors:
        time.sleep(0.5)
    threads = [
        threading.Thread(target=guarded, args=(work, engine, t, stop, resumer)) for t in tallies
    ]
    before = {name: len(ids) for name, ids in seen.items()}
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    browsers.join(timeout=120)
    elapsed = time.monotonic() - started
    assert not errors, errors

    committed: Counter[int] = Counter()
    for tally in tallies:
        committed.update(list(tally.resolved))
    for ids in seen.values():
        committed.update(ids)
    assert committed and max(committed.values()) == 1, "a task was resolved twice"
    with Session(engine) as session:
        decisions = Counter(d.review_task_id for d in session.exec(select(ReviewDecision)).all())
        resolved = set(
            session.exec(select(ReviewTask.id).where(ReviewTask.status == "resolved")).all()
        )
    assert max(decisions.values()) == 1, "a task has two decisions"
    assert resolved == set(committed), "the database and the specialists disagree"
    during = {name: len(ids) - before[name] for name, ids in seen.items()}
    assert all(n > 0 for n in during.values()), during
    service = sum(len(t.resolved) for t in tallies)
    p50, p95 = percentiles([v for t in tallies for v in t.latencies["next_task"]])
    print(
        f"\nbrowser load: {len(BROWSERS)} browsers + {SPECIALISTS} service specialists for "
        f"{elapsed:.0f} s on PostgreSQL: browsers resolved {during} "
        f"({sum(during.values()) / elapsed * 60:.0f}/min together), service specialists "
        f"{service} ({service / elapsed * 60:.0f}/min, next task p50/p95 {p50:.0f}/{p95:.0f} ms); "
        f"{len(committed)} tasks resolved, each once, one decision each"
    )
