"""The stack's Prefect API answers only clients with this data directory's auth string.

One real Prefect server started by ``Stack`` (as `claimdesk up` starts it), shared by
the module's tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from claimdesk.db import make_engine
from claimdesk.migrate import upgrade_database
from claimdesk.reporting.flow_runs import PrefectUnavailable, read_flow_runs
from claimdesk.settings import Settings
from claimdesk.stack import PREFECT_AUTH_FILE, STACK_FILE, Stack, settings_beside_stack
from claimdesk.stack_procs import read_proc
from tests.e2e.stack_fixtures import free_ports

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("prefect-auth")
    stack = Stack(Settings(_env_file=None, data_dir=data_dir), free_ports(), None, with_ui=False)
    try:
        stack.start_prefect()
        yield stack
    finally:
        stack.stop()


def _work_pools(api: str, auth: str | None) -> Any:
    """Prefect's own client, as a worker or a command uses it."""
    from prefect.client.orchestration import get_client
    from prefect.settings import (
        PREFECT_API_AUTH_STRING,
        PREFECT_API_KEY,
        PREFECT_API_URL,
        temporary_settings,
    )

    async def read() -> Any:
        updates = {PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: auth, PREFECT_API_KEY: None}
        with temporary_settings(updates=updates):
            async with get_client() as client:
                return await client.read_work_pools()

    return asyncio.run(read())


def test_a_prefect_client_without_the_auth_string_is_refused(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.exceptions import PrefectHTTPStatusError

    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    for auth in (None, "claimdesk:not-the-secret"):
        with pytest.raises(PrefectHTTPStatusError, match="401"):
            _work_pools(stack.api_url, auth)
    assert isinstance(_work_pools(stack.api_url, stack.prefect_auth), list)


def test_plain_http_is_refused_but_the_health_probe_answers(stack: Stack) -> None:
    assert httpx.post(f"{stack.api_url}/flow_runs/filter", json={}).status_code == 401
    assert httpx.get(f"{stack.api_url}/health").status_code == 200  # what `up` waits for


def test_the_dashboards_reader_sends_the_string_from_settings(stack: Stack) -> None:
    with pytest.raises(PrefectUnavailable, match=r"refused the request \(401\): its auth string"):
        read_flow_runs(stack.api_url)
    assert read_flow_runs(stack.api_url, auth=SecretStr(stack.prefect_auth)) == []


def test_the_string_is_the_data_directorys_own_and_stays_off_command_lines(stack: Stack) -> None:
    data_dir = stack.settings.data_dir
    path = data_dir / PREFECT_AUTH_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = stack.prefect_auth.split(":", 1)[1]
    assert secret == path.read_text().strip() and len(secret) == 64
    assert secret not in (data_dir / STACK_FILE).read_text()
    record = json.loads((data_dir / STACK_FILE).read_text())
    for ref in record["children"].values():
        proc = read_proc(ref["pid"])
        assert proc is not None and secret not in " ".join(proc.argv)
    # Another data directory's stack would make another string.
    assert Stack(Settings(_env_file=None, data_dir=data_dir / "other")).prefect_auth != (
        stack.prefect_auth
    )


def test_commands_beside_the_stack_get_its_api_and_string_and_no_other_server_does(
    stack: Stack,
) -> None:
    data_dir = stack.settings.data_dir
    beside = settings_beside_stack(Settings(_env_file=None, data_dir=data_dir))
    assert beside.prefect_api_url == stack.api_url
    assert beside.prefect_api_auth_string is not None
    assert beside.prefect_api_auth_string.get_secret_value() == stack.prefect_auth
    assert stack.prefect_auth not in repr(beside) and stack.prefect_auth not in str(beside.masked())

    elsewhere = settings_beside_stack(
        Settings(_env_file=None, data_dir=data_dir, prefect_api_url="http://prefect.example/api")
    )
    assert elsewhere.prefect_api_auth_string is None


def test_the_stack_gives_its_children_the_string_and_never_a_cloud_key(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PREFECT_API_KEY", "pnu_cloud")
    env = stack.env()
    assert env["PREFECT_SERVER_API_AUTH_STRING"] == env["PREFECT_API_AUTH_STRING"]
    assert env["PREFECT_API_AUTH_STRING"] == stack.prefect_auth
    assert "PREFECT_API_KEY" not in env


def _claimdesk(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command in a process of its own, with no Prefect or claimdesk settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLAIMDESK_"))}
    return subprocess.run(
        [str(Path(sys.executable).with_name("claimdesk")), *args],
        env={**env, "CLAIMDESK_DATA_DIR": str(data_dir)},
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_command_beside_the_stack_is_let_in_and_one_from_elsewhere_is_not(
    stack: Stack, tmp_path: Path
) -> None:
    data_dir = stack.settings.data_dir
    engine = make_engine(stack.settings)
    upgrade_database(engine)
    engine.dispose()
    beside = _claimdesk(data_dir, "prefect", "bootstrap", "--api", stack.api_url, "--json")
    assert beside.returncode == 0, beside.stdout + beside.stderr
    assert "work pool claimdesk" in json.loads(beside.stdout)["created"]

    elsewhere = tmp_path / "elsewhere"  # the same database, but not the stack's folder
    elsewhere.mkdir(mode=0o700)
    shutil.copy(data_dir / "claimdesk.db", elsewhere / "claimdesk.db")
    refused = _claimdesk(elsewhere, "prefect", "bootstrap", "--api", stack.api_url)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "could not be set up" in refused.stderr and "401" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert stack.prefect_auth.split(":", 1)[1] not in refused.stdout + refused.stderr


def test_what_the_stack_and_its_children_write_is_the_owners_alone(stack: Stack) -> None:
    data_dir = stack.settings.data_dir
    logs = data_dir / "logs"
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    assert stat.S_IMODE((logs / "prefect-server.log").stat().st_mode) == 0o600
    assert stat.S_IMODE(stack.prefect_home.stat().st_mode) == 0o700
    written = [p for p in stack.prefect_home.rglob("*") if p.is_file()]
    assert any(p.name.startswith("prefect.db") for p in written), written  # the server's own
    # Everything under the data directory: the record, the auth string, logs, databases.
    every = [data_dir, *data_dir.rglob("*")]
    assert len(every) > 8
    loose = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in every}
    assert all(int(m, 8) & 0o077 == 0 for m in loose.values()), loose
