"""The real stack for the reliability soaks: seeded claims, deployments run with parameters.

``pipeline_stack`` starts Prefect server, worker(s) and the payer simulator the way
``claimdesk up`` does (``bootstrap_stack``, schedules off: the tests run each workflow
themselves, as the schedules would), on SQLite or on PostgreSQL for both the app and
Prefect (docs/running-at-scale.md), with ``claims`` demo claims ready to scrub.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.cli._bootstrap import bootstrap_stack
from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from claimdesk.stack import Stack, prefect_database_for
from models import Claim, Coverage, User
from tests.e2e.stack_fixtures import free_ports


def seed_ready_claims(engine: Engine, claims: int) -> None:
    """``claims`` demo claims, coverage active, ready for the submission flow."""
    with session_scope(engine) as session:
        generate_demo_practice(
            session, claims=claims, seed=42, today=datetime.now(UTC).date(), patients=claims // 3
        )
        for name, role in (("sam", "specialist"), ("lee", "lead")):
            session.add(User(username=name, role=role, password_hash="unused-in-this-test"))
        for coverage in session.exec(select(Coverage)).all():
            coverage.effective_to = None  # eligibility is not what these runs measure
            session.add(coverage)
        for claim in session.exec(select(Claim)).all():
            set_claim_status(session=session, claim=claim, status="ready", actor="test")


@contextmanager
def pipeline_stack(
    databases: Any,
    tmp: Path,
    *,
    claims: int,
    postgres: bool = False,
    workers: int = 1,
    worker_limit: int = 6,
) -> Iterator[tuple[Stack, Engine]]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    settings: Settings = databases.settings("postgresql" if postgres else "sqlite", tmp)
    engine = make_engine(settings)
    upgrade_database(engine)
    seed_ready_claims(engine, claims)
    prefect_db = None
    if postgres:
        prefect_db = prefect_database_for(settings.effective_database_url)
        databases.pg_databases.append(make_url(prefect_db).database)  # dropped at session end
    stack = Stack(
        settings,
        free_ports(),
        prefect_db,
        with_ui=False,
        worker_limit=worker_limit,
        clock_source="payer_sim",
    )
    saved = {
        k: os.environ.get(k)
        for k in ("PREFECT_API_URL", "CLAIMDESK_PAYER_SIM_URL", "CLAIMDESK_CLOCK_SOURCE")
    }
    try:
        bootstrap_stack(stack, demo=False, echo=lambda line: None, schedules="off")
        for n in range(2, workers + 1):
            stack.start_worker(f"worker-{n}")
        os.environ["CLAIMDESK_PAYER_SIM_URL"] = f"{stack.payer_url}/core"
        os.environ["CLAIMDESK_CLOCK_SOURCE"] = "payer_sim"
        with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
            yield stack, engine
    finally:
        stack.stop()
        engine.dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


async def _run(name: str, parameters: dict[str, Any] | None, timeout: float) -> Any:
    from prefect.deployments.flow_runs import arun_deployment

    return await arun_deployment(
        name, parameters=parameters or {}, timeout=timeout, poll_interval=1
    )


def run_flow(name: str, parameters: dict[str, Any] | None = None, timeout: float = 900) -> Any:
    """Run deployment ``name`` now and wait for it; fail loudly unless it completed."""
    run = asyncio.run(_run(name, parameters, timeout))
    assert run.state is not None and run.state.is_completed(), (name, run.state)
    return run


def start_flow(name: str, parameters: dict[str, Any] | None = None) -> UUID:
    """Create a run of deployment ``name`` and return at once (its id)."""
    run = asyncio.run(_run(name, parameters, 0))
    return UUID(str(run.id))


def flow_run_state(run_id: UUID) -> str:
    from prefect.client.orchestration import get_client

    async def read() -> str:
        async with get_client() as client:
            run = await client.read_flow_run(run_id)
            return run.state.type.value if run.state else "UNKNOWN"

    return asyncio.run(read())


def flow_run_seconds(run_id: UUID) -> float:
    from prefect.client.orchestration import get_client

    async def read() -> float:
        async with get_client() as client:
            run = await client.read_flow_run(run_id)
            return float(run.total_run_time.total_seconds())

    return asyncio.run(read())


def sim_interchanges(stack: Stack) -> list[dict[str, Any]]:
    return list(httpx.get(f"{stack.payer_url}/admin/interchanges", timeout=10).json())


def sim_claims(stack: Stack) -> list[dict[str, Any]]:
    return list(httpx.get(f"{stack.payer_url}/admin/claims", timeout=30).json())


def advance(stack: Stack, days: int) -> None:
    httpx.post(f"{stack.payer_url}/admin/clock/advance", json={"days": days}, timeout=10)


def claim_statuses(engine: Engine) -> dict[int, str]:
    with Session(engine) as session:
        return {c.id or 0: c.status for c in session.exec(select(Claim)).all()}
