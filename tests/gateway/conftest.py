"""Gateway fixtures: committed databases (the gateway owns its transactions), a store, payers."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from claimdesk.db import make_engine
from claimdesk.documents import LocalDocumentStore
from claimdesk.gateway.client import CoreClient
from claimdesk.gateway.payer_config import PayerConfig
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from tests.conftest import DB_BACKENDS, _Databases

_payer_numbers = itertools.count(1)


def _migrated(databases: _Databases, backend: str) -> Iterator[Engine]:
    engine = make_engine(databases.settings(backend))
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_engine(databases: _Databases) -> Iterator[Engine]:
    """A migrated SQLite database that tests commit to (rows are keyed per test)."""
    yield from _migrated(databases, "sqlite")


@pytest.fixture(scope="session", params=DB_BACKENDS)
def any_engine(request: pytest.FixtureRequest, databases: _Databases) -> Iterator[Engine]:
    """A migrated database of each backend that tests commit to."""
    yield from _migrated(databases, request.param)


@pytest.fixture
def gateway_settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, payer_max_retries=3)


@pytest.fixture
def store(tmp_path: Path) -> LocalDocumentStore:
    return LocalDocumentStore(tmp_path / "documents")


@pytest.fixture
def make_config() -> Callable[..., PayerConfig]:
    """A PayerConfig with a payer id no other test uses (so breaker rows never collide)."""

    def build(**overrides: Any) -> PayerConfig:
        n = next(_payer_numbers)
        data: dict[str, Any] = {
            "payer_id": f"GWTEST{n:05d}",
            "endpoint": "https://payer.test/core",
            "sender_id": "CLAIMDESK",
            "receiver_id": f"GWTEST{n:05d}",
            "rate_limit_per_s": 1000.0,
            "backoff_base_s": 0.01,
            "backoff_cap_s": 0.05,
            **overrides,
        }
        return PayerConfig(**data)

    return build


@pytest.fixture
def committed_claims(sqlite_engine: Engine) -> Callable[[int], list[int]]:
    """Create ``n`` committed claims (with their payer and world); return their ids."""
    from tests.factories import make_claim, make_payer

    def build(n: int) -> list[int]:
        with Session(sqlite_engine, expire_on_commit=False) as session:
            payer = make_payer(session)
            claims = [make_claim(session, payer=payer) for _ in range(n)]
            session.commit()
            return [c.id for c in claims if c.id is not None]

    return build


# --- the real payer simulator, one process for the session's gateway tests -----------------


@pytest.fixture(scope="session")
def sim_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A simulator with CORE credentials, payer SIMACM and members GW100/GW200 loaded."""
    from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
    from tests.gateway.sim_helpers import PASSWORD, USERNAME, admin
    from tests.payer_sim.builders import CLOCK_START, roster_entry

    config = {
        "clock_start": CLOCK_START.isoformat(),
        "adjudication_delay_days": 2,
        "username": USERNAME,
        "password": PASSWORD,
    }
    url, process = start_payer_sim(tmp_path_factory.mktemp("sim"), seed=1, config=config)
    try:
        admin(url, "post", "/admin/payers", [{"payer_id": "SIMACM", "name": "ACME HEALTH PLAN"}])
        members = [
            roster_entry("GW100", "SIMACM"),
            roster_entry("GW200", "SIMACM", status="inactive"),
        ]
        admin(url, "post", "/admin/roster", members)
        yield url
    finally:
        stop_payer_sim(process)


@pytest.fixture
def sim(sim_url: str) -> Iterator[str]:
    """The simulator with no faults, before and after each test."""
    from tests.gateway.sim_helpers import set_faults

    set_faults(sim_url)
    yield sim_url
    set_faults(sim_url)


@pytest.fixture
def make_client(
    sim: str,
    gateway_settings: Settings,
    make_config: Callable[..., PayerConfig],
    sqlite_engine: Engine,
    store: LocalDocumentStore,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., CoreClient]]:
    """Build CoreClients for the simulator (password read from the environment, no sleeps)."""
    from tests.gateway.sim_helpers import PASSWORD, PASSWORD_ENV, USERNAME

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    clients: list[CoreClient] = []

    def build(**overrides: Any) -> CoreClient:
        data = {
            "endpoint": f"{sim}/core",
            "appeal_endpoint": f"{sim}/appeals",
            "username": USERNAME,
            "password_env": PASSWORD_ENV,
            "max_retries": 1,
            "timeout_s": 5,
            **overrides,
        }
        client = CoreClient(
            gateway_settings,
            make_config(**data),
            engine=sqlite_engine,
            store=store,
            sleep=lambda _s: None,
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., CoreClient]) -> CoreClient:
    return make_client()
