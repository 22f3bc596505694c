"""Decision forms with wrong types, out-of-range amounts and script in free text.

Through the service layer (``record_decision`` / ``resolve_review``, both backends)
and through the task page (Streamlit AppTest): a bad value is refused naming its
field and nothing is stored; script and SQL-ish text is stored as the very same
text, shown escaped (never as HTML), and nothing runs.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from streamlit.testing.v1 import AppTest

from claimdesk.db import make_engine, session_scope
from claimdesk.errors import ValidationFailed
from claimdesk.review.tasks import ensure_review_task
from claimdesk.workqueue.resolve import record_decision, resolve_review
from models import ReviewDecision, ReviewTask, User, verify_audit_chain
from tests.factories import make_claim
from tests.ui.seed import UI_DIR, signed_in

_steps = itertools.count(1)

SCRIPTS = [
    "<script>alert(document.cookie)</script>",
    '<img src=x onerror="alert(1)">',
    "javascript:alert(1)",
    "[click](javascript:alert(1))",
    "'; DROP TABLE review_decision; --",
    "Robert'); DELETE FROM audit_event; --",
    "1' OR '1'='1",
    "{{7*7}} ${7*7} %(x)s",
    "\u202eevil\u200b",
]

LINE = {"line_number": 1}


def _scrub_fix(**line: Any) -> dict[str, Any]:
    return {"action": "corrected_fields", "corrections": {"lines": [{**LINE, **line}]}}


# (task kind, decision, the field the refusal must name)
BAD = [
    ("scrub", {"action": 5, "reason": "x"}, "action"),
    ("scrub", {"action": "delete_everything", "reason": "x"}, "action"),
    ("scrub", {"action": "override", "reason": {"$ne": 1}}, "reason"),
    ("scrub", {"action": "override", "reason": ["a"]}, "reason"),
    ("scrub", {"action": "override", "reason": "x" * 1001}, "reason"),
    ("scrub", {"action": "override", "reason": "ok", "sql": "DROP TABLE claim"}, "sql"),
    ("scrub", _scrub_fix(charge="abc"), "corrections.lines.0.charge"),
    ("scrub", _scrub_fix(charge="-1.00"), "corrections.lines.0.charge"),
    ("scrub", _scrub_fix(charge="0"), "corrections.lines.0.charge"),
    ("scrub", _scrub_fix(charge="1000000.00"), "corrections.lines.0.charge"),
    ("scrub", _scrub_fix(charge="10.001"), "corrections.lines.0.charge"),
    ("scrub", _scrub_fix(charge="NaN"), "corrections.lines.0.charge"),
    ("scrub", _scrub_fix(charge="Infinity"), "corrections.lines.0.charge"),
    ("scrub", _scrub_fix(charge=float("inf")), "corrections.lines.0.charge"),
    ("scrub", _scrub_fix(charge="1e400"), "corrections.lines.0.charge"),
    ("scrub", _scrub_fix(units=0), "corrections.lines.0.units"),
    ("scrub", _scrub_fix(units="1e9"), "corrections.lines.0.units"),
    ("scrub", _scrub_fix(procedure_code="<scr>"), "corrections.lines.0.procedure_code"),
    (
        "scrub",
        _scrub_fix(modifiers=["25", "59", "76", "77", "91"]),
        "corrections.lines.0.modifiers",
    ),
    ("scrub", {**_scrub_fix(), "corrections": {"lines": [{"line_number": 0}]}}, "corrections"),
    ("scrub", {**_scrub_fix(), "corrections": {"lines": [{"line_number": "one"}]}}, "corrections"),
    ("scrub", {**_scrub_fix(), "corrections": {"lines": [LINE] * 51}}, "corrections.lines"),
    ("scrub", {**_scrub_fix(), "corrections": {"lines": "DROP"}}, "corrections.lines"),
    ("scrub", {**_scrub_fix(), "corrections": {"place_of_service": "1' OR 1=1"}}, "corrections"),
    ("scrub", {**_scrub_fix(), "corrections": {"lines": [{"line_number": 7}]}}, "corrections"),
    ("denial", {"action": "appeal", "argument": "x", "appeal_level": 9}, "appeal_level"),
    ("denial", {"action": "appeal", "argument": "x", "appeal_level": "two"}, "appeal_level"),
    ("denial", {"action": "appeal", "argument": "x" * 4001}, "argument"),
    ("denial", {"action": "appeal", "argument": "x", "document_ids": ["x"]}, "document_ids"),
    ("denial", {"action": "bill_patient", "waiver_document_id": -3}, "waiver_document_id"),
    ("scrub", "override", "decision"),
    ("scrub", None, "decision"),
]


def _task(engine: Engine, kind: str = "scrub") -> int:
    with session_scope(engine) as session:
        claim = make_claim(session)
        task = ensure_review_task(
            session=session, kind=kind, claim_id=claim.id, claim_version=1, step=next(_steps)
        )
        return task.id or 0


@pytest.fixture(scope="module")
def people(module_engine: Engine) -> Engine:
    with session_scope(module_engine) as session:
        session.add(User(username="ann", role="specialist", password_hash="x"))
    return module_engine


def _decisions(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(ReviewDecision)).one()


def test_wrong_types_and_out_of_range_amounts_are_refused_naming_the_field(
    people: Engine,
) -> None:
    engine = people
    tasks = {"scrub": _task(engine), "denial": _task(engine, "denial")}
    before = _decisions(engine)
    for kind, decision, field in BAD:
        with (
            pytest.raises(ValidationFailed) as info,
            Session(engine) as session,
        ):
            user = session.exec(select(User).where(User.username == "ann")).one()
            record_decision(session=session, task_id=tasks[kind], user=user, decision=decision)  # type: ignore[arg-type]
        refusal = info.value
        assert refusal.field.startswith(field) or (field == "decision"), (decision, refusal.field)
        assert str(refusal).startswith("decision."), refusal
        # Through the committing entry point as well: refused, and nothing kept.
        with pytest.raises(ValidationFailed):
            resolve_review(
                engine,
                task_id=tasks[kind],
                username="ann",
                decision=decision,  # type: ignore[arg-type]
                resumer=lambda run, ref: None,
            )
    assert _decisions(engine) == before
    with Session(engine) as session:
        assert {session.get(ReviewTask, t).status for t in tasks.values()} == {"open"}  # type: ignore[union-attr]


def test_script_and_sql_in_free_text_are_stored_as_the_same_inert_text(people: Engine) -> None:
    engine = people
    tables = set(sa_inspect(engine).get_table_names())
    decided: dict[int, str] = {}
    for text in SCRIPTS:
        task_id = _task(engine)
        outcome = resolve_review(
            engine,
            task_id=task_id,
            username="ann",
            decision={"action": "override", "reason": text},
            resumer=lambda run, ref: None,
        )
        decided[outcome.decision_id] = text
    with Session(engine) as session:
        for decision_id, text in decided.items():
            row = session.get(ReviewDecision, decision_id)
            assert row is not None and row.decision["reason"] == text.strip()
        assert verify_audit_chain(session) == []
    assert set(sa_inspect(engine).get_table_names()) == tables  # nothing was dropped


def test_nul_character_in_free_text_is_refused_or_stored_never_a_crash(people: Engine) -> None:
    """PostgreSQL cannot hold U+0000 in text: the service must refuse it cleanly."""
    task_id = _task(people)
    try:
        resolve_review(
            people,
            task_id=task_id,
            username="ann",
            decision={"action": "override", "reason": "nul\x00byte"},
            resumer=lambda run, ref: None,
        )
    except ValidationFailed as exc:
        assert exc.field == "reason"


# --- the task page ----------------------------------------------------------------------


def _page(username: str, task_id: int) -> AppTest:
    at = AppTest.from_file(str(UI_DIR / "pages/task_page.py"), default_timeout=60)
    at.session_state["auth.user"] = signed_in(username)
    at.query_params["task"] = str(task_id)
    return at.run()


def _no_html(at: AppTest) -> None:
    """No markdown on the page renders HTML, and no script text reaches markdown at all."""
    for element in at.markdown:
        assert not element.proto.allow_html, element.value
        assert "<script" not in element.value and "javascript:" not in element.value


def test_task_page_refuses_bad_amounts_naming_the_field_and_stores_nothing(
    app_env: Any, app_data: dict[str, Any]
) -> None:
    task_id = app_data["task_ids"][2]
    engine = make_engine(app_env)
    before = _decisions(engine)
    at = _page("spec1", task_id)
    key = f"decision.{task_id}"
    at.selectbox(key=f"{key}.action").select("corrected_fields").run()
    at.number_input(key=f"{key}.corrections.lines.1.charge").set_value(0.0)
    at.button[-1].click().run()
    assert not at.exception
    # The refusal is shown at the charge field (and the form says it is not complete).
    errors = [e.value for e in at.error]
    assert "Input should be greater than 0" in errors and any("not complete" in e for e in errors)
    _no_html(at)
    assert _decisions(engine) == before
    engine.dispose()


def test_task_page_stores_script_text_inert_and_shows_it_escaped(
    app_env: Any, app_data: dict[str, Any]
) -> None:
    task_id = app_data["task_ids"][3]
    payload = "<script>alert(1)</script> javascript:alert(2) '; DROP TABLE claim; --"
    at = _page("spec1", task_id)
    at.selectbox(key=f"decision.{task_id}.action").select("override")
    at.text_area(key=f"decision.{task_id}.reason").input(payload)
    at.button[-1].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith("Decision #")
    at.text_area(key="task.comment.body").input(payload)
    next(b for b in at.button if b.label == "Add comment").click().run()
    assert not at.exception and not at.error
    engine = make_engine(app_env)
    with Session(engine) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None and task.status == "resolved"
        stored = session.get(ReviewDecision, task.decision_id)
        assert stored is not None and stored.decision["reason"] == payload
    engine.dispose()
    # Read back by someone else: the decision as JSON data, the comment as plain text.
    at = _page("spec2", task_id)
    assert not at.exception
    assert any(payload in str(j.value) for j in at.json)
    assert any(t.value == payload for t in at.text)
    _no_html(at)
