"""The outbox tests use the gateway's fixtures: committed databases, a store, the simulator."""

from tests.gateway.conftest import (  # noqa: F401
    any_engine,
    client,
    committed_claims,
    gateway_settings,
    make_client,
    make_config,
    sim,
    sim_url,
    sqlite_engine,
    store,
)
