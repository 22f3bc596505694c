"""The stack's parts that need no Prefect: the port probe, the guard, the record, /proc.

Real sockets and real processes; the whole stack is in tests/cli/test_up_down.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from claimdesk.errors import ConfigError
from claimdesk.settings import Settings
from claimdesk.stack import (
    STACK_FILE,
    Ports,
    Stack,
    read_stack_file,
    running_stack,
    settings_beside_stack,
)
from claimdesk.stack_procs import is_alive, leftovers, read_proc, stack_role, start_time


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (alive := [p for p in pids if read_proc(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _port_in_time_wait() -> int:
    """A port whose server accepted a connection and closed first: TIME_WAIT on its side.

    The server sets SO_REUSEADDR, as uvicorn, Tornado and every server here do.
    """
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = int(server.getsockname()[1])
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server closes first, as a stopped server does
    time.sleep(0.05)
    client.close()
    server.close()
    return port


def test_a_port_whose_server_just_stopped_is_free_and_a_listened_one_is_not(
    tmp_path: Path,
) -> None:
    port = _port_in_time_wait()
    with socket.socket() as plain, pytest.raises(OSError):  # the old probe: refused
        plain.bind(("127.0.0.1", port))
    stack = Stack(_settings(tmp_path), Ports(prefect=port, payer_sim=_port_in_time_wait()))
    stack.with_ui = False
    stack.check_ports()

    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = int(listener.getsockname()[1])
        stack.ports.payer_sim = busy
        with pytest.raises(ConfigError, match=f"port {busy} for the payer simulator is in use"):
            stack.check_ports()


# A supervisor as `claimdesk up` is one: starts a child through the guard, prints its
# pid, then waits to be killed. The child leaves a grandchild in a session of its own
# (as Prefect's worker starts flow runs) and a plain one.
SUPERVISOR = textwrap.dedent(
    """
    import os, subprocess, sys, time
    env = dict(os.environ, CLAIMDESK_STACK_PARENT=str(os.getpid()))
    guard = subprocess.Popen(
        [sys.executable, "-m", "claimdesk.stack_guard", "bash", "-c",
         "setsid sleep 301 & sleep 302 & trap '' TERM; sleep 303; wait"],
        env=env, start_new_session=True)
    print(guard.pid, flush=True)
    time.sleep(600)
    """
)


def _tree_of(pid: int) -> list[int]:
    from claimdesk.stack_guard import descendants

    return [pid, *descendants(pid)]


def test_the_guard_takes_its_whole_tree_down_when_the_supervisor_is_sigkilled() -> None:
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR], stdout=subprocess.PIPE, start_new_session=True
    )
    assert supervisor.stdout is not None
    guard = int(supervisor.stdout.readline())
    deadline = time.monotonic() + 20
    while len(tree := _tree_of(guard)) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(tree) == 5, tree  # guard, bash, and the three sleeps
    supervisor.kill()
    supervisor.wait()
    # bash ignores SIGTERM: the guard's SIGKILL after its grace period ends it.
    assert _wait_gone(tree, timeout=20) == []


def test_the_guard_exits_with_the_programs_status_and_leaves_no_orphan() -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "claimdesk.stack_guard", "bash", "-c", "setsid sleep 300 & exit 7"],
        timeout=30,
        check=False,
    )
    assert result.returncode == 7
    assert time.monotonic() - started < 10  # the orphan took SIGTERM, no grace wait
    stray = [p for p in _all_pids() if (proc := read_proc(p)) and "sleep 300" in proc.command]
    assert stray == []


def test_a_stop_signal_to_the_guard_reaches_the_program() -> None:
    guard = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claimdesk.stack_guard",
            "bash",
            "-c",
            "trap 'exit 3' TERM; sleep 300 & wait",
        ],
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while len(_tree_of(guard.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    guard.send_signal(signal.SIGTERM)
    assert guard.wait(timeout=15) == 3


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _record(tmp_path: Path, supervisor: int, children: dict[str, int]) -> None:
    def ref(pid: int) -> dict[str, int | None]:
        return {"pid": pid, "pgid": pid, "start": start_time(pid)}

    (tmp_path / STACK_FILE).write_text(
        json.dumps(
            {
                "version": "0.1.0",
                "started_at": "2026-01-01T00:00:00+00:00",
                "data_dir": str(tmp_path),
                "supervisor": ref(supervisor),
                "ports": {"prefect": 14999, "payer_sim": 18999, "ui": 18501},
                "prefect_api_url": "http://127.0.0.1:14999/api",
                "payer_sim_url": "http://127.0.0.1:18999/core",
                "ui_url": None,
                "children": {name: ref(pid) for name, pid in children.items()},
            }
        )
    )


def test_commands_beside_a_live_stack_use_its_prefect_api_and_simulator(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        _record(tmp_path, os.getpid(), {"prefect-server": sleeper.pid, "payer-sim": sleeper.pid})
        beside = settings_beside_stack(_settings(tmp_path))
        assert beside.prefect_api_url == "http://127.0.0.1:14999/api"
        assert beside.payer_sim_url == "http://127.0.0.1:18999/core"
        # What is configured wins.
        mine = _settings(tmp_path, prefect_api_url="http://prefect.example/api")
        assert settings_beside_stack(mine) is mine
        sim = settings_beside_stack(_settings(tmp_path, payer_sim_url="http://sim.example/core"))
        assert sim.payer_sim_url == "http://sim.example/core"
        assert sim.prefect_api_url == "http://127.0.0.1:14999/api"
    finally:
        sleeper.kill()
        sleeper.wait()
    # The Prefect server is gone: nothing to use beside it.
    assert settings_beside_stack(_settings(tmp_path)).prefect_api_url is None


def test_a_record_whose_processes_are_gone_or_reused_is_ignored(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    _record(tmp_path, gone.pid, {"prefect-server": gone.pid})
    assert read_stack_file(tmp_path) is not None
    assert running_stack(tmp_path) is None
    # A live pid with another start time is someone else's process now.
    raw = json.loads((tmp_path / STACK_FILE).read_text())
    raw["supervisor"] = {"pid": os.getpid(), "pgid": os.getpgrp(), "start": 1}
    (tmp_path / STACK_FILE).write_text(json.dumps(raw))
    assert not is_alive(os.getpid(), 1)
    assert running_stack(tmp_path) is None
    (tmp_path / STACK_FILE).write_text("{not json")
    assert read_stack_file(tmp_path) is None


@pytest.mark.parametrize(
    ("argv", "role"),
    [
        ("/v/bin/python /v/bin/prefect server start", "prefect-server"),
        ("/v/bin/python -m claimdesk.stack_guard /v/bin/prefect server start", "prefect-server"),
        ("/v/bin/prefect worker start --pool claimdesk --type process", "worker"),
        ("/v/bin/prefect worker start --pool=claimdesk", "worker"),
        ("/v/bin/prefect worker start --pool other", None),
        ("/v/bin/python -m claimdesk.payer_sim --port 8600", "payer-sim"),
        ("/v/bin/claimdesk payer-sim --port 8600", "payer-sim"),
        ("/v/bin/python -m streamlit run /repo/ui/app.py --server.port 8501", "app"),
        ("/v/bin/streamlit run ui/app.py", "app"),
        ("/v/bin/streamlit run other.py", None),
        ("/v/bin/python -m prefect server database reset", None),
        ("vim prefect.yaml", None),
    ],
)
def test_the_stacks_programs_are_told_by_their_command_line(argv: str, role: str | None) -> None:
    assert stack_role(tuple(argv.split())) == role


def _looks_like_sim(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A real process with an older simulator's command line (it only sleeps)."""
    argv = [sys.executable, "-c", "import time; time.sleep(60)", "/v/bin/claimdesk", "payer-sim"]
    return subprocess.Popen([*argv, "--port", str(port)], env=env)


