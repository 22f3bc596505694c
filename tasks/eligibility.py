"""Eligibility tasks: one per payer, inside that payer's Prefect concurrency limit."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency

from claimdesk.clock import today
from claimdesk.db import session_scope
from claimdesk.eligibility.service import payer_ids, run_eligibility, select_coverages_to_check
from claimdesk.gateway.factory import payer_limit_name
from claimdesk.settings import get_settings
from models import Payer
from tasks._db import engine
from tasks._safety import phi_safe


@task(cache_policy=NO_CACHE)
@phi_safe
def list_payers() -> list[int]:
    with session_scope(engine()) as session:
        return payer_ids(session)


@task(cache_policy=NO_CACHE)
@phi_safe
def check_payer_eligibility(
    payer_id: int, horizon_days: int, recheck_days: int, limit: int
) -> dict[str, Any]:
    """270/271 for one payer's coverages that need checking; counts and review task ids."""
    settings = get_settings()
    day = today(settings)
    with session_scope(engine()) as session:
        payer = session.get(Payer, payer_id)
        assert payer is not None
        edi_id = payer.payer_id
        checks = select_coverages_to_check(
            session,
            today=day,
            horizon_days=horizon_days,
            recheck_days=recheck_days,
            limit=limit,
            payer_id=payer_id,
        )
    if not checks:
        return {"checked": 0, "active": 0, "held": 0, "payer_errors": 0, "review_task_ids": []}
    with concurrency(payer_limit_name(edi_id), occupy=1, strict=True):
        run = run_eligibility(engine(), settings, checks, today=day)
    return {
        "checked": run.checked,
        "active": run.active,
        "held": run.held,
        "payer_errors": run.payer_errors,
        "review_task_ids": run.review_task_ids,
    }
