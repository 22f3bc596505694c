"""The embedded stack: Prefect server, process worker, payer simulator and the app.

``claimdesk up`` and the end-to-end tests start the same real processes through
``Stack``; nothing here is a stand-in. Every child runs in its own process group
so stopping the stack stops everything it started, and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from claimdesk.errors import ConfigError
from claimdesk.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
WORK_POOL = "claimdesk"
# The worker polls for scheduled runs this often (seconds): resumed runs restart promptly.
WORKER_POLL_SECONDS = 2


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
    _children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.prefect}/api"

    @property
    def payer_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.payer_sim}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.ui}"

    @property
    def prefect_home(self) -> Path:
        return self.settings.data_dir / "prefect"

    def env(self) -> dict[str, str]:
        """Environment for every child: claimdesk's settings plus Prefect's."""
        env = dict(os.environ)
        env.update(
            {
                "CLAIMDESK_DATA_DIR": str(self.settings.data_dir),
                "CLAIMDESK_REPO_ROOT": str(REPO_ROOT),
                "CLAIMDESK_CLOCK_SOURCE": self.clock_source,
                "CLAIMDESK_PAYER_SIM_URL": f"{self.payer_url}/core",
                "CLAIMDESK_PREFECT_API_URL": self.api_url,
                "PREFECT_API_URL": self.api_url,
                "PREFECT_HOME": str(self.prefect_home),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_API_HOST": "127.0.0.1",
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
                "PREFECT_UI_URL": f"http://127.0.0.1:{self.ports.prefect}",
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
                try:
                    probe.bind(("127.0.0.1", port))
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
        self.prefect_home.mkdir(parents=True, exist_ok=True)
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
                "127.0.0.1",
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
                str(REPO_ROOT / "ui" / "app.py"),
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
            ],
        )
        _wait_http(
            f"{self.ui_url}/_stcore/health", "app", timeout=60, alive=lambda: self._alive("app")
        )

    def stop(self, timeout: float = 15) -> None:
        """Stop every child: SIGTERM to its process group, SIGKILL after ``timeout``."""
        for name in reversed(list(self._children)):
            process = self._children[name]
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self._children.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._children.clear()

    def kill(self, name: str) -> None:
        """SIGKILL one child's whole process group (fault tests)."""
        process = self._children.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def failed_children(self) -> list[str]:
        return [n for n, p in self._children.items() if p.poll() is not None]

    # -- internals ---------------------------------------------------------------------

    def _alive(self, name: str) -> bool:
        process = self._children.get(name)
        return process is not None and process.poll() is None

    def _spawn(self, name: str, argv: list[str]) -> None:
        log_dir = self.log_dir or self.settings.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 (lives as long as the child)
        self._children[name] = subprocess.Popen(
            argv,
            env=self.env(),
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


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
        argv, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False
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
