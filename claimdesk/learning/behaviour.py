"""Measured payer behaviour: how long each payer takes from submission to its 835, and
the status-polling cadence that follows from it.

The lag of one adjudication is its 835's payment date (else the day it was picked up)
less the day the claim's latest submission before it was sent. Asking about a claim is
worth most while the answer is due: a payer is asked every third of its median lag
(a payer paying in 6 days every 2 days, in 21 days every week), within
``MIN_POLL_HOURS``..``MAX_POLL_HOURS``. With fewer than ``min_claims`` measured
adjudications in the window, the office's configured interval stands.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, or_, select

from claimdesk.learning.history import DEFAULT_WINDOW_DAYS, window_start
from models import ClaimPayment, Payer, Remittance, Submission, SubmissionClaim

MIN_POLL_HOURS = 12
MAX_POLL_HOURS = 7 * 24
DEFAULT_MIN_CLAIMS = 5


@dataclass(frozen=True)
class PayerLag:
    payer_id: int  # the payer's row id
    adjudications: int
    median_days: float
    longest_days: int

    @property
    def poll_interval_hours(self) -> int:
        hours = round(self.median_days * 24 / 3)
        return max(MIN_POLL_HOURS, min(MAX_POLL_HOURS, hours))


def adjudication_lags(
    session: Session,
    *,
    today: date,
    days: int = DEFAULT_WINDOW_DAYS,
    payer_id: int | None = None,
) -> dict[int, PayerLag]:
    """Each payer's (or just ``payer_id``'s) submission → 835 lag over the adjudications
    posted in the window."""
    start = window_start(today, days)
    query = (
        select(ClaimPayment.claim_id, Remittance.payer_id, Remittance)
        .join(Remittance, col(Remittance.id) == col(ClaimPayment.remittance_id))
        .where(col(ClaimPayment.claim_id).is_not(None))
        .where(or_(col(Remittance.payment_date) > start, col(Remittance.payment_date).is_(None)))
    )
    if payer_id is not None:
        query = query.where(Remittance.payer_id == payer_id)
    rows = session.exec(query).all()
    answered = [
        (claim_id, payer, remit.payment_date or remit.received_at.date())
        for claim_id, payer, remit in rows
        if claim_id is not None and payer is not None
    ]
    answered = [row for row in answered if start < row[2] <= today]
    if not answered:
        return {}
    claim_ids = {claim_id for claim_id, _, _ in answered}
    sent: dict[int, list[date]] = defaultdict(list)
    for claim_id, sent_at in session.exec(
        select(SubmissionClaim.claim_id, Submission.sent_at)
        .join(Submission, col(Submission.id) == col(SubmissionClaim.submission_id))
        .where(col(SubmissionClaim.claim_id).in_(claim_ids))
        .where(col(Submission.sent_at).is_not(None))
    ).all():
        if sent_at is not None:
            sent[claim_id].append(sent_at.date())
    lags: dict[int, list[int]] = defaultdict(list)
    for claim_id, payer, paid_on in answered:
        before = [d for d in sent.get(claim_id, []) if d <= paid_on]
        if before:
            lags[payer].append((paid_on - max(before)).days)
    return {
        payer: PayerLag(payer, len(found), float(statistics.median(found)), max(found))
        for payer, found in lags.items()
    }


def poll_interval_hours(
    session: Session,
    payer: Payer,
    *,
    today: date,
    days: int = DEFAULT_WINDOW_DAYS,
    min_claims: int = DEFAULT_MIN_CLAIMS,
) -> int:
    """The payer's status-polling interval: from its measured lag, else as configured."""
    lags = adjudication_lags(session, today=today, days=days, payer_id=payer.id)
    lag = lags.get(payer.id or 0)
    if lag is None or lag.adjudications < min_claims:
        return payer.status_poll_interval_hours
    return lag.poll_interval_hours
