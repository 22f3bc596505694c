"""Start the real simulator process for tests: ``start_payer_sim(tmp_path, seed, config)``.

Returns ``(base_url, process)``; the caller stops it with ``stop_payer_sim(process)``.
``base_url`` has no path: CORE is at ``base_url + "/core"``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

_START_TIMEOUT_S = 60.0  # a cold import of FastAPI and pydantic on a busy, shared 2-core box


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_payer_sim(
    tmp_path: Path,
    seed: int = 0,
    config: dict[str, Any] | None = None,
    *,
    state: Path | None = None,
    port: int | None = None,
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start ``python -m claimdesk.payer_sim`` on a free loopback port; wait until it answers."""
    port = port or free_port()
    config_path = tmp_path / f"payer-sim-{port}.json"
    config_path.write_text(json.dumps(config or {}, default=str))
    state = state or tmp_path / "payer-sim.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "claimdesk.payer_sim", "--host", "127.0.0.1",
         "--port", str(port), "--seed", str(seed), "--config", str(config_path),
         "--state", str(state)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"payer-sim exited with {process.returncode}: {error[-2000:]}")
        try:
            httpx.get(f"{url}/admin/clock", timeout=1.0)
            return url, process
        except httpx.TransportError:
            time.sleep(0.05)
    stop_payer_sim(process)
    raise RuntimeError(f"payer-sim did not answer on {url} within {_START_TIMEOUT_S} s")


def stop_payer_sim(process: subprocess.Popen[bytes]) -> None:
    """Terminate the process (and wait for it)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stderr:
        process.stderr.close()
