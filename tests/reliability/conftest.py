"""Fixtures of the reliability suite: migrated databases per backend that tests may commit to.

A new PostgreSQL database costs a second or two on this machine, so most modules
share one per backend (``module_engine``) and check what changed rather than
absolute counts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from claimdesk.db import make_engine
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings, get_settings
from tests.conftest import DB_BACKENDS

# Fixtures of other suites some modules here use: the task page's seeded database,
# the real payer simulator process.
from tests.gateway.conftest import sim, sim_url  # noqa: F401
from tests.ui.conftest import app_data, app_env  # noqa: F401


def _engine(settings: Settings) -> Engine:
    pg = settings.effective_database_url.startswith("postgresql")
    engine = make_engine(settings, **({"pool_size": 24, "max_overflow": 4} if pg else {}))
    upgrade_database(engine)
    return engine


@pytest.fixture(scope="module", params=DB_BACKENDS)
def module_settings(
    request: pytest.FixtureRequest, databases, tmp_path_factory: pytest.TempPathFactory
) -> Settings:  # type: ignore[no-untyped-def]
    """One database per backend for the whole module."""
    return databases.settings(request.param, tmp_path_factory.mktemp("rel"))


@pytest.fixture(scope="module")
def module_engine(module_settings: Settings) -> Iterator[Engine]:
    engine = _engine(module_settings)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(fresh_settings: Settings) -> Iterator[Engine]:
    """A new migrated database of each backend (pool large enough for 20 threads on PG)."""
    engine = _engine(fresh_settings)
    yield engine
    engine.dispose()


def point_cli_at(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI (``get_settings``) reads ``settings``' database from now on."""
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(settings.data_dir))
    if settings.database_url is not None:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", settings.database_url.get_secret_value())
    else:
        monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()


@pytest.fixture
def cli_env(module_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The CLI pointed at the module's database."""
    point_cli_at(module_settings, monkeypatch)
    yield module_settings
    get_settings.cache_clear()
