"""Actions on the task and reassign pages through AppTest (their own seeded database)."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from claimdesk.db import make_engine
from claimdesk.workqueue import queue, resolve
from tasks.resume import resume_unavailable
from tests.ui.seed import UI_DIR, signed_in

TIMEOUT = 60


def _page(path: str, username: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(UI_DIR / path), default_timeout=TIMEOUT)
    at.session_state["auth.user"] = signed_in(username)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def test_decision_on_a_task_resolved_meanwhile_is_a_clear_warning(
    app_env: Any, app_data: dict[str, Any]
) -> None:
    task_id = app_data["task_ids"][0]
    at = _page("pages/task_page.py", "spec1", task=str(task_id))
    at.selectbox(key=f"decision.{task_id}.action").select("override")
    at.text_area(key=f"decision.{task_id}.reason").input("codes confirmed")
    engine = make_engine(app_env)
    resolve.submit_decision(  # someone else, while spec1 was typing
        engine,
        username="spec2",
        task_id=task_id,
        decision={"action": "cancel", "reason": "duplicate"},
        resumer=resume_unavailable,
    )
    engine.dispose()
    at.button[-1].click().run()
    assert not at.exception
    assert at.warning[0].value == (
        f"Task {task_id} was resolved by spec2 while you had it open; "
        "your decision was not recorded."
    )


def test_comment_is_added_and_shown(app_env: Any, app_data: dict[str, Any]) -> None:
    task_id = app_data["task_ids"][1]
    at = _page("pages/task_page.py", "spec1", task=str(task_id))
    at.text_area(key="task.comment.body").input("Called the payer; resubmitting.")
    next(b for b in at.button if b.label == "Add comment").click().run()
    assert not at.exception and not at.error
    assert any("Called the payer" in t.value for t in at.text)


def test_lead_bulk_reassign_reports_what_could_not_move(
    app_env: Any, app_data: dict[str, Any]
) -> None:
    engine = make_engine(app_env)
    queue.claim(engine, username="spec2", task_id=app_data["task_ids"][2])
    engine.dispose()
    at = _page("pages/reassign_page.py", "lead1", status="active")
    at.checkbox(key="reassign.all").check()
    at.selectbox(key="reassign.target").select("spec2")
    next(b for b in at.button if b.label == "Reassign").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Moved 4 task(s) to spec2")
    refused = at.dataframe[0].value
    assert list(refused["Why"]) == ["already assigned to spec2"]
