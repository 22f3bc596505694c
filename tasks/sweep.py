"""The deadline sweep's tasks (claimdesk's clock; never Prefect's pause timeout)."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from claimdesk.clock import today
from claimdesk.db import session_scope
from claimdesk.denials.service import open_denial_review
from claimdesk.denials.workflow import (
    appeals_waiting_to_send,
    denials_without_a_review,
)
from claimdesk.settings import get_settings
from claimdesk.workqueue.sweep import sweep_review_deadlines
from models.audit import seal_and_checkpoint
from tasks._db import engine
from tasks._safety import phi_safe


@task(cache_policy=NO_CACHE)
@phi_safe
def sweep_deadlines() -> dict[str, Any]:
    settings = get_settings()
    day = today(settings)
    with session_scope(engine()) as session:
        run = sweep_review_deadlines(session, today=day)
        unsent = appeals_waiting_to_send(session)
        reopened = denials_without_a_review(session)
        # Reopened by mail: a person's review first, so its review opens, not a run.
        for denial_id, _round in reopened:
            open_denial_review(session, denial_id, today=day)
    # Appends are unchained on the request path; the sweep chains them in order and
    # writes a signed checkpoint outside the database every N events.
    sealed = seal_and_checkpoint(engine(), settings)
    return {
        "today": day.isoformat(),
        "reprioritised": len(run.reprioritised),
        "overdue": len(run.overdue),
        "escalated": len(run.escalated),
        "no_lead": run.no_lead,
        "unsent_appeals": unsent,
        "reopened_denials": reopened,
        "audit_sealed": sealed,
    }
