"""The stack's processes as Linux's /proc shows them, and how ``claimdesk down`` stops them.

A process is named by its pid *and* its start time, so a pid the kernel handed to
someone else since is never taken for one of ours. Only this user's processes are read.
Leftovers of a stack started without a record (an older claimdesk, or a record lost)
are found by their command lines: the Prefect server and the worker of pool
``claimdesk``, the payer simulator, the Streamlit app, each of this data directory (its
``CLAIMDESK_DATA_DIR``) or on the stack's ports.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from claimdesk.stack_guard import descendants

WORK_POOL = "claimdesk"


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    start: int  # clock ticks after boot: with the pid, names one process for good
    argv: tuple[str, ...]

    @property
    def command(self) -> str:
        return " ".join(Path(a).name if i == 0 else a for i, a in enumerate(self.argv))[:120]


def read_proc(pid: int) -> Proc | None:
    """This user's live process ``pid`` (zombies count as gone), or None."""
    base = Path("/proc") / str(pid)
    try:
        if base.stat().st_uid != os.getuid():
            return None
        fields = (base / "stat").read_text().rsplit(")", 1)[1].split()
        argv = (base / "cmdline").read_bytes().split(b"\0")
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):
        return None
    return Proc(
        pid=pid,
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        start=int(fields[19]),
        argv=tuple(a.decode(errors="replace") for a in argv if a),
    )


def start_time(pid: int) -> int | None:
    proc = read_proc(pid)
    return proc.start if proc else None


def is_alive(pid: int, start: int | None) -> bool:
    """``pid`` is still the process that started at ``start`` (any start when None)."""
    proc = read_proc(pid)
    return proc is not None and (start is None or proc.start == start)


def all_procs() -> list[Proc]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (proc := read_proc(int(entry.name))) is not None:
            found.append(proc)
    return found


def tree(root: Proc, procs: Iterable[Proc], *, group: bool = True) -> list[Proc]:
    """``root``, everything below it, and (``group``) its process group if it leads one."""
    by_pid = {p.pid: p for p in procs}
    members = [root, *(by_pid[pid] for pid in descendants(root.pid) if pid in by_pid)]
    if group and root.pgid == root.pid:
        members += [p for p in by_pid.values() if p.pgid == root.pgid]
    return list({p.pid: p for p in members}.values())


# -- leftovers of a stack without a record -------------------------------------------------


def _follows(argv: tuple[str, ...], program: str, words: list[str]) -> bool:
    n = len(words)
    return any(
        Path(a).name == program and list(argv[i + 1 : i + 1 + n]) == words
        for i, a in enumerate(argv)
    )


def _option(argv: tuple[str, ...], *names: str) -> str | None:
    for i, a in enumerate(argv):
        for name in names:
            if a == name and i + 1 < len(argv):
                return argv[i + 1]
            if a.startswith(name + "="):
                return a.split("=", 1)[1]
    return None


def stack_role(argv: tuple[str, ...]) -> str | None:
    """Which of the stack's programs ``argv`` runs (as ``Stack`` or an older claimdesk)."""
    if _follows(argv, "prefect", ["server", "start"]):
        return "prefect-server"
    if _follows(argv, "prefect", ["worker", "start"]):
        return "worker" if _option(argv, "--pool", "-p") == WORK_POOL else None
    text = list(argv)
    if _follows(argv, "claimdesk", ["payer-sim"]) or any(
        text[i : i + 2] == ["-m", "claimdesk.payer_sim"] for i in range(len(text))
    ):
        return "payer-sim"
    runs_streamlit = _follows(argv, "streamlit", ["run"]) or any(
        text[i : i + 3] == ["-m", "streamlit", "run"] for i in range(len(text))
    )
    if runs_streamlit and any(a.endswith(("ui/app.py", "ui/server.py")) for a in argv):
        return "app"
    return None


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = (Path("/proc") / str(pid) / "environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def _port(role: str, proc: Proc, env: dict[str, str]) -> str | None:
    if role == "prefect-server":
        return _option(proc.argv, "--port") or env.get("PREFECT_SERVER_API_PORT") or "4200"
    if role == "payer-sim":
        return _option(proc.argv, "--port") or "8600"
    if role == "app":
        return _option(proc.argv, "--server.port") or "8501"
    api = env.get("PREFECT_API_URL", "")  # the worker: the server it works for
    return api.rsplit(":", 1)[-1].split("/", 1)[0] if ":" in api else None


def leftovers(data_dir: Path, ports: dict[str, int]) -> list[tuple[str, Proc]]:
    """This data directory's stack processes (or on its ``ports``), topmost of each tree.

    ``ports`` maps a role (``prefect-server``, ``payer-sim``, ``app``) to its port; the
    worker belongs when it works for the Prefect server's port.
    """
    wanted = {**ports, "worker": ports.get("prefect-server")}
    ours = {os.getpid(), os.getppid()}
    found: dict[int, tuple[str, Proc]] = {}
    procs = all_procs()
    for proc in procs:
        role = stack_role(proc.argv)
        if role is None or proc.pid in ours:
            continue
        env = _environ(proc.pid)
        same_dir = env.get("CLAIMDESK_DATA_DIR") and _same_path(env["CLAIMDESK_DATA_DIR"], data_dir)
        if same_dir or _port(role, proc, env) == str(wanted.get(role)):
            found[proc.pid] = (role, proc)
    by_pid = {p.pid: p for p in procs}

    def below_another(proc: Proc) -> bool:
        parent = by_pid.get(proc.ppid)
        while parent is not None:
            if parent.pid in found:
                return True
            parent = by_pid.get(parent.ppid)
        return False

    return [(role, proc) for role, proc in found.values() if not below_another(proc)]


def _same_path(a: str, b: Path) -> bool:
    with contextlib.suppress(OSError):
        return Path(a).resolve() == b.resolve()
    return False


# -- stopping ------------------------------------------------------------------------------


def stop(roots: list[Proc], *, timeout: float = 20, groups: bool = True) -> list[Proc]:
    """SIGTERM each root (its group if it leads one and ``groups``), then SIGKILL what is
    left of the roots, their descendants and groups after ``timeout``; returns all of them.

    A guard (``claimdesk.stack_guard``) is sent the signal alone: it passes it on and
    stops what is below it.
    """
    procs = all_procs()
    victims = {p.pid: p for root in roots for p in tree(root, procs, group=groups)}
    for root in roots:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if groups and root.pgid == root.pid and "claimdesk.stack_guard" not in root.argv:
                os.killpg(root.pgid, signal.SIGTERM)
            else:
                os.kill(root.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _survivors(victims.values()):
        time.sleep(0.2)
    for proc in _survivors(victims.values()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _survivors(victims.values()):
        time.sleep(0.1)
    return list(victims.values())


def _survivors(procs: Iterable[Proc]) -> list[Proc]:
    return [p for p in procs if is_alive(p.pid, p.start)]
