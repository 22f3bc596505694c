"""Every page for every role, through Streamlit's AppTest (pages a role must not reach too)."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from claimdesk.access.permissions import ROLE_ACTIONS
from tests.ui.seed import UI_DIR, USERS, signed_in
from ui.navigation import ALL_PAGES, pages_for_role

# Generous: the shared CI machine can be slow to import pandas and altair on first use.
TIMEOUT = 60


def run_page(path: str, username: str | None, **params: str) -> AppTest:
    at = AppTest.from_file(str(UI_DIR / path), default_timeout=TIMEOUT)
    if username:
        at.session_state["auth.user"] = signed_in(username)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# One user per role: the matrix is role × page.
ONE_PER_ROLE = list({role: name for name, role in reversed(USERS.items())}.values())


@pytest.mark.parametrize("username", ONE_PER_ROLE)
@pytest.mark.parametrize("page", ALL_PAGES, ids=lambda p: p.url_path)
def test_page_for_role_renders_or_refuses(
    app_env: Any, app_data: dict[str, Any], username: str, page: Any
) -> None:
    role = USERS[username]
    params = {"task": str(app_data["task_ids"][0])} if page.url_path == "task" else {}
    at = run_page(page.path, username, **params)
    assert not at.exception, at.exception
    if role in ROLE_ACTIONS[page.action]:
        assert not errors(at), errors(at)
        assert at.title, "an allowed page shows its title"
    else:
        assert any("does not give access" in e for e in errors(at))
        assert not at.dataframe, "a refused page shows no data"


@pytest.mark.parametrize("page", ALL_PAGES, ids=lambda p: p.url_path)
def test_page_without_sign_in_refuses(app_env: Any, page: Any) -> None:
    at = run_page(page.path, None)
    assert errors(at) == ["Sign in first."]


def test_navigation_is_built_from_the_role() -> None:
    assert [p.url_path for p in pages_for_role("specialist")] == [
        "queue", "task", "paper-eob", "portal-files", "coverage", "charge-entry", "search",
        "balances", "statements", "payments",
    ]  # fmt: skip
    assert pages_for_role("manager")[0].url_path == "dashboard"
    assert "users" in [p.url_path for p in pages_for_role("admin")]
    assert "reassign" not in [p.url_path for p in pages_for_role("auditor")]


def test_app_shows_password_form_when_oidc_is_not_configured(app_env: Any) -> None:
    at = AppTest.from_file(str(UI_DIR / "app.py"), default_timeout=TIMEOUT).run()
    assert at.text_input(key="auth.username")
    assert [b.label for b in at.button] == ["Sign in"]


def test_app_signs_in_and_opens_the_role_s_first_page(app_env: Any) -> None:
    at = AppTest.from_file(str(UI_DIR / "app.py"), default_timeout=TIMEOUT).run()
    at.text_input(key="auth.username").input("spec1")
    at.text_input(key="auth.password").input("correct-horse-1")
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Work queue"


def test_app_refuses_a_wrong_password(app_env: Any) -> None:
    at = AppTest.from_file(str(UI_DIR / "app.py"), default_timeout=TIMEOUT).run()
    at.text_input(key="auth.username").input("spec1")
    at.text_input(key="auth.password").input("wrong-password")
    at.button[0].click().run()
    assert "wrong password" in errors(at)[0]
    assert "auth.user" not in at.session_state


def test_app_signs_out_after_idle_minutes(app_env: Any) -> None:
    from datetime import timedelta

    from models.types import utcnow

    at = AppTest.from_file(str(UI_DIR / "app.py"), default_timeout=TIMEOUT)
    at.session_state["auth.user"] = signed_in("spec1")
    at.session_state["auth.last_seen"] = utcnow() - timedelta(minutes=31)
    at.run()
    assert "auth.user" not in at.session_state
    assert "minutes without activity" in at.info[0].value


def test_queue_page_lists_masked_rows_and_filters_from_the_url(app_env: Any) -> None:
    at = run_page("pages/queue_page.py", "spec1", sort="due")
    frame = at.dataframe[0].value
    assert len(frame) == 6
    assert frame["Member"].str.startswith("••").all()
    assert frame["Due"].is_monotonic_increasing
    filtered = run_page("pages/queue_page.py", "spec1", kind="eligibility")
    assert len(filtered.dataframe[0].value) == 0


def test_task_page_shows_phi_and_validates_the_decision(
    app_env: Any, app_data: dict[str, Any]
) -> None:
    task_id = app_data["task_ids"][1]
    at = run_page("pages/task_page.py", "spec1", task=str(task_id))
    assert at.title[0].value == f"Task {task_id} · scrub"
    assert any("Testpatient" in m.value for m in at.markdown)
    at.selectbox(key=f"decision.{task_id}.action").select("override")
    at.button[-1].click().run()  # the form's submit, without the reason an override needs
    assert "override needs a reason" in errors(at)[0]


def test_task_page_for_auditor_is_read_only(app_env: Any, app_data: dict[str, Any]) -> None:
    at = run_page("pages/task_page.py", "aud1", task=str(app_data["task_ids"][0]))
    assert any("can read this task but not decide" in i.value for i in at.info)
    assert not [b for b in at.button if b.label in ("Claim", "Submit decision")]


def test_dashboard_shows_queue_health_kpis_and_says_prefect_is_not_configured(
    app_env: Any,
) -> None:
    at = run_page("pages/dashboard_page.py", "mgr1")
    labels = [m.label for m in at.metric]
    assert {"Open or claimed tasks", "Past SLA", "Clean-claim rate", "Days in A/R"} <= set(labels)
    assert "no Prefect API configured" in at.warning[0].value
