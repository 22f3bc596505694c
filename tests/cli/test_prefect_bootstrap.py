"""`claimdesk prefect bootstrap` against a real Prefect server: creates, then changes nothing.

A server of its own (``prefect server start`` on a free port, SQLite) stands for a shared
one that workers on other hosts use; the command reads the payers from claimdesk's
database and creates the pool, queues, a limit per payer and the zombie automation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from claimdesk.cli._acting import operator
from claimdesk.cli.main import app
from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from claimdesk.stack import Stack
from models import AuditEvent, Payer
from tests.e2e.stack_fixtures import free_ports

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Path]]:
    data_dir = tmp_path_factory.mktemp("prefect-bootstrap")
    stack = Stack(Settings(_env_file=None, data_dir=data_dir), free_ports(), None, with_ui=False)
    try:
        stack.start_prefect()
        yield stack, data_dir
    finally:
        stack.stop()


def _run(data_dir: Path, api: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(data_dir))
    monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    from claimdesk.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["prefect", "bootstrap", "--api", api, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _limits(api: str, auth: str) -> dict[str, int]:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    async def read() -> dict[str, int]:
        with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: auth}):
            async with get_client() as client:
                limits = await client.read_global_concurrency_limits(limit=200)
                return {limit.name: limit.limit for limit in limits}

    return asyncio.run(read())


def test_bootstrap_creates_what_is_missing_once_and_follows_new_payers(
    server: tuple[Stack, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, data_dir = server
    engine = make_engine(Settings(_env_file=None, data_dir=data_dir))
    upgrade_database(engine)
    with session_scope(engine) as session:
        session.add(Payer(name="Acme", payer_id="ACME1", max_concurrency=3))
    first = _run(data_dir, stack.api_url, monkeypatch)
    assert "work pool claimdesk" in first["created"]
    assert {"queue review", "automation crash-zombie-flow-runs"} <= set(first["created"])
    # A new pool comes with a "default" queue at priority 1: set behind the review queue.
    assert "queue default" in first["updated"]
    limit_names = [c for c in first["created"] if c.startswith("limit ")]
    assert len(limit_names) == 1
    assert _run(data_dir, stack.api_url, monkeypatch) == {"created": [], "updated": []}

    with session_scope(engine) as session:  # a payer added later, a limit changed
        session.add(Payer(name="Blue", payer_id="BLUE2", max_concurrency=2))
        acme = session.exec(select(Payer).where(Payer.payer_id == "ACME1")).one()
        acme.max_concurrency = 5
    again = _run(data_dir, stack.api_url, monkeypatch)
    assert len(again["created"]) == 1 and again["created"][0].startswith("limit ")
    assert len(again["updated"]) == 1 and again["updated"][0] == limit_names[0]
    assert sorted(_limits(stack.api_url, stack.prefect_auth).values()) == [2, 5]
    with session_scope(engine) as session:  # an operator's command, audited as the OS account
        runs = session.exec(
            select(AuditEvent).where(AuditEvent.action == "prefect.bootstrapped")
        ).all()
        assert [(e.actor, e.details["created"]) for e in runs] == [
            (operator(), len(first["created"])),
            (operator(), 0),
            (operator(), 1),
        ]
    engine.dispose()


def test_an_unreachable_server_is_a_clear_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(tmp_path))
    from claimdesk.settings import get_settings

    get_settings.cache_clear()
    upgrade_database(make_engine(Settings(_env_file=None, data_dir=tmp_path)))
    result = CliRunner().invoke(app, ["prefect", "bootstrap", "--api", "http://127.0.0.1:9/api"])
    assert result.exit_code == 1
    assert "could not be set up" in result.output and "Traceback" not in result.output
