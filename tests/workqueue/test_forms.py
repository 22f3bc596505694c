"""Decision forms in the office's words: sentences, the suggestion, look-ups, what is known.

On a real migrated database (SQLite and PostgreSQL) with the story of
``tests.workqueue.task_story``; the decision a form yields goes through the same models
and checks as the command line's (the last tests run it through ``claimdesk review``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from claimdesk.db import make_engine, session_scope
from claimdesk.denials.service import drop_action
from claimdesk.review.decisions import DECISION_MODELS
from claimdesk.settings import Settings, get_settings
from claimdesk.workqueue import forms, resolve, task_view
from claimdesk.workqueue.appliers import apply_recorded_decision
from models import Claim, Coverage, Payer, ReviewDecision, ReviewTask
from tests.conftest import DB_BACKENDS, sign_in_cli
from tests.ui.seed import seed_app_database
from tests.workqueue.task_story import OTHER, add_task_story


def _world(settings: Settings) -> tuple[Engine, dict[str, Any]]:
    seed_app_database(settings)
    engine = make_engine(settings)
    with Session(engine) as session:
        data = add_task_story(session)
        session.commit()
    return engine, data


@pytest.fixture(scope="module", params=DB_BACKENDS)
def story(
    request: pytest.FixtureRequest, databases: Any
) -> Iterator[tuple[Engine, dict[str, Any]]]:
    """Read only: the tests here change nothing in it."""
    engine, data = _world(databases.settings(request.param))
    yield engine, data
    engine.dispose()


def _plan(engine: Engine, task_id: int) -> tuple[task_view.TaskView, forms.FormPlan]:
    view = task_view.read_task_view(engine, username="spec1", task_id=task_id)
    return view, forms.plan_form(view, forms.read_lookups(engine, username="spec1"))


def test_every_action_of_every_kind_reads_as_a_sentence() -> None:
    for kind, model in DECISION_MODELS.items():
        actions = forms.schema_actions(model.model_json_schema())
        assert actions, kind
        sentences = forms.ACTION_SENTENCES[kind]
        assert set(actions) == set(sentences), kind
        assert all(" " in s and s[0].isupper() for s in sentences.values()), kind
        for name, used_by in forms.FIELDS_FOR.get(kind, {}).items():
            assert name in model.model_fields, (kind, name)
            assert used_by <= set(actions), (kind, name)


def test_other_primary_starts_from_corrected_coverage_at_the_payer_the_271_named(
    story: tuple[Engine, dict[str, Any]],
) -> None:
    engine, data = story
    view, plan = _plan(engine, data["eligibility_task"])
    assert plan.suggestion is not None and plan.suggestion.action == "corrected_coverage"
    assert OTHER[0] in plan.suggestion.why
    assert plan.actions[plan.action_index()].value == "corrected_coverage"
    assert plan.actions[plan.action_index()].label.startswith("Correct the coverage")
    assert plan.defaults["coverage.payer_id"] == OTHER[1]  # the EDI id the picker submits
    assert forms.Option(OTHER[1], f"{OTHER[0]} ({OTHER[1]})") in plan.options["coverage.payer_id"]
    assert "coverage.member_id" not in plan.defaults  # the other payer's id is not known here
    assert plan.defaults["coverage.effective_from"] == view.claim.service_from  # type: ignore[union-attr]
    assert plan.uses("coverage", "corrected_coverage") and not plan.uses("coverage", "self_pay")


def test_a_denial_starts_from_its_routing_action_with_the_appeal_filled_in(
    story: tuple[Engine, dict[str, Any]],
) -> None:
    engine, data = story
    view, plan = _plan(engine, data["denial_task"])
    assert plan.suggestion is not None and plan.suggestion.action == "appeal"
    assert (
        plan.suggestion.why.startswith("CO-50: ") and "medically necessary" in plan.suggestion.why
    )
    assert view.claim is not None
    assert view.claim.patient_control_number in plan.defaults["argument"]
    assert plan.defaults["appeal_level"] == 1
    assert plan.defaults["corrections.diagnoses"] == ["E119", "I10"]
    labels = {o.value: o.label for o in plan.options["corrections.diagnoses"]}
    assert labels["E119"] == "E119 Type 2 diabetes mellitus without complications"
    assert labels["I10"].startswith("I10 Essential (primary) hypertension")
    places = {o.value: o.label for o in plan.options["corrections.place_of_service"]}
    assert places["11"] == "11 Office"
    assert [line.procedure_code for line in plan.lines] == ["99214"]
    assert not plan.uses("argument", "write_off") and plan.uses("reason", "write_off")


def test_a_denial_without_appeal_rights_neither_offers_nor_suggests_an_appeal(
    story: tuple[Engine, dict[str, Any]],
) -> None:
    engine, data = story
    view = task_view.read_task_view(engine, username="spec1", task_id=data["denial_task"])
    drop_action(view.task, "appeal")  # what opening a non-appealable denial's task does
    plan = forms.plan_form(view, forms.Lookups())
    assert "appeal" not in [o.value for o in plan.actions]
    assert plan.suggestion is None and plan.action_index() == 0


def _plan_with_line() -> forms.FormPlan:
    plan = forms.FormPlan("scrub", [], None)
    plan.defaults.update({"corrections.place_of_service": "11", "corrections.diagnoses": ["E119"]})
    plan.lines = [forms.LineNow(1, "99213", ("25",), Decimal("1"), Decimal("125.00"))]
    return plan


def test_corrections_carry_only_what_the_person_changed() -> None:
    plan = _plan_with_line()
    same = {
        "place_of_service": "11",
        "diagnoses": ["E119"],
        "lines": [
            {"line_number": 1, "procedure_code": "99213", "modifiers": ["25"],
             "units": Decimal("1.0"), "charge": Decimal("125.0")},
        ],
    }  # fmt: skip
    assert forms.corrections_changed(same, plan) == {}
    changed = {**same, "diagnoses": ["E119", "I10"]}
    changed["lines"] = [{**same["lines"][0], "modifiers": ["25", "59"], "charge": Decimal("130")}]
    assert forms.corrections_changed(changed, plan) == {
        "diagnoses": ["E119", "I10"],
        "lines": [{"line_number": 1, "modifiers": ["25", "59"], "charge": Decimal("130.00")}],
    }


def test_problems_are_named_at_the_field_they_are_about() -> None:
    missing = resolve.check_decision(
        "eligibility",
        {"action": "corrected_coverage", "coverage": {"payer_id": "HARB1", "member_id": ""}},
    )
    by_field = forms.problems_by_field(missing)
    assert set(by_field) == {"coverage.member_id", "coverage.effective_from"}
    assert "at least 1 character" in by_field["coverage.member_id"][0]
    assert forms.problems_by_field(resolve.check_decision("eligibility", {"action": "hold"})) == {
        "reason": ["a hold needs a reason"]
    }
    appeal = resolve.check_decision("denial", {"action": "appeal"})
    assert forms.problems_by_field(appeal) == {"argument": ["an appeal needs an argument"]}
    refused = "decision.corrections.lines: the claim has no line 9; its lines are [1]."
    assert forms.problems_by_field([refused]) == {
        "corrections.lines": ["the claim has no line 9; its lines are [1]."]
    }


@pytest.fixture
def fresh_story(fresh_settings: Settings) -> Iterator[tuple[Engine, dict[str, Any], Settings]]:
    engine, data = _world(fresh_settings)
    yield engine, data, fresh_settings
    engine.dispose()


def _cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    from claimdesk.cli.main import app

    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(settings.data_dir))
    if settings.database_url is not None:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", settings.database_url.get_secret_value())
    else:
        monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    for name in ("CLAIMDESK_PREFECT_API_URL", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()


def test_the_form_s_decision_is_the_cli_s_decision(
    fresh_story: tuple[Engine, dict[str, Any], Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, data, settings = fresh_story
    task_id = data["eligibility_task"]
    _, plan = _plan(engine, task_id)
    served = date.fromisoformat(data["served"])
    decision = {
        "action": plan.actions[plan.action_index()].value,
        "coverage": {
            "payer_id": plan.defaults["coverage.payer_id"],
            "member_id": "",  # left empty: the CLI names the same field the form does
            "effective_from": served.isoformat(),
        },
    }
    sign_in_cli(settings, "spec1")
    refused = _cli(settings, monkeypatch, "review", "resolve", str(task_id),
                   "--decision", json.dumps(decision))  # fmt: skip
    assert refused.exit_code == 2, refused.output
    assert "coverage.member_id" in refused.output
    assert forms.problems_by_field(resolve.check_decision("eligibility", decision)).keys() == {
        "coverage.member_id"
    }
    decision["coverage"]["member_id"] = "HM-778"
    assert resolve.check_decision("eligibility", decision) == []
    done = _cli(settings, monkeypatch, "review", "resolve", str(task_id),
                "--decision", json.dumps(decision))  # fmt: skip
    assert done.exit_code == 0, done.output
    with Session(engine) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None and task.status == "resolved" and task.decision_id is not None
        stored = session.get(ReviewDecision, task.decision_id)
        assert stored is not None and stored.decision["coverage"]["payer_id"] == OTHER[1]
    with session_scope(engine) as session:  # what the flow (or the app) then applies
        apply_recorded_decision(session=session, task_id=task_id, decision_id=task.decision_id)
    with Session(engine) as session:
        claim = session.get(Claim, data["held_claim"])
        assert claim is not None
        coverage = session.get(Coverage, claim.coverage_id)
        assert coverage is not None and coverage.member_id == "HM-778"
        payer = session.get(Payer, coverage.payer_id)
        assert payer is not None and payer.payer_id == OTHER[1]
