"""The real simulator process, started once per module (``start_payer_sim``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from tests.payer_sim.builders import CLOCK_START

SIM_CONFIG = {"clock_start": CLOCK_START.isoformat(), "adjudication_delay_days": 2}


@pytest.fixture(scope="module")
def payer_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a running simulator (seed 7, clock 2025-03-10)."""
    tmp = tmp_path_factory.mktemp("payer_sim")
    url, process = start_payer_sim(tmp, seed=7, config=SIM_CONFIG)
    yield url
    stop_payer_sim(process)


@pytest.fixture
def sim_dir(tmp_path: Path) -> Path:
    return tmp_path
