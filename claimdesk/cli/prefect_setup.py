"""What the deployments need on any Prefect server, created idempotently.

The work pool and its queues (resumed review runs before batch runs), one global
concurrency limit per payer (its ``max_concurrency``; a payer added later gets one on
the next run, a changed limit is updated), and Prefect's "detect zombie flows"
automation. ``claimdesk up`` calls it for its own server; a deployment with workers on
other hosts runs ``claimdesk prefect bootstrap --api URL`` against its shared server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from claimdesk.gateway.factory import payer_limit_name
from claimdesk.stack import WORK_POOL

# The worker serves queues by priority: a resumed review run before a batch run.
QUEUES = (("review", 1), ("default", 10))
# A run whose heartbeats (every 30 s, PREFECT_FLOWS_HEARTBEAT_FREQUENCY) stop this long
# lost its process (worker or host gone).
ZOMBIE_AFTER = timedelta(seconds=75)
ZOMBIE_AUTOMATION = "crash-zombie-flow-runs"


@dataclass
class SetupReport:
    """What this call created or changed (names only); empty lists: all was in place."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"created": self.created, "updated": self.updated}


async def ensure_prefect_setup(payers: list[tuple[str, int]]) -> SetupReport:
    """Create what is missing on the server ``PREFECT_API_URL`` names; safe to repeat."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
        WorkPoolCreate,
    )
    from prefect.exceptions import ObjectNotFound

    report = SetupReport()
    async with get_client() as client:
        try:
            await client.read_work_pool(WORK_POOL)
        except ObjectNotFound:
            await client.create_work_pool(WorkPoolCreate(name=WORK_POOL, type="process"))
            report.created.append(f"work pool {WORK_POOL}")
        for queue_name, priority in QUEUES:
            try:
                queue = await client.read_work_queue_by_name(queue_name, work_pool_name=WORK_POOL)
            except ObjectNotFound:
                await client.create_work_queue(
                    name=queue_name, priority=priority, work_pool_name=WORK_POOL
                )
                report.created.append(f"queue {queue_name}")
                continue
            if queue.priority != priority:
                await client.update_work_queue(queue.id, priority=priority)
                report.updated.append(f"queue {queue_name}")
        for payer_id, limit in payers:
            name = payer_limit_name(payer_id)
            try:
                existing = await client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                await client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=limit)
                )
                report.created.append(f"limit {name}")
                continue
            if existing.limit != limit:
                await client.update_global_concurrency_limit(
                    name, GlobalConcurrencyLimitUpdate(limit=limit)
                )
                report.updated.append(f"limit {name}")
    if await _ensure_zombie_automation():
        report.created.append(f"automation {ZOMBIE_AUTOMATION}")
    return report


async def _ensure_zombie_automation() -> bool:
    """Prefect's "detect zombie flows" automation, once; True when this call created it.

    A run whose heartbeats stop is Crashed: that frees its deployment's one-at-a-time
    slot, so the next scheduled run picks the work up, and the sweep restarts a crashed
    review or appeal run (docs.prefect.io/v3/advanced/detect-zombie-flows).
    """
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    try:
        await Automation.aread(name=ZOMBIE_AUTOMATION)
        return False
    except ValueError:
        pass  # not there yet
    await Automation(
        name=ZOMBIE_AUTOMATION,
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
                "prefect.flow-run.Suspended",
                "prefect.flow-run.Paused",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=ZOMBIE_AFTER,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message="Flow run marked as crashed: its heartbeats stopped (worker gone).",
            )
        ],
    ).acreate()
    return True
