"""The page's idle timer in a real browser (Debian's Chromium through Playwright).

The script the app installs (``ui.components.idle_guard``) runs in a bare page whose
"app" shows a patient: after the idle time with no input the patient is hidden behind
the curtain, before any click reaches the server; input before then keeps it shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui import test_browser as real_app
from ui.components.idle_guard import CURTAIN_ID, idle_guard_script

# The app under `streamlit run` and the browser, as the app's browser tests start them.
app_server = real_app.app_server
browser = real_app.browser

pytestmark = pytest.mark.browser

PAGE = '<div data-testid="stApp"><p id="patient">Testpatient, Jane 1961-04-02</p></div>'


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page()  # a fresh window for each test: no timer left from the last
    yield page
    page.close()


def _open(page: Any, seconds: int) -> None:
    page.set_content(PAGE + idle_guard_script(seconds, "Signed out: patient data is hidden."))


def test_patient_data_is_hidden_when_the_idle_time_runs_out(page: Any) -> None:
    _open(page, 2)
    assert page.locator("#patient").is_visible()
    page.locator(f"#{CURTAIN_ID}").wait_for(state="visible", timeout=6000)
    assert not page.locator("#patient").is_visible()
    assert "patient data is hidden" in page.locator(f"#{CURTAIN_ID}").inner_text()


def test_activity_keeps_the_page_shown(page: Any) -> None:
    _open(page, 3)
    for _ in range(4):  # 4 s of activity, every second: longer than the idle time
        page.mouse.move(10, 10)
        page.keyboard.press("Shift")
        page.wait_for_timeout(1000)
    assert page.locator("#patient").is_visible()
    assert page.locator(f"#{CURTAIN_ID}").count() == 0


def test_a_second_render_does_not_install_a_second_timer(page: Any) -> None:
    _open(page, 60)
    page.evaluate(
        "html => { const s = document.createElement('div'); s.innerHTML = html;"
        " const code = s.querySelector('script').textContent;"
        " (new Function(code))(); }",
        idle_guard_script(1, "again"),
    )
    # The later render updated the time (1 s) on the one timer: the curtain comes.
    page.locator(f"#{CURTAIN_ID}").wait_for(state="visible", timeout=5000)
    assert page.evaluate("window.claimdeskIdle.limitMs") == 1000


def test_the_app_installs_the_timer_on_a_signed_in_page(app_server: Any, browser: Any) -> None:
    page = real_app._sign_in(browser, app_server["url"], "spec1")
    page.wait_for_function("window.claimdeskIdle && window.claimdeskIdle.installed")
    assert page.evaluate("window.claimdeskIdle.limitMs") == 15 * 60 * 1000
    page.context.close()
