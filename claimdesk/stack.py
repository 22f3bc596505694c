"""The embedded stack: Prefect server, process worker, payer simulator and the app.

``claimdesk up`` and the end-to-end tests start the same real processes through
``Stack``; nothing here is a stand-in. Every child runs under ``claimdesk.stack_guard``
in a session of its own, so stopping the stack stops everything it started (flow runs
too) and nothing else, and the children stop by themselves when the supervisor dies,
even of SIGKILL. The running stack is recorded in ``<data_dir>/stack.json``: commands
run beside it find its Prefect API and simulator there, ``claimdesk down`` its processes.

The Prefect API answers only clients that send this data directory's auth string
(``<data_dir>/prefect-api.auth``, made once, 0600): the server gets it as
``PREFECT_SERVER_API_AUTH_STRING``, every child and the commands run beside the stack as
``PREFECT_API_AUTH_STRING``. It travels in the environment (owner-only in /proc), never
on a command line.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from claimdesk import stack_procs
from claimdesk.errors import ConfigError
from claimdesk.private_files import private_dir, private_file, read_or_create_key
from claimdesk.settings import Settings
from claimdesk.stack_guard import PARENT_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]
WORK_POOL = "claimdesk"
# The worker polls for scheduled runs this often (seconds): resumed runs restart promptly.
WORKER_POLL_SECONDS = 2
STACK_FILE = "stack.json"
# Whatever a child creates (Prefect's database, the simulator's state, its own files) is
# the operator's alone, as claimdesk's own files are (claimdesk.private_files).
CHILD_UMASK = 0o077
PREFECT_AUTH_FILE = "prefect-api.auth"
PREFECT_AUTH_USER = "claimdesk"


def prefect_auth_string(data_dir: Path) -> str:
    """This data directory's Prefect API auth string (``user:password``), made on first use."""
    secret = read_or_create_key(data_dir / PREFECT_AUTH_FILE, what="Prefect API auth")
    return f"{PREFECT_AUTH_USER}:{secret.hex()}"


@dataclass
class Ports:
    prefect: int = 4200
    payer_sim: int = 8600
    ui: int = 8501


