"""835 pickup and posting; each open denial's review task opens with the posting.

No ``appeal`` run starts here: a denial's first step is a person's review, so its
run starts when that person decides (``claimdesk.workqueue.resolve``). Starting
one per denial at posting cost a process each (771 s of 1,000 claims' 14.4 min).
"""

from __future__ import annotations

from prefect import flow

from flows._review import start_review_runs
from tasks.remittance import pick_up_remittances


@flow(name="remittances")
async def remittances() -> dict[str, int]:
    """Post every waiting 835; exceptions and denials to people, secondaries to submission."""
    run = pick_up_remittances()
    await start_review_runs(run["review_task_ids"])
    return {k: v for k, v in run.items() if k not in ("denial_ids", "review_task_ids")}
