"""The Suggestions page's service: a manager has the learners look and reads the rules
with their figures (audited), backtests one again; only a lead decides, a dismissal needs
a reason, and a refusal is audited with nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.db import make_engine, session_scope
from claimdesk.errors import PermissionDenied, ValidationFailed
from claimdesk.learning.suggestions import (
    backtest_again,
    decide_rule,
    find_suggestions,
    read_rules,
)
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from models import AuditEvent, LearnedRule, User
from tests.learning.history import Line, office

TODAY = date(2026, 12, 1)
SERVED = date(2026, 10, 1)


@pytest.fixture
def engine(fresh_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        for name, role in (("lou", "lead"), ("max", "manager"), ("sam", "specialist")):
            session.add(User(username=name, role=role, password_hash="x"))
        blu = office(session, "SIMBLU")
        for _ in range(5):
            blu.claim([Line("97110", denied="4")], served=SERVED, paid_on=SERVED)
        blu.claim([Line("97110")], served=SERVED, paid_on=SERVED)  # paid without GP once
        for _ in range(7):
            blu.claim([Line("97110", modifiers=("GP",))], served=SERVED, paid_on=SERVED)
    yield engine
    engine.dispose()


def _actions(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(e.action, e.actor) for e in session.exec(select(AuditEvent)).all()]


def test_a_manager_reads_the_figures_and_a_lead_decides(
    engine: Engine, fresh_settings: Settings
) -> None:
    [rule_id] = find_suggestions(engine, fresh_settings, username="max", today=TODAY)
    assert find_suggestions(engine, fresh_settings, username="max", today=TODAY) == [rule_id]
    [rule] = read_rules(engine, username="max")
    assert (rule.id, rule.status, rule.pattern) == (
        rule_id,
        "suggested",
        "SIMBLU · 97110 without modifier GP",
    )
    assert (rule.denied, rule.other_side_denied, rule.carc) == ((5, 6), (0, 7), "CO-4")
    assert rule.dollars == Decimal("700.00")
    assert rule.backtest is not None
    assert (rule.backtest.denials_caught, rule.backtest.false_holds) == (5, 1)
    assert rule.backtest.dollars_caught == Decimal("700.00")
    assert (
        backtest_again(engine, fresh_settings, username="max", rule_id=rule_id, today=TODAY)
        == rule.backtest
    )

    with pytest.raises(PermissionDenied):
        decide_rule(engine, username="max", rule_id=rule_id, decision="approve", reason=None)
    with pytest.raises(ValidationFailed, match="reason"):
        decide_rule(engine, username="lou", rule_id=rule_id, decision="dismiss", reason=" ")
    with Session(engine) as session:
        assert session.get_one(LearnedRule, rule_id).status == "suggested"
    done = decide_rule(engine, username="lou", rule_id=rule_id, decision="approve", reason="ok")
    assert (done.status, done.decided_by, done.decision_reason) == ("approved", "lou", "ok")
    actions = _actions(engine)
    for expected in (
        ("learned_rule.suggested", "max"),
        ("learned_rule.searched", "max"),
        ("learned_rule.listed", "max"),
        ("learned_rule.backtested", "max"),
        ("access.refused", "max"),
        ("learned_rule.approved", "lou"),
    ):
        assert expected in actions, expected


def test_a_specialist_sees_no_suggestions(engine: Engine) -> None:
    with pytest.raises(PermissionDenied, match=r"rules\.view"):
        read_rules(engine, username="sam")
    assert ("access.refused", "sam") in _actions(engine)
