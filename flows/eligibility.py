"""Eligibility before claims go out and before upcoming visits."""

from __future__ import annotations

import asyncio

from prefect import flow

from flows._review import start_review_runs
from tasks.eligibility import check_payer_eligibility, list_payers


@flow(name="eligibility")
async def eligibility(
    horizon_days: int = 3, recheck_days: int = 30, limit: int = 2000
) -> dict[str, int]:
    """Send 270s per payer (bounded concurrency), record 271s, route problems to review."""
    payer_ids = list_payers()
    futures = [
        check_payer_eligibility.submit(p, horizon_days, recheck_days, limit) for p in payer_ids
    ]
    results = [await asyncio.to_thread(f.result) for f in futures]
    task_ids = [t for r in results for t in r["review_task_ids"]]
    await start_review_runs(task_ids)
    return {
        key: sum(r[key] for r in results) for key in ("checked", "active", "held", "payer_errors")
    }
