"""Sessions in a real browser: a link to a task opens after sign-in, a reload and a second tab
stay signed in (an HttpOnly cookie), and signing out ends every tab.

Debian's Chromium through Playwright against ``streamlit run ui/server.py`` (the app
server ``claimdesk up`` runs: the pages plus the session-cookie route) over a migrated,
seeded SQLite database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from claimdesk.access.sessions import COOKIE_NAME
from claimdesk.settings import Settings
from tests.ui.seed import PASSWORD, UI_DIR, seed_app_database
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, _free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs it, so CI must have it")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    data_dir = tmp_path_factory.mktemp("browser-sessions")
    seeded = seed_app_database(Settings(_env_file=None, data_dir=data_dir))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMDESK_")}
    env.pop("PREFECT_API_URL", None)
    env["CLAIMDESK_DATA_DIR"] = str(data_dir)
    port = _free_port()
    log = (data_dir / "streamlit.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(UI_DIR / "server.py"),
         "--server.headless", "true", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        env=env, cwd=UI_DIR.parent, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
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
    try:
        yield {"url": url, **seeded}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        log.close()


def _session_cookie(context: Any) -> dict[str, Any] | None:
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        found = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
        if found:
            return dict(found[0])
        time.sleep(0.2)
    return None


def test_deep_link_reload_second_tab_and_sign_out_everywhere(server: dict[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)  # the first task page imports the code sets
    url, task_id = server["url"], server["task_ids"][2]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(WAIT_MS)
        tab = context.new_page()
        tab.goto(f"{url}/task?task={task_id}")  # a link from an email: not signed in yet
        tab.get_by_label("Username").fill("spec1")
        tab.get_by_label("Password", exact=True).fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        heading = tab.get_by_role("heading", name=f"Task {task_id} · scrub")
        expect(heading).to_be_visible()  # where the link pointed, not the queue
        assert tab.url == f"{url}/task?task={task_id}"
        assert tab.get_by_text("Page not found").count() == 0

        cookie = _session_cookie(context)
        assert cookie is not None, "the app server set no session cookie"
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
        assert COOKIE_NAME not in tab.evaluate("document.cookie")  # no script can read it

        tab.reload()
        expect(heading).to_be_visible()
        expect(tab.get_by_text("Signed in as")).to_be_visible()
        assert tab.get_by_label("Username").count() == 0

        other = context.new_page()
        other.goto(f"{url}/queue")
        expect(other.get_by_role("heading", name="Work queue")).to_be_visible()

        tab.get_by_role("button", name="Sign out").click()
        expect(tab.get_by_label("Username")).to_be_visible()
        other.reload()
        expect(other.get_by_label("Username")).to_be_visible()
        expect(other.get_by_text("Signed in as")).to_have_count(0)
        browser.close()
