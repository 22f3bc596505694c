"""`claimdesk up` leaves nothing behind whatever ends it; `claimdesk down` stops leftovers.

The real command in a subprocess (`claimdesk up --no-ui`: Prefect server on SQLite, the
deployments, a process worker, the payer simulator), on fresh ports, in a data directory
the module's tests share so only the first start migrates Prefect's database. A stack's
processes are everything below the `claimdesk up` process, everything in the process
groups its stack.json records, and every process whose environment names the data
directory; each is named by pid and start time, so a reused pid is not taken for one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.cli.up_cmd import refuse_leftovers
from claimdesk.errors import ConfigError
from claimdesk.settings import Settings, get_settings
from claimdesk.stack import STACK_FILE, Ports, Stack, running_stack
from claimdesk.stack_guard import descendants
from claimdesk.stack_procs import Proc, all_procs, is_alive
from tests.e2e.stack_fixtures import free_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
CLAIMDESK = str(Path(sys.executable).with_name("claimdesk"))
READY = "Ctrl-C stops everything."


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("up")


def _env(data_dir: Path) -> dict[str, str]:
    """The user's environment without any Prefect or claimdesk configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLAIMDESK_"))}
    return {**env, "CLAIMDESK_DATA_DIR": str(data_dir)}


def claimdesk(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLAIMDESK, *args],
        env=_env(data_dir),
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    log: Path
    prefect_port: int
    sim_port: int

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_up(data_dir: Path, prefect_port: int, sim_port: int) -> Up:
    log = data_dir / f"up-{time.monotonic_ns()}.log"
    argv = ["up", "--no-ui", "--prefect-port", str(prefect_port), "--sim-port", str(sim_port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [CLAIMDESK, *argv],
            env=_env(data_dir),
            cwd=data_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the test's own signals never reach it
        )
    up = Up(process, log, prefect_port, sim_port)
    deadline = time.monotonic() + 240
    while READY not in up.output():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"claimdesk up did not come up:\n{up.output()}")
        time.sleep(0.5)
    return up


@pytest.fixture
def ports() -> Iterator[tuple[int, int]]:
    yield free_port(), free_port()


