"""Scrub ready claims and send the clean ones in 837 batches, exactly once per claim version."""

from __future__ import annotations

import asyncio

from prefect import flow

from flows._review import start_review_runs
from tasks.submission import build_interchanges, scrub_claims, send_interchange, settle_sent_claims


@flow(name="submission")
async def submission(batch_size: int = 500, scrub_limit: int = 5000) -> dict[str, int]:
    """Scrub, build interchanges per payer (committed first), send them; errors to review."""
    scrubbed = scrub_claims(scrub_limit)
    await start_review_runs(scrubbed["review_task_ids"])
    built = build_interchanges(batch_size)
    await start_review_runs(built["review_task_ids"])
    futures = [send_interchange.submit(s) for s in built["submission_ids"]]
    sent = [await asyncio.to_thread(f.result) for f in futures]
    settle_sent_claims()
    return {
        "clean": scrubbed["clean"],
        "held": scrubbed["held"],
        "held_at_build": built["held"],
        "interchanges_sent": sum(sent),
        "interchanges_waiting": len(sent) - sum(sent),
    }
