"""Remittance pickup: 835 files from every payer mailbox, posted."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from claimdesk.remittance.retrieval import retrieve_remittances
from claimdesk.settings import get_settings
from tasks._db import engine
from tasks._safety import phi_safe


@task(cache_policy=NO_CACHE)
@phi_safe
def pick_up_remittances() -> dict[str, Any]:
    run = retrieve_remittances(engine(), get_settings())
    return {
        "files": run.files,
        "posted": run.posted,
        "duplicates": run.duplicates,
        "exceptions": run.exceptions,
        "payer_errors": run.payer_errors,
        "secondary_claims": len(run.secondary_claim_ids),
        "denial_ids": run.denial_ids,
        "review_task_ids": run.review_task_ids,
    }