def _environ_names(pid: int, data_dir: Path) -> bool:
    try:
        raw = (Path("/proc") / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return f"CLAIMDESK_DATA_DIR={data_dir}".encode() in raw.split(b"\0")


def stack_processes(root: int, data_dir: Path) -> list[Proc]:
    """What runs for this stack now (see the module's docstring), ``root`` included."""
    procs = all_procs()
    by_pid = {p.pid: p for p in procs}
    pids = {root, *descendants(root)}
    record = data_dir / STACK_FILE
    if record.exists():
        groups = {c["pgid"] for c in json.loads(record.read_text())["children"].values()}
        pids |= {p.pid for p in procs if p.pgid in groups}
    pids |= {p.pid for p in procs if p.pid != os.getpid() and _environ_names(p.pid, data_dir)}
    return [by_pid[pid] for pid in pids if pid in by_pid]


def assert_all_gone(before: list[Proc], data_dir: Path, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [p for p in before if is_alive(p.pid, p.start)]
        alive += [
            p
            for p in all_procs()
            if p.pid != os.getpid() and p not in alive and _environ_names(p.pid, data_dir)
        ]
        if not alive:
            return
        time.sleep(0.5)
    pytest.fail(f"still running {within:.0f} s later: {[(p.pid, p.command) for p in alive]}")


def _commands(procs: list[Proc]) -> str:
    return "\n".join(p.command for p in procs)


def _assert_whole_stack(procs: list[Proc]) -> None:
    commands = _commands(procs)
    for program in ("prefect server start", "prefect worker start", "claimdesk.payer_sim"):
        assert program in commands, commands
    assert sum("claimdesk.stack_guard" in p.command for p in procs) == 3, commands


def _time_wait_on(port: int) -> int:
    """Connections in TIME_WAIT on local ``port`` (/proc/net/tcp; state 06)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "06":
            count += 1
    return count


def test_sighup_of_claimdesk_up_stops_everything_and_removes_its_record(
    data_dir: Path, ports: tuple[int, int]
) -> None:
    up = start_up(data_dir, *ports)
    before = stack_processes(up.process.pid, data_dir)
    _assert_whole_stack(before)

    up.process.send_signal(signal.SIGHUP)  # the terminal closed
    assert up.process.wait(timeout=40) == 0, up.output()
    assert "stopped." in up.output()
    assert_all_gone(before, data_dir)
    assert not (data_dir / STACK_FILE).exists()


def test_up_again_right_after_ctrl_c_comes_up_and_sigkill_of_it_leaves_nothing(
    data_dir: Path, ports: tuple[int, int]
) -> None:
    """One test for three things: every start of the stack costs ~45 s on this machine.

    Ctrl-C, then `claimdesk up` again at once on the same ports (the stopped Prefect
    server's connections still in TIME_WAIT) comes up; a decision resolved from the CLI
    beside it resumes its run at once; SIGKILL of that `claimdesk up` leaves nothing.
    """
    first = start_up(data_dir, *ports)
    # A client that keeps its connection, as a browser on the Prefect UI does: the server
    # closes it when it stops, which leaves the connection in TIME_WAIT on its port.
    with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}") as client:
        assert client.get("/api/health").status_code == 200
        first.process.send_signal(signal.SIGINT)
        assert first.process.wait(timeout=40) == 0, first.output()
    assert _time_wait_on(ports[0]) > 0  # what the old port probe refused

    second = start_up(data_dir, *ports)
    record = json.loads((data_dir / STACK_FILE).read_text())
    assert (data_dir / STACK_FILE).stat().st_mode & 0o777 == 0o600
    assert record["supervisor"]["pid"] == second.process.pid
    assert record["prefect_api_url"] == f"http://127.0.0.1:{ports[0]}/api"
    assert record["payer_sim_url"] == f"http://127.0.0.1:{ports[1]}/core"
    assert set(record["children"]) == {"prefect-server", "payer-sim", "worker"}
    assert f"stack record    {data_dir / STACK_FILE}" in second.output()
    assert "Sign in to the command line with `claimdesk login" in second.output()
    try:
        _resolve_beside_the_stack(data_dir, ports[0])
    except BaseException:
        second.process.send_signal(signal.SIGTERM)
        second.process.wait(timeout=40)
        raise
    before = stack_processes(second.process.pid, data_dir)
    _assert_whole_stack(before)

    second.process.send_signal(signal.SIGKILL)
    second.process.wait()
    assert_all_gone(before, data_dir)
    # The record is left behind (nobody could remove it) and is ignored as stale.
    assert (data_dir / STACK_FILE).exists() and running_stack(data_dir) is None


def _resolve_beside_the_stack(data_dir: Path, prefect_port: int) -> None:
    """`claimdesk review resolve` with no Prefect configured finds the stack's API."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    from claimdesk.db import make_engine, session_scope
    from claimdesk.stack import prefect_auth_string
    from models import User
    from tests.conftest import sign_in_cli
    from tests.e2e.stack_fixtures import flow_run_state
    from tests.e2e.test_workflows_e2e import (
        _claim_waiting_for_scrub_review,
        _paused_under,
        _start_review_run,
    )

    engine = make_engine(Settings(_env_file=None, data_dir=data_dir))
    with session_scope(engine) as session:
        session.add(User(username="sam", role="specialist", password_hash="x"))
    task_id = _claim_waiting_for_scrub_review(engine)
    engine.dispose()
    sign_in_cli(Settings(_env_file=None, data_dir=data_dir), "sam")  # `claimdesk login sam`
    api = {  # this test process is a client of the stack's server: its auth string too
        PREFECT_API_URL: f"http://127.0.0.1:{prefect_port}/api",
        PREFECT_API_AUTH_STRING: prefect_auth_string(data_dir),
    }
    with temporary_settings(updates=api):
        run_id = _start_review_run(task_id)
        wait_until(lambda: _paused_under(run_id, "-1"), timeout=120, what="the review run paused")
        decision = json.dumps({"action": "override", "reason": "payer confirmed by phone"})
        result = claimdesk(data_dir, "review", "resolve", str(task_id), "--decision", decision)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "deferred" not in result.stdout, result.stdout
        assert flow_run_state(run_id) != "PAUSED"  # resumed by the command itself


# An older claimdesk's supervisor: its children in sessions of their own, no guard, no
# record, nothing that notices the supervisor's death. It prints its children's pids.
OLDER_SUPERVISOR = textwrap.dedent(
    """
    import subprocess, sys, time
    from pathlib import Path
    import httpx
    from claimdesk.settings import Settings
    from claimdesk.stack import Ports, Stack, _prefect_bin
    data_dir, prefect_port, sim_port = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    stack = Stack(Settings(_env_file=None, data_dir=data_dir), Ports(prefect_port, sim_port))
    def spawn(argv):
        log = open(data_dir / "older.log", "ab")
        return subprocess.Popen(argv, env=stack.env(), stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, start_new_session=True).pid
    pids = [spawn([_prefect_bin(), "server", "start"]),
            spawn([sys.executable, "-m", "claimdesk.payer_sim", "--port", str(sim_port),
                   "--state", str(data_dir / "older_sim.sqlite")])]
    for _ in range(240):
        try:
            if httpx.get(stack.api_url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pids.append(spawn([_prefect_bin(), "worker", "start", "--pool", "claimdesk",
                       "--type", "process"]))
    print(*pids, flush=True)
    time.sleep(600)
    """
)


def test_down_stops_an_older_versions_stack_left_by_a_killed_supervisor(
    data_dir: Path, ports: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    (data_dir / STACK_FILE).unlink(missing_ok=True)
    supervisor = subprocess.Popen(
        [sys.executable, "-c", OLDER_SUPERVISOR, str(data_dir), *map(str, ports)],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert supervisor.stdout is not None
    children = [int(pid) for pid in supervisor.stdout.readline().split()]
    assert len(children) == 3
    wait_until(
        lambda: "ProcessWorker" in (data_dir / "older.log").read_text(errors="replace"),
        timeout=60,
        what="the older stack's worker",
    )
    before = stack_processes(supervisor.pid, data_dir)
    supervisor.kill()  # before anything could act on it
    supervisor.wait()
    time.sleep(1)
    assert all(is_alive(pid, None) for pid in children)  # orphans, holding the ports

    # `claimdesk up` names them (in-process: each CLI start costs ~10 s on a busy machine).
    settings = Settings(_env_file=None, data_dir=data_dir)
    with pytest.raises(ConfigError) as refused:
        refuse_leftovers(Stack(settings, Ports(*ports), with_ui=False))
    assert "a claimdesk stack from an earlier run is still running (pids" in str(refused.value)
    assert all(str(pid) in str(refused.value) for pid in children)
    assert str(refused.value).endswith("stop it with `claimdesk down`.")

    # This stack's ports only: the defaults may be someone's `make up` on this machine.
    ours = ["--prefect-port", str(ports[0]), "--sim-port", str(ports[1])]
    ours += ["--ui-port", str(free_port())]
    result = claimdesk(data_dir, "down", *ours)
    assert result.returncode == 0, result.stdout + result.stderr
    for pid in children:
        assert f" {pid}  " in result.stdout, result.stdout
    assert "prefect server start" in result.stdout and "payer_sim" in result.stdout
    assert_all_gone([p for p in before if p.pid != supervisor.pid], data_dir, within=5)

    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    again = CliRunner().invoke(app, ["down", *ours])
    get_settings.cache_clear()
    assert again.exit_code == 0 and again.output.strip() == "nothing to stop"
