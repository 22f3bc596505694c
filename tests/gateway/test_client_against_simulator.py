"""Boundary tests: CoreClient against the real payer simulator process over HTTP.

Uses the simulator's own ``start_payer_sim`` helper (a subprocess on a free
loopback port) and its admin API to switch faults on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine

from claimdesk.documents import LocalDocumentStore
from claimdesk.gateway.client import CoreClient
from claimdesk.gateway.errors import PayerProtocolError, PayerRejected, PayerUnavailable
from claimdesk.gateway.payer_config import PayerConfig
from claimdesk.settings import Settings
from tests.gateway.x12_samples import interchange

sim_testing = pytest.importorskip("claimdesk.payer_sim.testing")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, process = sim_testing.start_payer_sim(tmp_path_factory.mktemp("sim"), seed=1)
    try:
        yield url
    finally:
        sim_testing.stop_payer_sim(process)


@pytest.fixture
def sim(sim_url: str) -> Iterator[str]:
    """The simulator with no faults, before and after each test."""
    httpx.put(f"{sim_url}/admin/faults", json={}, timeout=5).raise_for_status()
    yield sim_url
    httpx.put(f"{sim_url}/admin/faults", json={}, timeout=5).raise_for_status()


@pytest.fixture
def sim_client(
    sim: str,
    gateway_settings: Settings,
    make_config: Callable[..., PayerConfig],
    sqlite_engine: Engine,
    store: LocalDocumentStore,
) -> Iterator[CoreClient]:
    config = make_config(endpoint=f"{sim}/core", max_retries=1, timeout_s=5)
    with CoreClient(
        gateway_settings, config, engine=sqlite_engine, store=store, sleep=lambda _s: None
    ) as client:
        yield client


def set_faults(sim: str, **faults: float) -> None:
    httpx.put(f"{sim}/admin/faults", json=faults, timeout=5).raise_for_status()


def test_retrieve_999_with_nothing_waiting_returns_empty(sim_client: CoreClient) -> None:
    assert sim_client.retrieve("999") == []


def test_retrieve_835_with_nothing_waiting_returns_empty(sim_client: CoreClient) -> None:
    assert sim_client.retrieve("835") == []


def test_server_error_fault_retries_then_raises_unavailable(
    sim: str, sim_client: CoreClient
) -> None:
    set_faults(sim, server_error=1.0)
    with pytest.raises(PayerUnavailable, match="HTTP 5"):
        sim_client.retrieve("999")


def test_malformed_envelope_fault_raises_protocol_error(sim: str, sim_client: CoreClient) -> None:
    set_faults(sim, malformed_envelope=1.0)
    with pytest.raises(PayerProtocolError, match="malformed CORE envelope"):
        sim_client.retrieve("999")


def test_slow_answer_past_timeout_raises_unavailable(
    sim: str,
    gateway_settings: Settings,
    make_config: Callable[..., PayerConfig],
    sqlite_engine: Engine,
    store: LocalDocumentStore,
) -> None:
    set_faults(sim, slow=1.0, slow_seconds=1.5)
    config = make_config(endpoint=f"{sim}/core", max_retries=0, timeout_s=0.5)
    with (
        CoreClient(gateway_settings, config, engine=sqlite_engine, store=store) as client,
        pytest.raises(PayerUnavailable, match="timed out"),
    ):
        client.status(interchange("276"))


@pytest.mark.xfail(
    reason="payer-sim answers HTTP 500 to an unreadable 270 (reported to the simulator "
    "engineer); it should answer a 999/TA1 (PayerRejected) or a CORE error code",
    strict=False,
)
def test_unreadable_270_is_rejected_not_a_server_error(sim_client: CoreClient) -> None:
    with pytest.raises(PayerRejected):
        sim_client.eligibility(b"ISA*garbage~")
