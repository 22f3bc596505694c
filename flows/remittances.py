"""835 pickup and posting; each open denial gets its own ``appeal`` run."""

from __future__ import annotations

from prefect import flow

from flows._review import start_appeal_runs, start_review_runs
from tasks.remittance import pick_up_remittances


@flow(name="remittances")
async def remittances() -> dict[str, int]:
    """Post every waiting 835; exceptions and denials go to people, secondaries to submission."""
    run = pick_up_remittances()
    await start_review_runs(run["review_task_ids"])
    await start_appeal_runs(run["denial_ids"])
    return {k: v for k, v in run.items() if k not in ("denial_ids", "review_task_ids")}
