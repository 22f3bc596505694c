"""Hand-made history of worked denials: a denied line, a person's corrected-claim decision
(recorded and applied as any decision is) and the payer's next answer on that line."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from claimdesk.denials.service import open_denial_review
from claimdesk.workqueue.appliers import apply_recorded_decision
from claimdesk.workqueue.resolve import record_decision
from models import Claim, Denial, ReviewTask, User
from tests.learning.history import Line, Office, post

SERVED = date(2026, 10, 1)
NOTICE = date(2026, 10, 5)
LATER = date(2026, 10, 20)
TODAY = date(2026, 10, 6)


def denial_task(
    session: Session,
    payer: Office,
    code: str = "97110",
    *,
    served: date = SERVED,
    notice: date = NOTICE,
    today: date = TODAY,
) -> ReviewTask:
    """A one-line claim denied CO-4 and its denial's review task."""
    claim = payer.claim([Line(code, denied="4")], served=served, paid_on=notice)
    denial = session.exec(
        select(Denial).where(Denial.claim_id == claim.id).order_by(col(Denial.id).desc())
    ).first()
    assert denial is not None and denial.id is not None
    return open_denial_review(session, denial.id, today=today)


def corrected(
    session: Session,
    payer: Office,
    user: User,
    modifiers: list[str],
    paid: bool | None,
    *,
    served: date = SERVED,
    later: date = LATER,
) -> None:
    """A denied 97110 corrected with ``modifiers`` (as a person decides it), then paid
    (True), denied again (False) or not adjudicated again yet (None)."""
    task = denial_task(session, payer, served=served, notice=served, today=served)
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
    post(session, session.get_one(Claim, task.claim_id), [again], paid_on=later)
