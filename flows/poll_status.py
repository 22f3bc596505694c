"""Claim status polling (276/277) per payer, on each payer's own cadence."""

from __future__ import annotations

import asyncio

from prefect import flow

from flows._review import start_review_runs
from tasks.eligibility import list_payers
from tasks.status import poll_payer


@flow(name="poll-payer-status")
async def poll_payer_status(limit_per_payer: int = 1000) -> dict[str, int]:
    """Ask each payer about claims due a check; stuck claims and upheld appeals to people."""
    futures = [poll_payer.submit(p, limit_per_payer) for p in list_payers()]
    results = [await asyncio.to_thread(f.result) for f in futures]
    await start_review_runs([t for r in results for t in r["review_task_ids"]])
    # An upheld appeal's denial has its next review open (no run until it is decided).
    counted = ("asked", "accepted", "pending", "finalized", "needs_review", "payer_errors",
               "appeals_overturned", "appeals_upheld")  # fmt: skip
    return {key: sum(r[key] for r in results) for key in counted}
