"""Denial tasks ranked by dollars × the chance of winning: the payer × CARC's own appeal
outcomes (one imaginary win: never appealed ranks by dollars alone), at creation and in
the deadline sweep alike."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from claimdesk.denials.overturn import overturn_rates
from claimdesk.denials.service import open_denial_review
from claimdesk.review.priority import value_priority
from claimdesk.workqueue.sweep import sweep_review_deadlines
from models import Appeal, Denial, ReviewTask
from tests.learning.history import Line, Office, office

NOTICE = date(2026, 10, 1)
TODAY = date(2026, 10, 6)


def _denial(payer: Office, carc: str, charge: str = "2000.00") -> Denial:
    claim = payer.claim([Line("99214", charge, denied=carc)], served=NOTICE, paid_on=NOTICE)
    denial = payer.session.exec(
        select(Denial).where(Denial.claim_id == claim.id).order_by(col(Denial.id).desc())
    ).first()
    assert denial is not None
    return denial


def _appealed(payer: Office, carc: str, outcomes: list[str]) -> None:
    for outcome in outcomes:
        denial = _denial(payer, carc, "100.00")
        payer.session.add(
            Appeal(
                denial_id=denial.id or 0,
                claim_id=denial.claim_id,
                level=1,
                deadline=NOTICE + timedelta(days=180),
                outcome=outcome,
            )
        )
    payer.session.flush()


def test_a_payer_carc_whose_appeals_are_upheld_ranks_below_one_never_appealed(
    session: Session,
) -> None:
    acm = office(session, "SIMACM")
    _appealed(acm, "50", ["upheld", "upheld", "upheld", "upheld"])
    _appealed(acm, "16", ["overturned", "overturned", "partially_overturned", "upheld"])
    rates = overturn_rates(session)
    payer = acm.payer.id or 0
    assert {k: (r.won, r.decided, r.chance) for k, r in rates.items()} == {
        (payer, "CO-50"): (0, 4, Decimal("0.2")),
        (payer, "CO-16"): (3, 4, Decimal("0.8")),
    }

    tasks = {carc: open_denial_review(session, _denial(acm, carc).id or 0, today=TODAY)
             for carc in ("50", "16", "197")}  # fmt: skip
    deadline = date.fromisoformat(tasks["50"].context["deadline"])
    assert {carc: t.priority for carc, t in tasks.items()} == {
        "50": value_priority(Decimal("400.00"), deadline, TODAY),  # $2,000 × 0.2
        "16": value_priority(Decimal("1600.00"), deadline, TODAY),  # × 0.8
        "197": value_priority(Decimal("2000.00"), deadline, TODAY),  # never appealed: × 1
    }
    assert tasks["197"].priority > tasks["16"].priority > tasks["50"].priority

    # The sweep raises priorities on the same weighted dollars, a week nearer the deadline.
    later = TODAY + timedelta(days=7)
    for task in tasks.values():
        task.priority = 0
        session.add(task)
    session.flush()
    sweep_review_deadlines(session, today=later)
    swept = {carc: session.get_one(ReviewTask, t.id).priority for carc, t in tasks.items()}
    assert swept == {
        "50": value_priority(Decimal("400.00"), deadline, later),
        "16": value_priority(Decimal("1600.00"), deadline, later),
        "197": value_priority(Decimal("2000.00"), deadline, later),
    }
