"""A lead approves a learned rule (a specialist is refused, audited); the scrubber then
holds the next such claim with the rule's words and fix, under the raised pack version."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.db import make_engine, session_scope
from claimdesk.errors import InvalidTransition, PermissionDenied
from claimdesk.learning.approval import approve_rule, dismiss_rule, store_suggestion
from claimdesk.learning.backtest import backtest
from claimdesk.learning.history import line_outcomes
from claimdesk.learning.patterns import suggest_rules
from claimdesk.migrate import upgrade_database
from claimdesk.rules import DEFAULT_PACK
from claimdesk.settings import Settings
from claimdesk.submission.service import scrub_ready_claims
from models import AuditEvent, LearnedRule, ReviewTask, User
from tests.learning.history import Line, Office, office

TODAY = date(2026, 12, 1)
SERVED = date(2026, 10, 1)


@pytest.fixture
def engine(fresh_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    yield engine
    engine.dispose()


def _suggested(engine: Engine) -> tuple[int, Office]:
    with session_scope(engine) as session:
        session.add(User(username="lou", role="lead", password_hash="x"))
        session.add(User(username="sam", role="specialist", password_hash="x"))
        blu = office(session, "SIMBLU")
        for _ in range(6):
            blu.claim([Line("97110", denied="4")], served=SERVED, paid_on=SERVED)
        for _ in range(6):
            blu.claim([Line("97110", modifiers=("GP",))], served=SERVED, paid_on=SERVED)
        history = line_outcomes(session, today=TODAY)
        [suggestion] = suggest_rules(history)
        row = store_suggestion(
            session, suggestion, backtest(suggestion.rule, history), actor="system:learning"
        )
        assert row.id is not None and row.status == "suggested"
        assert row.evidence["backtest"]["denials_caught"] == 6
        return row.id, blu


def _user(session: Session, name: str) -> User:
    return session.exec(select(User).where(User.username == name)).one()


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_a_specialist_may_not_approve_and_the_refusal_is_audited(engine: Engine) -> None:
    rule_id, _ = _suggested(engine)
    with pytest.raises(PermissionDenied, match=r"rules\.approve"), session_scope(engine) as s:
        approve_rule(s, rule_id, user=_user(s, "sam"))
    [refusal] = _events(engine, "access.refused")
    assert (refusal.actor, refusal.details["action"]) == ("sam", "rules.approve")
    with Session(engine) as session:
        row = session.get(LearnedRule, rule_id)
        assert row is not None and row.status == "suggested" and row.pack_version is None
    assert _events(engine, "learned_rule.approved") == []


def test_approved_the_scrubber_holds_the_next_such_claim_with_words_and_fix(
    engine: Engine,
) -> None:
    rule_id, blu = _suggested(engine)
    with session_scope(engine) as session:
        row = approve_rule(session, rule_id, user=_user(session, "lou"), reason="clear split")
        assert (row.status, row.pack_version, row.decided_by) == ("approved", 1, "lou")
    [approved] = _events(engine, "learned_rule.approved")
    label = f"{DEFAULT_PACK.label}+learned.1"
    assert (approved.actor, approved.details["pack"]) == ("lou", label)
    with session_scope(engine) as session, pytest.raises(InvalidTransition):
        dismiss_rule(session, rule_id, user=_user(session, "lou"), reason="late")
    with session_scope(engine) as session:
        blu.session = session
        ids = {}
        for name, modifiers in (("bare", ()), ("gp", ("GP",))):
            claim = blu.claim([Line("97110", modifiers=modifiers)], served=TODAY, paid_on=TODAY)
            set_claim_status(session=session, claim=claim, status="ready", actor="test")
            ids[name] = claim.id
    scrub_ready_claims(engine, today=TODAY)
    scrubbed = {e.entity_id: e.details for e in _events(engine, "claim.scrubbed")}
    learned = f"CD-LEARN-{rule_id}"
    assert scrubbed[str(ids["bare"])]["pack"] == label
    assert learned in scrubbed[str(ids["bare"])]["errors"]
    assert learned not in scrubbed[str(ids["gp"])]["errors"]
    with Session(engine) as session:
        task = session.exec(
            select(ReviewTask).where(ReviewTask.kind == "scrub", ReviewTask.claim_id == ids["bare"])
        ).one()
    [finding] = [f for f in task.context["findings"] if f["rule_id"] == learned]
    assert finding["field"] == "lines[1].modifiers"
    assert finding["message"] == (
        "SIMBLU: 97110 without GP → hold; CO-4, 6 of 6 denied, 0 of 6 with GP denied; "
        "$840 in 90 days; suggested fix: add modifier GP"
    )


def test_dismissing_needs_a_reason_and_is_audited(engine: Engine) -> None:
    rule_id, _ = _suggested(engine)
    with session_scope(engine) as session:
        dismiss_rule(session, rule_id, user=_user(session, "lou"), reason="payer changed policy")
    [event] = _events(engine, "learned_rule.dismissed")
    assert event.details["reason"] == "payer changed policy"
    assert event.details["pack"] == DEFAULT_PACK.label  # nothing approved: the core pack
