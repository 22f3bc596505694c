"""Learned fixes: people's corrections of a denied line and what the payer did after, the
change most often paid offered on the next such denial as the decision a person submits."""

from __future__ import annotations

from sqlmodel import Session, select

from claimdesk.learning.fixes import fix_records, learned_fix
from claimdesk.workqueue.appliers import apply_recorded_decision
from claimdesk.workqueue.resolve import check_decision, record_decision
from models import ClaimLine, User
from tests.learning.corrections import corrected as _corrected
from tests.learning.corrections import denial_task as _denial_task
from tests.learning.history import office


def test_the_change_most_often_paid_is_offered_on_the_next_such_denial(
    session: Session,
) -> None:
    user = User(username="sam", role="specialist", password_hash="x")
    session.add(user)
    blu = office(session, "SIMBLU")
    for paid in (True, True, False, None):  # the last is not adjudicated again: not counted
        _corrected(session, blu, user, ["GP"], paid)
    _corrected(session, blu, user, ["59"], True)  # paid once: too little to offer
    records = fix_records(session)
    [pattern] = records
    assert (pattern.payer_code, pattern.procedure_code, pattern.carc) == (
        "SIMBLU",
        "97110",
        "CO-4",
    )
    assert [r.words for r in records[pattern]] == ["added GP: 2 of 3 paid", "added 59: 1 of 1 paid"]

    task = _denial_task(session, blu)
    found = learned_fix(session, task)
    assert found is not None and found.words == "added GP: 2 of 3 paid"
    assert found.decision["corrections"] == {"lines": [{"line_number": 1, "modifiers": ["GP"]}]}
    # The same check and the same applier as any corrected claim: the line gets its GP.
    assert check_decision("denial", found.decision) == []
    assert task.id is not None and task.claim_id is not None
    recorded = record_decision(session=session, task_id=task.id, user=user, decision=found.decision)
    assert recorded.id is not None
    apply_recorded_decision(session=session, task_id=task.id, decision_id=recorded.id)
    line = session.exec(select(ClaimLine).where(ClaimLine.claim_id == task.claim_id)).one()
    assert line.modifiers == ["GP"]


def test_no_fix_for_another_pattern_or_without_enough_paid(session: Session) -> None:
    user = User(username="sam", role="specialist", password_hash="x")
    session.add(user)
    blu = office(session, "SIMBLU")
    _corrected(session, blu, user, ["GP"], True)  # one paid: below the two needed
    assert learned_fix(session, _denial_task(session, blu)) is None
    _corrected(session, blu, user, ["GP"], True)
    assert learned_fix(session, _denial_task(session, blu)) is not None
    assert learned_fix(session, _denial_task(session, blu, code="97112")) is None
