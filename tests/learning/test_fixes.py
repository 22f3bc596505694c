"""Learned fixes: people's corrections of a denied line and what the payer did after, the
change most often paid offered on the next such denial as the decision a person submits."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from claimdesk.denials.service import open_denial_review
from claimdesk.learning.fixes import fix_records, learned_fix
from claimdesk.workqueue.appliers import apply_recorded_decision
from claimdesk.workqueue.resolve import check_decision, record_decision
from models import Claim, ClaimLine, Denial, ReviewTask, User
from tests.learning.history import Line, Office, office, post

SERVED = date(2026, 10, 1)
NOTICE = date(2026, 10, 5)
LATER = date(2026, 10, 20)
TODAY = date(2026, 10, 6)


def _denial_task(session: Session, blu: Office, code: str = "97110") -> ReviewTask:
    claim = blu.claim([Line(code, denied="4")], served=SERVED, paid_on=NOTICE)
    denial = session.exec(
        select(Denial).where(Denial.claim_id == claim.id).order_by(col(Denial.id).desc())
    ).first()
    assert denial is not None and denial.id is not None
    return open_denial_review(session, denial.id, today=TODAY)


def _corrected(
    session: Session, blu: Office, user: User, modifiers: list[str], paid: bool | None
) -> None:
    """A denied 97110 corrected with ``modifiers`` (as a person decides it), then paid
    (True), denied again (False) or not adjudicated again yet (None)."""
    task = _denial_task(session, blu)
    assert task.id is not None and task.claim_id is not None
    decision = {
        "action": "corrected_claim",
        "corrections": {"lines": [{"line_number": 1, "modifiers": modifiers}]},
    }
    recorded = record_decision(session=session, task_id=task.id, user=user, decision=decision)
    assert recorded.id is not None
    apply_recorded_decision(session=session, task_id=task.id, decision_id=recorded.id)
    if paid is None:
        return
    again = Line("97110", modifiers=tuple(modifiers), denied=None if paid else "4")
    post(session, session.get_one(Claim, task.claim_id), [again], paid_on=LATER)


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
