"""Pipeline benchmark: 1,000 clean claims from import to accepted, with and without Prefect.

Run: ``uv run python bench/pipeline.py [--claims N]``. Both runs start from an empty
SQLite database and a fresh payer simulator process, import the demo practice's
claims, and take every claim through eligibility (270/271), scrubbing, 837
submission and acknowledgement (999/277CA) until it is accepted:

- **plain**: the service functions called one after another in this process;
- **prefect**: the same work as the ``eligibility``, ``submission`` and
  ``acknowledgements`` deployments on the embedded stack (Prefect server on SQLite,
  one process worker), as ``claimdesk up`` runs them.

The ratio of the two is the orchestration overhead. Last line, machine-readable:
``pipeline claims_per_min=<n> overhead_ratio=<r>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlmodel import Session, col, func, select

from claimdesk.db import make_engine, session_scope
from claimdesk.demo.generate import generate_demo_practice
from claimdesk.demo.sim_config import sim_config_from_database
from claimdesk.eligibility.service import run_eligibility, select_coverages_to_check
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from claimdesk.submission.acknowledgements import retrieve_acknowledgements
from claimdesk.submission.service import (
    build_batches,
    scrub_ready_claims,
    send_built_submission,
    unsent_submissions,
)
from models import Claim, Coverage, Payer

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _import_clean_claims(settings: Settings, claims: int) -> None:
    """The demo practice with every coverage active: the clean path, nothing for a person."""
    engine = make_engine(settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        generate_demo_practice(session, claims=claims, seed=7, today=datetime.now(UTC).date())
        for coverage in session.exec(select(Coverage)).all():
            coverage.effective_to = None
            session.add(coverage)
    engine.dispose()


def _write_sim_config(settings: Settings) -> Path:
    engine = make_engine(settings)
    with Session(engine) as session:
        config = sim_config_from_database(session, clock_start=datetime.now(UTC).date())
    engine.dispose()
    path = settings.data_dir / "sim.json"
    path.write_text(json.dumps(config))
    return path


def _accepted(settings: Settings) -> int:
    engine = make_engine(settings)
    with Session(engine) as session:
        count = session.exec(
            select(func.count()).select_from(Claim).where(Claim.status == "accepted")
        ).one()
    engine.dispose()
    return int(count)


def run_plain(claims: int, root: Path) -> float:
    port = _free_port()
    settings = Settings(
        _env_file=None, data_dir=root / "plain", payer_sim_url=f"http://127.0.0.1:{port}/core"
    )
    started = time.perf_counter()
    _import_clean_claims(settings, claims)
    import_s = time.perf_counter() - started
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claimdesk.payer_sim",
            "--port",
            str(port),
            "--state",
            str(settings.data_dir / "sim.sqlite"),
            "--config",
            str(_write_sim_config(settings)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/admin/clock")  # process start: not counted
        started = time.perf_counter() - import_s
        engine = make_engine(settings)
        today = date.today()
        with Session(engine) as session:
            payer_ids = [p for p in session.exec(select(col(Payer.id))).all() if p]
        for payer_id in payer_ids:
            with session_scope(engine) as session:
                checks = select_coverages_to_check(
                    session,
                    today=today,
                    horizon_days=3,
                    recheck_days=30,
                    limit=10_000,
                    payer_id=payer_id,
                )
            run_eligibility(engine, settings, checks, today=today)
        scrub_ready_claims(engine, today=today)
        build_batches(engine, settings)
        with Session(engine) as session:
            pending = unsent_submissions(session)
        for submission_id in pending:
            send_built_submission(engine, settings, submission_id)
        while _accepted(settings) < claims:
            if not retrieve_acknowledgements(engine, settings).files:
                break
        engine.dispose()
        accepted = _accepted(settings)
        print(f"plain:   {accepted}/{claims} accepted")
        return time.perf_counter() - started if accepted else float("nan")
    finally:
        sim.terminate()
        sim.wait()


def run_prefect(claims: int, root: Path) -> float:
    from claimdesk.cli._bootstrap import bootstrap_stack
    from claimdesk.stack import Ports, Stack

    settings = Settings(_env_file=None, data_dir=root / "prefect")
    stack = Stack(settings, Ports(_free_port(), _free_port(), _free_port()), with_ui=False)
    _import_clean_claims(settings, 0)  # the schema and practice, before the stack starts
    try:
        t0 = time.perf_counter()
        bootstrap_stack(stack, demo=False, echo=lambda line: None, schedules="off")
        stack_start = time.perf_counter() - t0
        started = time.perf_counter()
        _import_clean_claims(settings, claims)
        # The simulator learned the roster at start; tell it about the new members.
        engine = make_engine(settings)
        with Session(engine) as session:
            roster = sim_config_from_database(session, clock_start=date.today())["roster"]
        engine.dispose()
        httpx.post(f"{stack.payer_url}/admin/roster", json={"members": roster}, timeout=30)
        os.environ["PREFECT_API_URL"] = stack.api_url
        from prefect.deployments.flow_runs import arun_deployment

        async def run(name: str) -> None:
            flow_run = await arun_deployment(name, timeout=900, poll_interval=1)
            assert flow_run.state is not None and flow_run.state.is_completed(), flow_run.state

        asyncio.run(run("eligibility/eligibility"))
        asyncio.run(run("submission/submission"))
        while _accepted(settings) < claims:
            before = _accepted(settings)
            asyncio.run(run("acknowledgements/acknowledgements"))
            if _accepted(settings) == before:
                break
        accepted = _accepted(settings)
        print(
            f"prefect: {accepted}/{claims} accepted (stack start {stack_start:.1f} s, not counted)"
        )
        return time.perf_counter() - started if accepted else float("nan")
    finally:
        stack.stop()


def _wait(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="claimdesk-bench-") as tmp:
        root = Path(tmp)
        plain = run_plain(args.claims, root)
        orchestrated = run_prefect(args.claims, root)
    print(f"{'':10}{'seconds':>10}{'claims/min':>12}")
    print(f"{'plain':10}{plain:10.1f}{args.claims / plain * 60:12.0f}")
    print(f"{'prefect':10}{orchestrated:10.1f}{args.claims / orchestrated * 60:12.0f}")
    print(
        f"pipeline claims_per_min={args.claims / orchestrated * 60:.0f} "
        f"overhead_ratio={orchestrated / plain:.2f}"
    )


if __name__ == "__main__":
    main()