def test_leftovers_are_this_data_dirs_or_on_the_stacks_ports(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    plain_env = {k: v for k, v in os.environ.items() if k != "CLAIMDESK_DATA_DIR"}
    by_dir = _looks_like_sim(18998, {**plain_env, "CLAIMDESK_DATA_DIR": str(tmp_path)})
    by_port = _looks_like_sim(18999, plain_env)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
            (p := read_proc(x.pid)) and stack_role(p.argv) for x in (by_dir, by_port)
        ):
            time.sleep(0.05)
        here = {p.pid: role for role, p in leftovers(tmp_path, {"payer-sim": 18000})}
        assert here == {by_dir.pid: "payer-sim"}
        there = {p.pid for _, p in leftovers(other, {"payer-sim": 18999})}
        assert there == {by_port.pid}
    finally:
        for proc in (by_dir, by_port):
            proc.kill()
            proc.wait()


# A supervisor that records its stack as `claimdesk up` does (programs that only sleep)
# and stops it on SIGTERM.
RECORDING_SUPERVISOR = textwrap.dedent(
    """
    import signal, sys
    from pathlib import Path
    from claimdesk.settings import Settings
    from claimdesk.stack import Ports, Stack
    settings = Settings(_env_file=None, data_dir=Path(sys.argv[1]))
    stack = Stack(settings, Ports(1, 2, 3), with_ui=False)
    def stop(*_):
        stack.stop()
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    stack._spawn("prefect-server", ["sleep", "301"])
    stack._spawn("worker", ["bash", "-c", "setsid sleep 302 & wait"])
    print("ready", flush=True)
    signal.pause()
    """
)


