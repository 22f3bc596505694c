"""The work queue's tests share one seeded database file, copied for each test."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from claimdesk.db import make_engine
from claimdesk.settings import Settings
from tests.ui.seed import seed_app_database


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded SQLite file (6 scrub tasks, priorities 50..55); each test works on a copy."""
    data_dir = tmp_path_factory.mktemp("template")
    data = seed_app_database(Settings(_env_file=None, data_dir=data_dir))
    (data_dir / "seed.json").write_text(json.dumps(data))
    return data_dir


@pytest.fixture
def seeded(template: Path, tmp_path: Path) -> Iterator[tuple[Engine, dict[str, Any]]]:
    shutil.copy(template / "claimdesk.db", tmp_path / "claimdesk.db")
    engine = make_engine(Settings(_env_file=None, data_dir=tmp_path))
    yield engine, json.loads((template / "seed.json").read_text())
    engine.dispose()
