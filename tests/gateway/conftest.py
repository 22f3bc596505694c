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
            "endpoint": "http://payer.test/core",
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