@dataclass
class Stack:
    """Starts and stops the embedded processes; ``env`` is what flows and tools need."""

    settings: Settings
    ports: Ports = field(default_factory=Ports)
    prefect_database_url: str | None = None
    with_ui: bool = True
    log_dir: Path | None = None
    sim_args: list[str] = field(default_factory=list)
    # "payer_sim" in the demo and the tests: claimdesk's clock follows the simulator's.
    clock_source: str = "system"
    worker_limit: int = 8
    # Where the Prefect API and the simulator listen, and the address their URLs carry:
    # loopback unless workers on other hosts must reach them (the app stays on loopback).
    bind_host: str = "127.0.0.1"
    _children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _started_at: str | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.bind_host}:{self.ports.prefect}/api"

    @property
    def payer_url(self) -> str:
        return f"http://{self.bind_host}:{self.ports.payer_sim}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.ui}"

    @property
    def prefect_home(self) -> Path:
        return self.settings.data_dir / "prefect"

    @property
    def prefect_auth(self) -> str:
        return prefect_auth_string(self.settings.data_dir)

    def env(self) -> dict[str, str]:
        """Environment for every child: claimdesk's settings plus Prefect's."""
        env = dict(os.environ)
        # A Prefect Cloud key would be sent instead of the auth string (and refused).
        env.pop("PREFECT_API_KEY", None)
        auth = self.prefect_auth
        env.update(
            {
                "CLAIMDESK_DATA_DIR": str(self.settings.data_dir),
                "CLAIMDESK_REPO_ROOT": str(REPO_ROOT),
                "CLAIMDESK_CLOCK_SOURCE": self.clock_source,
                "CLAIMDESK_PAYER_SIM_URL": f"{self.payer_url}/core",
                "CLAIMDESK_PREFECT_API_URL": self.api_url,
                "PREFECT_API_URL": self.api_url,
                "PREFECT_SERVER_API_AUTH_STRING": auth,
                "PREFECT_API_AUTH_STRING": auth,
                "PREFECT_HOME": str(self.prefect_home),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_API_HOST": self.bind_host,
                "PREFECT_SERVER_API_PORT": str(self.ports.prefect),
                "PREFECT_API_DATABASE_CONNECTION_URL": self._prefect_db_url(),
                "PREFECT_WORKER_QUERY_SECONDS": str(WORKER_POLL_SECONDS),
                "PREFECT_WORKER_PREFETCH_SECONDS": "5",
                # The embedded SQLite server can answer 503 under load; the client retries.
                "PREFECT_CLIENT_MAX_RETRIES": "8",
                "PREFECT_CLIENT_RETRY_EXTRA_CODES": "503",
                "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
                # Each flow run's heartbeat (the minimum, 30 s; default 180): a run whose
                # worker died stops beating and the zombie automation marks it Crashed.
                "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
                "PREFECT_UI_URL": f"http://{self.bind_host}:{self.ports.prefect}",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.settings.database_url is not None:
            env["CLAIMDESK_DATABASE_URL"] = self.settings.database_url.get_secret_value()
        return env

    def _prefect_db_url(self) -> str:
        if self.prefect_database_url:
            return self.prefect_database_url
        return f"sqlite+aiosqlite:///{self.prefect_home / 'prefect.db'}"

    # -- lifecycle ---------------------------------------------------------------------

    def check_ports(self) -> None:
        wanted = {"Prefect API": self.ports.prefect, "payer simulator": self.ports.payer_sim}
        if self.with_ui:
            wanted["app"] = self.ports.ui
        for name, port in wanted.items():
            with socket.socket() as probe:
                # As the servers bind: a port whose last server just stopped (its
                # connections in TIME_WAIT) is free; one someone listens on is not.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1" if name == "app" else self.bind_host, port))
                except OSError:
                    raise ConfigError(
                        f"port {port} for the {name} is in use; stop what runs there "
                        f"or choose another port (see `claimdesk up --help`)."
                    ) from None

    def start_prefect(self) -> None:
        self.spawn_prefect()
        self.wait_prefect()

    def spawn_prefect(self) -> None:
        """Start the server without waiting (it takes ~30 s on a fresh database)."""
        private_dir(self.prefect_home)
        self._spawn("prefect-server", [_prefect_bin(), "server", "start"])

    def wait_prefect(self) -> None:
        _wait_http(
            f"{self.api_url}/health",
            "Prefect server",
            timeout=120,
            alive=lambda: self._alive("prefect-server"),
        )

    def start_payer_sim(self) -> None:
        state = self.settings.data_dir / "payer_sim.sqlite"
        self._spawn(
            "payer-sim",
            [
                sys.executable,
                "-m",
                "claimdesk.payer_sim",
                "--host",
                self.bind_host,
                "--port",
                str(self.ports.payer_sim),
                "--state",
                str(state),
                *self.sim_args,
            ],
        )
        _wait_http(
            f"{self.payer_url}/admin/clock",
            "payer simulator",
            timeout=60,
            alive=lambda: self._alive("payer-sim"),
        )

    def deploy(self) -> None:
        """Register the work pool and every deployment in prefect.yaml."""
        env = self.env()
        _run(
            [_prefect_bin(), "work-pool", "create", WORK_POOL, "--type", "process", "--overwrite"],
            env,
        )
        _run([_prefect_bin(), "--no-prompt", "deploy", "--all"], env)

    def start_worker(self, name: str = "worker") -> None:
        """A process worker; a second one under another ``name`` pulls from the same pool."""
        self._spawn(
            name,
            [
                _prefect_bin(),
                "worker",
                "start",
                "--pool",
                WORK_POOL,
                "--type",
                "process",
                "--limit",
                str(self.worker_limit),
            ],
        )

    def start_ui(self) -> None:
        self._spawn(
            "app",
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(REPO_ROOT / "ui" / "server.py"),  # ui/app.py's pages + the session route
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(self.ports.ui),
                "--browser.gatherUsageStats",
                "false",
                "--client.toolbarMode",
                "minimal",
                "--client.showErrorDetails",  # a traceback may quote patient data
                "none",
            ],
        )
        _wait_http(
            f"{self.ui_url}/_stcore/health", "app", timeout=60, alive=lambda: self._alive("app")
        )

    def stop(self, timeout: float = 15) -> None:
        """Stop every child: SIGTERM to its guard, SIGKILL to all it had after ``timeout``."""
        trees = {name: _tree(child.pid) for name, child in self._children.items()}
        for name in reversed(list(self._children)):
            process = self._children[name]
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)  # the guard passes it on
        deadline = time.monotonic() + timeout
        for name, process in self._children.items():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_all(trees[name])
                process.wait()
        self._children.clear()
        self._forget()

    def kill(self, name: str) -> None:
        """SIGKILL one child and every process it started (fault tests: a dead host)."""
        process = self._children.pop(name)
        _kill_all(_tree(process.pid))
        process.wait()
        self._record()

    def failed_children(self) -> list[str]:
        return [n for n, p in self._children.items() if p.poll() is not None]

    # -- internals ---------------------------------------------------------------------

    def _alive(self, name: str) -> bool:
        process = self._children.get(name)
        return process is not None and process.poll() is None

    def _spawn(self, name: str, argv: list[str]) -> None:
        log_dir = private_dir(self.log_dir or self.settings.data_dir / "logs")
        # 0600 before it is opened (a child's output may name a patient in a traceback).
        log = open(private_file(log_dir / f"{name}.log"), "ab")  # noqa: SIM115 (as long as the child)
        self._children[name] = subprocess.Popen(
            [sys.executable, "-m", "claimdesk.stack_guard", *argv],
            env={**self.env(), PARENT_ENV: str(os.getpid())},
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            umask=CHILD_UMASK,
        )
        self._record()

    # -- the record in the data directory ----------------------------------------------

    @property
    def record_path(self) -> Path:
        return self.settings.data_dir / STACK_FILE

    def _record(self) -> None:
        """Write (again) what runs where: 0600, replaced atomically."""
        if self._started_at is None:
            self._started_at = datetime.now(UTC).isoformat(timespec="seconds")
        info = StackInfo(
            version=version("claimdesk"),
            started_at=self._started_at,
            data_dir=str(self.settings.data_dir),
            supervisor=ProcessRef(os.getpid(), os.getpgrp(), stack_procs.start_time(os.getpid())),
            ports=asdict(self.ports),
            prefect_api_url=self.api_url,
            payer_sim_url=f"{self.payer_url}/core",
            ui_url=self.ui_url if self.with_ui else None,
            children={
                name: ProcessRef(p.pid, p.pid, stack_procs.start_time(p.pid))
                for name, p in self._children.items()
            },
        )
        temporary = self.record_path.with_suffix(".json.tmp")
        temporary.unlink(missing_ok=True)  # created afresh, so 0600 whatever was there
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(info), out, indent=1)
        os.replace(temporary, self.record_path)

    def _forget(self) -> None:
        """Remove the record if it is this process's (another stack may have replaced it)."""
        info = read_stack_file(self.settings.data_dir)
        if info is not None and info.supervisor.pid == os.getpid():
            self.record_path.unlink(missing_ok=True)
        self._started_at = None


