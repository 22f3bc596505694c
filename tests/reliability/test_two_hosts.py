"""Two workers, each on a host of its own, one killed halfway: nothing lost, nothing twice.

Each worker runs in a network namespace of its own (tests/reliability/netns.py), joined
to the root namespace by a veth link on a bridge; PostgreSQL (a throwaway cluster for
the app and Prefect, listening on the link), the Prefect API and the payer simulator
(behind https, with the payers' credentials, as a payer off this machine must be: the
gateway sends plain http to loopback only) listen on the bridge's address, and inside
a host 127.0.0.1 answers nothing, so all a worker does goes over its link. The second
host is set up as a remote one would be: ``claimdesk prefect bootstrap --api URL`` run
there against the server (one payer's limit removed first: it creates exactly that,
and a second run changes nothing).

240 claims, ready, go through submission (interchanges of 2), acknowledgements and 835
posting. Once the submission run has sent half its interchanges, every process on the
host running it is SIGKILLed (the host loses power); its heartbeats stop, the zombie
automation marks it Crashed, the next ``submission`` run (the schedule's) is picked up
by the other host and sends the rest; the dead host comes back and the rest of the
pipeline runs on both. Held, as in test_worker_kill: every claim version reached the
payer in one interchange, every 835 is posted once, ledger identities hold, every claim
accounted for. Shown: the killed run and the next one ran in the two namespaces (their
processes' network namespaces), and each host reached PostgreSQL, Prefect and the
simulator over its link (its TCP peers, sampled).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.claims.ledger import check_all_ledger_identities
from claimdesk.cli._bootstrap import bootstrap_stack
from claimdesk.db import make_engine, session_scope
from claimdesk.gateway.factory import payer_limit_name
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from claimdesk.stack import REPO_ROOT, prefect_database_for
from models import LedgerEntry, Payer, Remittance
from tests.e2e.stack_fixtures import free_ports, wait_until
from tests.reliability.netns import (
    HostsStack,
    Lan,
    LanCluster,
    PeerSampler,
    TlsProxy,
    lan,
    namespace_of,
    netns_unavailable,
)
from tests.reliability.stack_runs import (
    advance,
    claim_statuses,
    flow_run_state,
    run_flow,
    seed_ready_claims,
    sim_claims,
    sim_interchanges,
    start_flow,
)

pytestmark = [pytest.mark.slow, pytest.mark.soak, pytest.mark.timeout(2700)]
CLAIMS = 240
BATCH = 2
ADJUDICATED = {"paid", "partially_paid", "denied", "billed_secondary", "billed_patient"}
SIM_USER = "claimdesk-office"
PASSWORD_ENV = "CLAIMDESK_TWO_HOSTS_SIM_PASSWORD"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.fixture
def network() -> Iterator[Lan]:
    reason = netns_unavailable()
    if reason is not None:
        pytest.skip(f"workers on hosts of their own need network namespaces: {reason}")
    with lan(2) as made:
        yield made


@contextmanager
def two_host_stack(
    net: Lan, tmp: Path
) -> Iterator[tuple[HostsStack, Engine, LanCluster, TlsProxy]]:
    """The stack on the bridge's address, its first worker on host a; PG on the link."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    cluster = LanCluster(net)
    saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING")}
    saved |= {k: os.environ.get(k) for k in ("CLAIMDESK_PAYER_SIM_URL", "CLAIMDESK_CLOCK_SOURCE")}
    try:
        cluster.start()
        admin = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "claimdesk"'))
        admin.dispose()
        app_url = cluster.url.rsplit("/", 1)[0] + "/claimdesk"
        settings = Settings(_env_file=None, data_dir=tmp / "office", database_url=app_url)
        engine = make_engine(settings)
        upgrade_database(engine)
        seed_ready_claims(engine, CLAIMS)
        password = secrets.token_hex(16)
        _write_sim_config(engine, settings, password)
        ports = free_ports()
        proxy = TlsProxy(net.hub, (net.hub, ports.payer_sim), tmp)
        stack = HostsStack(
            settings,
            ports,
            prefect_database_for(app_url),
            with_ui=False,
            worker_limit=6,
            clock_source="payer_sim",
            bind_host=net.hub,
            hosts={"worker": net.hosts[0]},
        )
        try:
            proxy.__enter__()
            stack.host_env = {
                "CLAIMDESK_PAYER_SIM_URL": f"{proxy.url}/core",
                "SSL_CERT_FILE": str(proxy.cert),
                PASSWORD_ENV: password,
            }
            bootstrap_stack(stack, demo=False, echo=lambda line: None, schedules="off")
            os.environ["CLAIMDESK_PAYER_SIM_URL"] = f"{stack.payer_url}/core"
            os.environ["CLAIMDESK_CLOCK_SOURCE"] = "payer_sim"
            updates = {PREFECT_API_URL: stack.api_url, PREFECT_API_AUTH_STRING: stack.prefect_auth}
            with temporary_settings(updates=updates):
                yield stack, engine, cluster, proxy
        finally:
            stack.stop()
            proxy.__exit__()
            engine.dispose()
    finally:
        cluster.destroy()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _write_sim_config(engine: Engine, settings: Settings, password: str) -> None:
    """The config ``claimdesk up`` writes, for callers that are not on this machine.

    The simulator takes a call without credentials from loopback only: here it asks the
    payers' username and password (each payer's connectivity names the variable, as
    for a real payer), and its admin API (flows read the simulated clock there) is open
    to the link.
    """
    from claimdesk.demo.sim_config import sim_config_from_database

    with session_scope(engine) as session:
        for payer in session.exec(select(Payer)).all():
            payer.connectivity = {
                **(payer.connectivity or {}),
                "username": SIM_USER,
                "password_env": PASSWORD_ENV,
            }
            session.add(payer)
    with Session(engine) as session:
        config = sim_config_from_database(session, clock_start=datetime.now(UTC).date())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "payer_sim_config.json"
    remote = {"allow_remote_admin": True, "username": SIM_USER, "password": password}
    path.write_text(json.dumps({**config, **remote}, default=str))


