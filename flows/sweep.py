"""Every 15 minutes: deadlines and SLAs on claimdesk's clock, and nothing decided left behind."""

from __future__ import annotations

from prefect import flow

from flows._review import start_appeal_runs, start_review_runs
from tasks.review import resume_recorded_decisions, review_tasks_needing_a_run
from tasks.sweep import sweep_deadlines


@flow(name="sweep-review-deadlines")
async def sweep_review_deadlines() -> dict[str, int]:
    """Raise priorities, mark passed deadlines, escalate past SLA, resume and restart runs."""
    swept = sweep_deadlines()
    resumed = resume_recorded_decisions()
    started = await restart_lost_runs()
    unsent = swept.pop("unsent_appeals")
    reopened = swept.pop("reopened_denials")  # their reviews opened (no run: a person first)
    day = swept.pop("today")
    await start_appeal_runs(
        [denial for denial, _ in unsent],
        keys={denial: f"denial-{denial}-send-{appeal}-{day}" for denial, appeal in unsent},
    )
    return {
        **swept,
        "resumed": resumed,
        "runs_started": started + len(unsent),
        "reviews_opened": len(reopened),
    }


async def restart_lost_runs() -> int:
    """Tasks no live run waits on get one: a denial's its ``appeal`` run, others a review run.

    A denial's undecided task with no run is left alone: its decision starts the run
    (and ``resume_recorded_decisions`` retries a start that failed).
    """
    needed = review_tasks_needing_a_run()
    reviews = {task_id: key for task_id, key, denial_id in needed if denial_id is None}
    denials = {denial_id: key for _, key, denial_id in needed if denial_id is not None}
    await start_review_runs(list(reviews), keys=reviews)
    await start_appeal_runs(list(denials), keys=denials)
    return len(needed)
