"""Nothing a person decided is lost: resume deferred decisions, restart dead review runs."""

from __future__ import annotations

from prefect import flow

from flows._review import start_review_runs
from tasks.review import resume_recorded_decisions, review_tasks_needing_a_run


@flow(name="reconcile-reviews")
async def reconcile_reviews() -> dict[str, int]:
    """Resume runs whose decision waited for Prefect; give orphaned tasks a run."""
    resumed = resume_recorded_decisions()
    needed = review_tasks_needing_a_run()
    await start_review_runs([task_id for task_id, _ in needed], keys=dict(needed))
    return {"resumed": resumed, "runs_started": len(needed)}