def _remote_bootstrap(stack: HostsStack, net: Lan, tmp: Path) -> dict[str, list[str]]:
    """``claimdesk prefect bootstrap --api URL`` on host b, as its operator would run it."""
    env = stack.env()
    for key in ("PREFECT_SERVER_API_AUTH_STRING", "PREFECT_API_DATABASE_CONNECTION_URL"):
        env.pop(key)  # the server's own, not a worker host's
    (tmp / "host-b").mkdir(exist_ok=True)
    env["CLAIMDESK_DATA_DIR"] = str(tmp / "host-b")
    claimdesk = str(Path(sys.executable).with_name("claimdesk"))
    done = subprocess.run(
        [*net.hosts[1].argv(), claimdesk, "prefect", "bootstrap", "--api", stack.api_url, "--json"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(done.stdout))


def _limits() -> dict[str, int]:
    from prefect.client.orchestration import get_client

    async def read() -> dict[str, int]:
        async with get_client() as client:
            return {
                limit.name: limit.limit
                for limit in await client.read_global_concurrency_limits(limit=200)
            }

    return asyncio.run(read())


def _delete_limit(name: str) -> None:
    from prefect.client.orchestration import get_client

    async def delete() -> None:
        async with get_client() as client:
            await client.delete_global_concurrency_limit_by_name(name)

    asyncio.run(delete())


def _run_namespace(run_id: UUID) -> str | None:
    """The network namespace of the run's process, while it runs."""
    from prefect.client.orchestration import get_client

    async def read() -> str | None:
        async with get_client() as client:
            return (await client.read_flow_run(run_id)).infrastructure_pid

    pid = asyncio.run(read())
    return namespace_of(int(pid)) if pid and pid.isdigit() else None


def _sent_837s(stack: HostsStack) -> int:
    return sum(1 for i in sim_interchanges(stack) if str(i["payload_type"]).startswith("X12_837"))


def test_two_workers_on_hosts_of_their_own_one_killed_halfway(network: Lan, tmp_path: Path) -> None:
    began = time.monotonic()
    a, b = network.hosts
    with two_host_stack(network, tmp_path) as (stack, engine, cluster, proxy):
        setup_s = time.monotonic() - began
        # --- host b set up as a remote host: the bootstrap over its link -----------------
        with Session(engine) as session:
            payers = {p.payer_id: p.max_concurrency for p in session.exec(select(Payer)).all()}
        removed = payer_limit_name(sorted(payers)[0])
        _delete_limit(removed)
        first = _remote_bootstrap(stack, network, tmp_path)
        assert first == {"created": [f"limit {removed}"], "updated": []}, first
        again = _remote_bootstrap(stack, network, tmp_path)
        assert again == {"created": [], "updated": []}, again
        limits = _limits()
        assert all(limits[payer_limit_name(p)] == n for p, n in payers.items()), limits
        stack.hosts["worker-b"] = b
        stack.start_worker("worker-b")
        workers = {a.namespace: "worker", b.namespace: "worker-b"}
        hosts = {a.namespace: a, b.namespace: b}

        with PeerSampler([a, b]) as sampler:
            # --- submission: the host running it dies halfway -----------------------------
            started = time.monotonic()
            run_id = start_flow("submission/submission", {"batch_size": BATCH})
            wait_until(lambda: _run_namespace(run_id) is not None, timeout=600, what="a host")
            victim = _run_namespace(run_id)
            assert victim in workers, victim
            half = CLAIMS // BATCH // 2
            # The simulator alone, polled fast: the sending itself takes seconds.
            wait_until(
                lambda: _sent_837s(stack) >= half,
                timeout=900,
                every=0.05,
                what=f"{half} interchanges sent",
            )
            killed = hosts[victim].kill()
            stack.kill(workers[victim])
            killed_at = time.monotonic()
            sent_at_kill = _sent_837s(stack)
            assert flow_run_state(run_id) == "RUNNING", "the run ended before the kill"
            wait_until(
                lambda: flow_run_state(run_id) == "CRASHED",
                timeout=400,
                what="the killed submission run marked Crashed",
            )
            detected_s = time.monotonic() - killed_at
            survivor = next(n for n in workers if n != victim)
            next_id = start_flow("submission/submission", {"batch_size": BATCH})
            wait_until(
                lambda: _run_namespace(next_id) is not None or flow_run_state(next_id) in FINAL,
                timeout=600,
                every=0.2,
                what="the next submission run started",
            )
            next_host = _run_namespace(next_id)
            wait_until(lambda: flow_run_state(next_id) in FINAL, timeout=900, what="the next run")
            assert flow_run_state(next_id) == "COMPLETED"
            assert next_host == survivor, (next_host, survivor)
            submission_s = time.monotonic() - started
            stack.start_worker(workers[victim])  # the host is back
            run_flow("acknowledgements/acknowledgements")
            statuses = claim_statuses(engine)
            assert len(statuses) == CLAIMS and set(statuses.values()) <= {"accepted", "sent"}
            received = sim_claims(stack)
            repeats = [e["claim_ref"] for e in received if len(e["interchanges"]) != 1]
            assert not repeats, repeats
            assert {int(e["claim_ref"].rsplit("-v", 1)[0]) for e in received} == set(statuses)
            interchanges = _sent_837s(stack)
            submitted = set(statuses)

            # --- 835s, on whichever host takes them --------------------------------------
            advance(stack, 3)
            started = time.monotonic()
            run_flow("remittances/remittances")
            remit_s = time.monotonic() - started
        files = [
            f
            for f in httpx.get(f"{stack.payer_url}/admin/files", timeout=10).json()
            if f["kind"] == "835"
        ]
        assert files and all(f["picked_up"] for f in files)
        with Session(engine) as session:
            remittances = session.exec(select(Remittance)).all()
            keys = session.exec(select(LedgerEntry.source_key)).all()
            assert check_all_ledger_identities(session) == []
        traces = [(r.payer_id, r.trace_number) for r in remittances]
        assert len(set(traces)) == len(traces)
        assert all(r.status == "posted" for r in remittances)
        assert len(remittances) >= len(files)
        assert len(set(keys)) == len(keys)
        statuses = claim_statuses(engine)
        assert {statuses[c] for c in submitted} <= ADJUDICATED, statuses
        assert {s for c, s in statuses.items() if c not in submitted} <= {"ready"}

        # --- each host reached every server over its link -------------------------------
        servers = {
            "PostgreSQL": f"{network.hub}:{cluster.port}",
            "Prefect": f"{network.hub}:{stack.ports.prefect}",
            "simulator (https)": f"{network.hub}:{proxy.port}",
        }
        reached = {
            ns: sorted(name for name, peer in servers.items() if peer in seen)
            for ns, seen in sampler.seen.items()
        }
        assert all(r == sorted(servers) for r in reached.values()), reached
        print(
            f"\ntwo hosts ({a.namespace} {a.address}, {b.namespace} {b.address}; servers on "
            f"{network.hub}): setup {setup_s:.0f} s; remote bootstrap from {b.namespace} "
            f"created {first['created']}, then nothing. submission ({CLAIMS} claims) ran on "
            f"{victim}; killed its {killed} processes after {sent_at_kill} of {interchanges} "
            f"interchanges; Crashed {detected_s:.0f} s after; the next run on {next_host} sent "
            f"the rest ({submission_s:.0f} s in all), each claim version in one interchange. "
            f"remittances {remit_s:.0f} s: {len(remittances)} 835s ({len(files)} files) posted "
            f"once, {len(keys)} ledger entries, identities hold; claims "
            f"{sorted(set(statuses.values()))}; each host reached {sorted(servers)} over its "
            f"link; total {time.monotonic() - began:.0f} s"
        )
