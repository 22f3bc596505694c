"""Remittance pickup: 835 files from every payer mailbox, posted."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from claimdesk.clock import today
from claimdesk.learning.rates import file_new_learned_underpayments
from claimdesk.remittance.retrieval import retrieve_remittances
from claimdesk.settings import get_settings
from tasks._db import engine
from tasks._safety import phi_safe


@task(cache_policy=NO_CACHE)
@phi_safe
def pick_up_remittances() -> dict[str, Any]:
    settings = get_settings()
    run = retrieve_remittances(engine(), settings)
    # Where no fee schedule is loaded, the rates learned from posted 835s judge the lines.
    learned = (
        file_new_learned_underpayments(engine(), settings, today=today(settings))
        if run.posted
        else []
    )
    return {
        "files": run.files,
        "posted": run.posted,
        "duplicates": run.duplicates,
        "exceptions": run.exceptions,
        "payer_errors": run.payer_errors,
        "secondary_claims": len(run.secondary_claim_ids),
        "denial_ids": run.denial_ids,
        "review_task_ids": [*run.review_task_ids, *learned],
        "learned_underpayments": len(learned),
    }
