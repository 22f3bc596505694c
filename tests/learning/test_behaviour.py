"""Measured payer behaviour: each payer's submission → 835 lag sets how often its claims
are asked about (276); a payer with too few measured claims keeps its configured cadence."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from claimdesk.learning.behaviour import adjudication_lags, poll_interval_hours
from claimdesk.status_polling.service import claims_due
from models import Claim, StatusCheck, Submission, SubmissionClaim
from tests.learning.history import Line, Office, office

TODAY = date(2026, 12, 1)
_numbers = itertools.count(100)


def _sent_and_paid(session: Session, payer: Office, sent: date, lag_days: int) -> Claim:
    claim = payer.claim([Line("99213")], served=sent, paid_on=sent + timedelta(days=lag_days))
    n = next(_numbers)
    submission = Submission(
        payer_id=payer.payer.id or 0,
        interchange_control_number=f"{n:09d}",
        group_control_number=str(n),
        set_control_number=str(n),
        payload_id=f"00000000-0000-0000-0000-{n:012d}",
        status="acknowledged",
        sent_at=datetime.combine(sent, datetime.min.time(), tzinfo=UTC),
    )
    session.add(submission)
    session.flush()
    session.add(
        SubmissionClaim(
            submission_id=submission.id or 0, claim_id=claim.id or 0, claim_version=claim.version
        )
    )
    session.flush()
    return claim


def test_a_slow_payer_is_asked_less_often_a_fast_one_more(session: Session) -> None:
    fast, slow, few = (
        office(session, "SIMFST"),
        office(session, "SIMSLW"),
        office(session, "SIMFEW"),
    )
    for n, lag in enumerate((5, 6, 6, 6, 7)):
        _sent_and_paid(session, fast, date(2026, 11, 1) + timedelta(days=n), lag)
    for n, lag in enumerate((18, 20, 21, 21, 25, 30)):
        _sent_and_paid(session, slow, date(2026, 10, 1) + timedelta(days=n), lag)
    for n in range(2):
        _sent_and_paid(session, few, date(2026, 11, 1) + timedelta(days=n), 30)
    lags = adjudication_lags(session, today=TODAY)
    assert (lags[fast.payer.id or 0].median_days, lags[fast.payer.id or 0].adjudications) == (6, 5)
    assert (lags[slow.payer.id or 0].median_days, lags[slow.payer.id or 0].longest_days) == (21, 30)
    assert poll_interval_hours(session, fast.payer, today=TODAY) == 48  # 6 days / 3
    assert (
        poll_interval_hours(session, slow.payer, today=TODAY) == 168
    )  # 21 days / 3: a week, the most
    assert few.payer.status_poll_interval_hours == 24
    assert poll_interval_hours(session, few.payer, today=TODAY) == 24  # two claims: as configured
    # Outside the window nothing is measured: the configured cadence again.
    assert poll_interval_hours(session, fast.payer, today=TODAY, days=10) == 24


def test_the_measured_interval_decides_which_claims_are_due(session: Session) -> None:
    payer = office(session, "SIMFST")
    claim = payer.claim([Line("99213")], served=date(2026, 11, 1), paid_on=date(2026, 11, 5))
    claim.status = "accepted"
    session.add(claim)
    session.flush()
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    session.add(StatusCheck(claim_id=claim.id or 0, checked_at=now - timedelta(hours=30)))
    session.flush()
    assert claims_due(session, payer=payer.payer, now=now) == [claim.id]  # configured: 24 h
    assert claims_due(session, payer=payer.payer, now=now, interval_hours=48) == []
