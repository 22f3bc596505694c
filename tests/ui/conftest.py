"""The app's test database: one migrated, seeded SQLite file per test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from claimdesk.settings import Settings
from tests.ui.seed import seed_app_database


@pytest.fixture(scope="module")
def app_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("app")
    settings = Settings(_env_file=None, data_dir=data_dir)
    seeded = seed_app_database(settings)
    return {"data_dir": data_dir, "settings": settings, **seeded}


@pytest.fixture
def app_env(app_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Point the app (``ui.deps``) at the seeded database; no Prefect."""
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(app_data["data_dir"]))
    for name in ("CLAIMDESK_DATABASE_URL", "CLAIMDESK_PREFECT_API_URL", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    yield app_data["settings"]