def test_down_stops_a_recorded_stack_through_its_supervisor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from claimdesk.cli.main import app
    from claimdesk.settings import get_settings

    supervisor = subprocess.Popen(
        [sys.executable, "-c", RECORDING_SUPERVISOR, str(tmp_path)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert supervisor.stdout is not None and supervisor.stdout.readline() == b"ready\n"
    deadline = time.monotonic() + 10
    while len(tree := _tree_of(supervisor.pid)) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(tree) == 6, tree  # supervisor, 2 guards, sleep, bash, setsid sleep
    info = running_stack(tmp_path)
    assert info is not None and info.supervisor.pid == supervisor.pid

    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        # Ports nobody uses: the defaults may be someone's `make up` on this machine.
        unused = ["--prefect-port", "1", "--sim-port", "2", "--ui-port", "3"]
        result = CliRunner().invoke(app, ["down", *unused])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "stopped 6 process(es):" in result.output
    for pid in tree:
        assert f" {pid}  " in result.output
    assert supervisor.wait(timeout=5) == 0  # it stopped its stack itself, as on Ctrl-C
    assert _wait_gone(tree, timeout=5) == []
    assert not (tmp_path / STACK_FILE).exists()


def test_kill_takes_a_child_with_everything_it_started_and_stop_the_rest(tmp_path: Path) -> None:
    """`Stack.kill` is a dead host (fault tests): the program and its own-session runs."""
    stack = Stack(_settings(tmp_path), Ports(1, 2, 3), with_ui=False)
    stack._spawn("worker", ["bash", "-c", "setsid sleep 311 & sleep 312 & wait"])
    stack._spawn("payer-sim", ["sleep", "313"])
    deadline = time.monotonic() + 10
    worker = stack._children["worker"].pid
    while len(tree := _tree_of(worker)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(tree) == 4, tree  # guard, bash, two sleeps (one in a session of its own)
    recorded = read_stack_file(tmp_path)
    assert recorded is not None and set(recorded.children) == {"worker", "payer-sim"}

    stack.kill("worker")
    assert _wait_gone(tree, timeout=2) == []
    recorded = read_stack_file(tmp_path)
    assert recorded is not None and set(recorded.children) == {"payer-sim"}
    sim = _tree_of(stack._children["payer-sim"].pid)
    stack.stop()
    assert _wait_gone(sim, timeout=2) == []
    assert not (tmp_path / STACK_FILE).exists()
