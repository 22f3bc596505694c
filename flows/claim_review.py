"""Per-claim review runs: wait for a person's decision, then apply it."""

from __future__ import annotations

from prefect import flow

from flows._review import await_decision
from tasks.review import apply_decision


@flow(name="claim-review", log_prints=False)
async def claim_review(task_id: int) -> str:
    """Wait for the decision on review task ``task_id`` and apply it to the claim."""
    decision_id = await await_decision(task_id)
    return apply_decision(task_id, decision_id)