@dataclass(frozen=True)
class ProcessRef:
    """One process: pid, process group, start time (so a reused pid is not taken for it)."""

    pid: int
    pgid: int
    start: int | None

    def alive(self) -> bool:
        return stack_procs.is_alive(self.pid, self.start)


@dataclass(frozen=True)
class StackInfo:
    """What ``<data_dir>/stack.json`` says: where a stack runs and which processes it is.

    ``children`` are the guards (``claimdesk.stack_guard``), each leading its own process
    group; ``payer_sim_url`` is the simulator's URL as ``CLAIMDESK_PAYER_SIM_URL`` takes it.
    """

    version: str
    started_at: str
    data_dir: str
    supervisor: ProcessRef
    ports: dict[str, int]
    prefect_api_url: str
    payer_sim_url: str
    ui_url: str | None
    children: dict[str, ProcessRef]

    def live_children(self) -> dict[str, ProcessRef]:
        return {name: ref for name, ref in self.children.items() if ref.alive()}

    def alive(self) -> bool:
        return self.supervisor.alive() or bool(self.live_children())


def read_stack_file(data_dir: Path) -> StackInfo | None:
    """The recorded stack, live or not; None when there is no record or it is unreadable."""
    try:
        raw = json.loads((data_dir / STACK_FILE).read_text())
        return StackInfo(
            **{
                **raw,
                "supervisor": ProcessRef(**raw["supervisor"]),
                "children": {n: ProcessRef(**r) for n, r in raw["children"].items()},
            }
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None  # no stack, or a record this version cannot read: nothing to use


def running_stack(data_dir: Path) -> StackInfo | None:
    """The stack recorded in ``data_dir`` if any of its processes is still alive."""
    info = read_stack_file(data_dir)
    return info if info is not None and info.alive() else None


def settings_beside_stack(settings: Settings) -> Settings:
    """Settings for a command run beside ``claimdesk up``: its Prefect API and simulator.

    Only what is not configured: an explicit ``PREFECT_API_URL`` /
    ``CLAIMDESK_PREFECT_API_URL`` or ``CLAIMDESK_PAYER_SIM_URL`` wins. The stack's auth
    string comes too, for the stack's own API only.
    """
    info = running_stack(settings.data_dir)
    if info is None or "prefect-server" not in info.live_children():
        return settings
    update: dict[str, object] = {}
    if not settings.prefect_api_url:
        update["prefect_api_url"] = info.prefect_api_url
        if "payer_sim_url" not in settings.model_fields_set and "payer-sim" in info.children:
            update["payer_sim_url"] = info.payer_sim_url
    url = str(update.get("prefect_api_url") or settings.prefect_api_url)
    # The stack's own API takes the stack's string (it started its server with it), even
    # over a configured one; any other API gets only what was configured for it.
    if _same_api(url, info.prefect_api_url) and (settings.data_dir / PREFECT_AUTH_FILE).exists():
        with contextlib.suppress(ConfigError):  # unreadable: the server will say 401
            auth = prefect_auth_string(settings.data_dir)
            update["prefect_api_auth_string"] = SecretStr(auth)
    return settings.model_copy(update=update) if update else settings


def _same_api(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def _tree(guard: int) -> list[stack_procs.Proc]:
    """A guard, its process group and every process below it."""
    root = stack_procs.read_proc(guard)
    return stack_procs.tree(root, stack_procs.all_procs()) if root else []


def _kill_all(procs: list[stack_procs.Proc]) -> None:
    for proc in procs:
        if stack_procs.is_alive(proc.pid, proc.start):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signal.SIGKILL)


def prefect_database_for(app_database_url: str) -> str:
    """Prefect's database beside the app's on the same PostgreSQL server: ``<db>_prefect``."""
    url = make_url(app_database_url)
    if url.get_backend_name() != "postgresql":
        raise ConfigError("--postgres needs a postgresql:// URL")
    return url.set(
        drivername="postgresql+asyncpg", database=f"{url.database}_prefect"
    ).render_as_string(hide_password=False)


def _prefect_bin() -> str:
    return str(Path(sys.executable).with_name("prefect"))


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        argv,
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        umask=CHILD_UMASK,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-15:]
        raise ConfigError(
            f"`{' '.join(Path(a).name if i == 0 else a for i, a in enumerate(argv))}`"
            f" failed:\n" + "\n".join(tail)
        )


def _wait_http(url: str, what: str, *, timeout: float, alive: object) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if callable(alive) and not alive():
            raise ConfigError(f"the {what} exited while starting; see its log under the data dir")
        time.sleep(0.3)
    raise ConfigError(f"the {what} did not answer at {url} within {timeout:.0f} s")
