"""Status polling tasks: one per payer, inside that payer's Prefect concurrency limit."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from sqlmodel import Session

from claimdesk.clock import now, today
from claimdesk.denials.workflow import track_appeal_outcomes
from claimdesk.gateway.factory import payer_limit_name
from claimdesk.learning.behaviour import poll_interval_hours
from claimdesk.settings import get_settings
from claimdesk.status_polling.service import claims_due, poll_claims
from models import Payer
from tasks._db import engine
from tasks._safety import phi_safe


@task(cache_policy=NO_CACHE)
@phi_safe
def poll_payer(payer_id: int, limit: int) -> dict[str, Any]:
    """276/277 for the payer's claims due a status check, then its appeals' outcomes."""
    settings = get_settings()
    moment, day = now(settings), today(settings)
    with Session(engine()) as session:
        payer = session.get(Payer, payer_id)
        assert payer is not None
        edi_id = payer.payer_id
        # How often to ask follows how long this payer takes to send its 835.
        interval = poll_interval_hours(
            session,
            payer,
            today=day,
            days=settings.learning_window_days,
            min_claims=settings.learning_min_lines,
        )
        claim_ids = claims_due(
            session, payer=payer, now=moment, limit=limit, interval_hours=interval
        )
    with concurrency(payer_limit_name(edi_id), occupy=1, strict=True):
        run = poll_claims(engine(), settings, payer_id, claim_ids, now=moment, today=day)
        appeals = track_appeal_outcomes(engine(), settings, payer_id)
    return {
        "asked": run.asked,
        "accepted": run.accepted,
        "pending": run.pending,
        "finalized": run.finalized,
        "needs_review": run.needs_review,
        "payer_errors": run.payer_errors + appeals.payer_errors,
        "appeals_overturned": appeals.overturned,
        "appeals_upheld": appeals.upheld,
        "review_task_ids": run.review_task_ids,
        "reopened": appeals.reopened,
        "poll_interval_hours": interval,
    }
