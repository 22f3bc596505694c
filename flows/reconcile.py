"""Nothing a person decided is lost: resume deferred decisions, restart dead review runs."""

from __future__ import annotations

from prefect import flow

from flows.sweep import restart_lost_runs
from tasks.review import resume_recorded_decisions


@flow(name="reconcile-reviews")
async def reconcile_reviews() -> dict[str, int]:
    """Resume runs whose decision waited for Prefect; give orphaned tasks a run."""
    resumed = resume_recorded_decisions()
    started = await restart_lost_runs()
    return {"resumed": resumed, "runs_started": started}
