"""Pick up TA1/999/277CA files and match them to submissions and claims."""

from __future__ import annotations

from prefect import flow

from flows._review import start_review_runs
from tasks.submission import pick_up_acknowledgements


@flow(name="acknowledgements")
async def acknowledgements() -> dict[str, int]:
    """Retrieve acknowledgements; rejected claims and batches go to review."""
    run = pick_up_acknowledgements()
    await start_review_runs(run["review_task_ids"])
    return {k: v for k, v in run.items() if k != "review_task_ids"}
