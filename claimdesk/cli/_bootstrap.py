"""Bring the embedded stack up in order, and seed the demo when asked."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import select

from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.stack import Stack
from models import Payer, User

# Demo schedules: every deployment with a production schedule runs this often instead
# (a simulated day passes per minute). Each run is a new process: on a small machine the
# frequent ones are the few a watcher sees move; the housekeeping ones run less often.
DEMO_INTERVAL = timedelta(seconds=30)
DEMO_INTERVALS = {
    "poll-payer-status": timedelta(seconds=60),
    "remittances": timedelta(seconds=45),
    "sweep-review-deadlines": timedelta(seconds=120),
    "reconcile-reviews": timedelta(seconds=120),
    "statements": timedelta(seconds=300),  # a statement cycle every simulated 5 days
}
DEMO_USERS = [("sam", "specialist"), ("lee", "lead"), ("max", "manager")]


def bootstrap_stack(
    stack: Stack,
    *,
    demo: bool,
    echo: Callable[[str], None],
    schedules: Literal["production", "demo", "off"] | None = None,
) -> None:
    """Start every process in order; ``schedules`` defaults to demo ones under ``demo``."""
    settings = stack.settings
    # This process talks to the stack's Prefect server (never an ephemeral one of its own).
    os.environ["PREFECT_API_URL"] = stack.api_url
    os.environ["PREFECT_API_AUTH_STRING"] = stack.prefect_auth
    started = time.monotonic()
    say = echo
    echo = lambda line: say(f"[{time.monotonic() - started:5.1f}s] {line}")  # noqa: E731
    url = settings.effective_database_url
    if make_url(url).get_backend_name() == "postgresql":
        _create_pg_database(url)
        if stack.prefect_database_url:
            _create_pg_database(stack.prefect_database_url)
    echo("app database: migrating…")
    engine = make_engine(settings)
    upgrade_database(engine)
    echo("Prefect server: starting…")
    stack.spawn_prefect()
    if demo:
        _seed_demo(engine, echo)
    config_path = _write_sim_config(engine, stack)
    if config_path is not None:
        stack.sim_args = [*stack.sim_args, "--config", str(config_path)]
    echo("payer simulator: starting…")
    stack.start_payer_sim()
    # Its config is written once; members and payers imported since are told now.
    from claimdesk.intake.sim_roster import push_roster

    pushed = push_roster(engine, stack.payer_url)
    echo(f"payer simulator: {pushed.members} member(s), {pushed.payers} payer(s) learned")
    stack.wait_prefect()
    echo("deployments: registering from prefect.yaml…")
    stack.deploy()
    with session_scope(engine) as session:
        payers = [(p.payer_id, p.max_concurrency) for p in session.exec(select(Payer)).all()]
    asyncio.run(_configure_prefect(stack, payers, schedules or ("demo" if demo else "production")))
    echo("worker: starting…")
    stack.start_worker()
    if stack.with_ui:
        echo("app: starting…")
        stack.start_ui()
    engine.dispose()


def _create_pg_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(
        parsed.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
        ).first()
        if exists is None:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def _write_sim_config(engine: Engine, stack: Stack) -> Path | None:
    """The simulator answers for the practice's own payers and members (first start only)."""
    from claimdesk.demo.sim_config import sim_config_from_database

    path = stack.settings.data_dir / "payer_sim_config.json"
    if path.exists():
        return path
    with session_scope(engine) as session:
        if session.exec(select(Payer.id)).first() is None:
            return None
        config = sim_config_from_database(session, clock_start=datetime.now(UTC).date())
    path.write_text(json.dumps(config, indent=1))
    return path


def _seed_demo(engine: Engine, echo: Callable[[str], None]) -> None:
    from claimdesk.demo.generate import generate_demo_practice
    from claimdesk.passwords import hash_password
    from models import append_audit_event

    with session_scope(engine) as session:
        # A few 837Is too: the practice's doctors also bill through a hospital and an ASC.
        summary = generate_demo_practice(session, claims=60, seed=1, institutional_claims=8)
        echo(f"demo data: {summary.claims_created} new claims ({summary.claims_skipped} kept)")
        for username, role in DEMO_USERS:
            if session.exec(select(User.id).where(User.username == username)).first():
                continue
            password = secrets.token_urlsafe(9)
            user = User(
                username=username,
                role=role,
                display_name=username.title(),
                password_hash=hash_password(password),
            )
            session.add(user)
            session.flush()
            append_audit_event(
                session,
                actor="system:demo",
                action="user.created",
                entity_type="user",
                entity_id=user.id,
                details={"role": role},
            )
            echo(f"demo login: {username} / {password}  ({role})")


async def _configure_prefect(stack: Stack, payers: list[tuple[str, int]], schedules: str) -> None:
    """Per-payer global concurrency limits, queue priorities, and the schedules asked for."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    # Explicitly this stack's server: Prefect caches its settings per process.
    updates = {PREFECT_API_URL: stack.api_url, PREFECT_API_AUTH_STRING: stack.prefect_auth}
    with temporary_settings(updates=updates):
        await _configure(payers, schedules)


async def _configure(payers: list[tuple[str, int]], schedules: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import IntervalSchedule

    from claimdesk.cli.prefect_setup import ensure_prefect_setup

    await ensure_prefect_setup(payers)
    async with get_client() as client:
        if schedules == "production":
            return
        for deployment in await client.read_deployments():
            existing = await client.read_deployment_schedules(deployment.id)
            if not existing:
                continue
            for schedule in existing:
                await client.delete_deployment_schedule(deployment.id, schedule.id)
            if schedules == "off":
                continue
            await client.create_deployment_schedules(
                deployment.id,
                [
                    DeploymentScheduleCreate(
                        schedule=IntervalSchedule(
                            interval=DEMO_INTERVALS.get(deployment.name, DEMO_INTERVAL)
                        ),
                        active=True,
                    )
                ],
            )
