"""Forms in the office's words, the pictures, and sessions shared by tabs (AppTest, no browser).

The database is the app's seed plus ``tests.workqueue.task_story`` (an eligibility task
whose 271 named another primary payer, a denied claim with its money), migrated SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from claimdesk.db import make_engine
from claimdesk.settings import Settings
from models import AppSession
from tests.ui.seed import PASSWORD, UI_DIR, seed_app_database, signed_in
from tests.workqueue.task_story import OTHER, add_task_story
from ui.components import auth, session_cookie

TIMEOUT = 60


@pytest.fixture(scope="module")
def story_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("forms-app")
    settings = Settings(_env_file=None, data_dir=data_dir)
    seed_app_database(settings)
    engine = make_engine(settings)
    with Session(engine) as session:
        data = add_task_story(session)
        session.commit()
    engine.dispose()
    return {"data_dir": data_dir, "settings": settings, **data}


@pytest.fixture
def app_env(story_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(story_data["data_dir"]))
    for name in ("CLAIMDESK_DATABASE_URL", "CLAIMDESK_PREFECT_API_URL", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    yield story_data["settings"]


def _page(path: str, username: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(UI_DIR / path), default_timeout=TIMEOUT)
    at.session_state["auth.user"] = signed_in(username)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _flat(node: Any) -> list[Any]:
    """Every element under ``node`` in page order."""
    found = [node]
    for child in getattr(node, "children", {}).values():
        found += _flat(child)
    return found


def _error_after(at: AppTest, widget_key: str) -> str:
    """The error drawn right under the widget ``widget_key`` (its field's slot)."""
    elements = [e for e in _flat(at.main) if getattr(e, "type", "") not in ("vertical", "flex")]
    index = next(i for i, e in enumerate(elements) if getattr(e, "key", None) == widget_key)
    following = elements[index + 1]
    assert following.type == "error", f"{widget_key} is followed by {following.type}"
    return str(following.value)


def _charts(at: AppTest) -> list[str]:
    """Each Altair chart's spec and data as text (AppTest knows them as vega_lite_chart)."""
    return [
        c.proto.SerializeToString().decode("utf-8", "replace") for c in at.get("vega_lite_chart")
    ]


def test_eligibility_form_starts_from_the_suggestion_and_the_271_s_payer(
    app_env: Settings, story_data: dict[str, Any]
) -> None:
    task_id = story_data["eligibility_task"]
    at = _page("pages/task_page.py", "spec1", task=str(task_id))
    assert not at.exception, at.exception
    action = at.selectbox(key=f"decision.{task_id}.action")
    assert action.value == "corrected_coverage"
    assert action.format_func(action.value).startswith("Correct the coverage")
    assert any(OTHER[0] in i.value and "Suggested" in i.value for i in at.info)
    payer = at.selectbox(key=f"decision.{task_id}.coverage.payer_id")
    assert payer.value == OTHER[1]  # what the form submits: the EDI id
    assert f"{OTHER[0]} ({OTHER[1]})" in [payer.format_func(o) for o in payer.options]
    starts = at.date_input(key=f"decision.{task_id}.coverage.effective_from")
    assert starts.value is not None  # the claim's date of service, as a date
    assert at.text_input(key=f"decision.{task_id}.coverage.member_id").value == ""


def test_a_wrong_value_is_named_at_its_field(app_env: Settings, story_data: dict[str, Any]) -> None:
    task_id = story_data["eligibility_task"]
    at = _page("pages/task_page.py", "spec1", task=str(task_id))
    next(b for b in at.button if b.label == "Submit decision").click().run()
    assert not at.exception
    message = _error_after(at, f"decision.{task_id}.coverage.member_id")
    assert message == "Field required"  # the model's words, as the CLI says them
    # Another action shows its own fields only; its problem goes to the reason.
    at.selectbox(key=f"decision.{task_id}.action").select("hold").run()
    assert not [w for w in at.text_input if w.key.endswith("coverage.member_id")]
    next(b for b in at.button if b.label == "Submit decision").click().run()
    assert _error_after(at, f"decision.{task_id}.reason") == "a hold needs a reason"


def test_denial_form_and_the_task_s_pictures(app_env: Settings, story_data: dict[str, Any]) -> None:
    task_id = story_data["denial_task"]
    at = _page("pages/task_page.py", "spec1", task=str(task_id))
    assert not at.exception, at.exception
    assert at.selectbox(key=f"decision.{task_id}.action").value == "appeal"
    argument = at.text_area(key=f"decision.{task_id}.argument").value
    assert argument.startswith("We ask you to reconsider the denial of claim PCN")
    level = at.text_input(key=f"decision.{task_id}.appeal_level")
    assert level.value == "1"
    at.selectbox(key=f"decision.{task_id}.action").select("corrected_claim").run()
    diagnoses = at.multiselect(key=f"decision.{task_id}.corrections.diagnoses")
    assert diagnoses.value == ["E119", "I10"]
    assert diagnoses.format_func("E119").startswith("E119 Type 2 diabetes mellitus")
    place = at.selectbox(key=f"decision.{task_id}.corrections.place_of_service")
    assert place.value == "11" and place.format_func("11") == "11 Office"
    charts = _charts(at)
    assert len(charts) == 2  # the timeline and the money waterfall
    specs = " ".join(charts)
    assert "Insurance still owes" in specs and "Acknowledged" in specs


def test_dashboard_draws_the_trends_with_data(app_env: Settings) -> None:
    at = _page("pages/dashboard_page.py", "mgr1")
    assert not at.exception, at.exception
    specs = _charts(at)
    assert any("definition" in s and "HFMA" in s for s in specs)  # the KPI lines' hover
    assert any("CARC class" in s and "medical necessity" in s for s in specs)  # the heat map
    assert any("due in the week of" in s for s in specs)


def test_a_patient_s_balance_and_ageing_are_drawn(
    app_env: Settings, story_data: dict[str, Any]
) -> None:
    at = _page("pages/balances_page.py", "spec1", patient=str(story_data["patient"]))
    assert not at.exception, at.exception
    specs = _charts(at)
    assert any("who owes" in s for s in specs) and any("0-30" in s for s in specs)


def test_the_cookie_hooks_use_the_sign_in_s_own_keys() -> None:
    assert (session_cookie.USER_KEY, session_cookie.SEEN_KEY, session_cookie.STARTED_KEY) == (
        auth.USER_KEY,
        auth.SEEN_KEY,
        auth.STARTED_KEY,
    )
    assert (session_cookie.NOTICE_KEY, session_cookie.SSO_KEY) == (auth.NOTICE_KEY, auth.SSO_KEY)


def test_signing_out_in_one_tab_signs_out_the_others(app_env: Settings) -> None:
    first = AppTest.from_file(str(UI_DIR / "app.py"), default_timeout=TIMEOUT).run()
    first.text_input(key="auth.username").input("spec2")
    first.text_input(key="auth.password").input(PASSWORD)
    first.button[0].click().run()
    assert first.title[0].value == "Work queue"
    # AppTest starts each run() in Streamlit's pages-folder mode (ui/pages exists), which
    # names widgets differently from the rerun after sign-in: one more run, as a click would.
    first.run()
    sid = first.session_state[session_cookie.SID_KEY]
    # A second tab of the same browser shares the server's session (its cookie names it).
    second = AppTest.from_file(str(UI_DIR / "app.py"), default_timeout=TIMEOUT)
    second.session_state["auth.user"] = signed_in("spec2")
    second.session_state[session_cookie.SID_KEY] = sid
    second.run()
    assert second.title[0].value == "Work queue"
    next(b for b in first.button if b.label == "Sign out").click().run()
    second.run()
    assert "auth.user" not in second.session_state
    assert second.info[0].value == "You signed out (in this or another tab)."
    engine = make_engine(app_env)
    with Session(engine) as session:
        row = session.exec(select(AppSession).order_by(AppSession.id.desc())).first()  # type: ignore[union-attr]
        assert row is not None and row.end_reason == "user" and row.ended_at is not None
    engine.dispose()
