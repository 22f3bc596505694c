"""A real embedded stack for end-to-end tests: Prefect server, worker, payer simulator.

Started through the same ``Stack`` and bootstrap as ``claimdesk up`` (schedules off:
the tests run each workflow themselves), on free ports, in a throwaway data directory.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.stack import Ports, Stack
from models import ReviewDecision, ReviewTask


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_ports() -> Ports:
    return Ports(prefect=free_port(), payer_sim=free_port(), ui=free_port())


async def _run_and_wait(name: str, timeout: float) -> Any:
    from prefect.deployments.flow_runs import arun_deployment

    return await arun_deployment(name, timeout=timeout, poll_interval=1)


def run_flow(name: str, timeout: float = 240) -> Any:
    """Run deployment ``name`` now and wait for it; fail loudly unless it completed."""
    run = asyncio.run(_run_and_wait(name, timeout))
    assert run.state is not None and run.state.is_completed(), (name, run.state)
    return run


def flow_run_state(flow_run_id: str) -> str:
    from prefect.client.orchestration import get_client

    async def read() -> str:
        async with get_client() as client:
            run = await client.read_flow_run(UUID(flow_run_id))
            return run.state.type.value if run.state else "UNKNOWN"

    return asyncio.run(read())


def flow_runs_of(flow_name: str) -> list[Any]:
    """Every run of flow ``flow_name`` the Prefect server knows (any state)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    async def read() -> list[Any]:
        async with get_client() as client:
            return list(
                await client.read_flow_runs(
                    flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])), limit=200
                )
            )

    return asyncio.run(read())


def flow_run_history(flow_run_id: str) -> list[str]:
    """The names of every state the run has been in, oldest first (Suspended, Running, ...)."""
    from prefect.client.orchestration import get_client

    async def read() -> list[str]:
        async with get_client() as client:
            states = await client.read_flow_run_states(UUID(flow_run_id))
            return [s.name or s.type.value for s in sorted(states, key=lambda s: s.timestamp)]

    return asyncio.run(read())


def wait_until(
    predicate: Callable[[], bool], *, timeout: float, what: str, every: float = 1.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def open_tasks(engine: Engine) -> list[ReviewTask]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(ReviewTask)
                .where(col(ReviewTask.status).in_(("open", "claimed")))
                .order_by(col(ReviewTask.id))
            ).all()
        )


def suspended(engine: Engine, tasks: list[ReviewTask]) -> bool:
    """Every task's run has bound itself and is suspended waiting for a decision."""
    with Session(engine) as session:
        fresh = [session.get(ReviewTask, t.id) for t in tasks]
    return all(
        t is not None and t.flow_run_id and flow_run_state(t.flow_run_id) == "PAUSED" for t in fresh
    )


def decisions_applied(engine: Engine) -> bool:
    with Session(engine) as session:
        return all(d.applied_at is not None for d in session.exec(select(ReviewDecision)).all())


def sim_claims(stack: Stack) -> list[dict[str, Any]]:
    return list(httpx.get(f"{stack.payer_url}/admin/claims", timeout=10).json())
