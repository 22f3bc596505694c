"""Run `claimdesk` as its own process against a test database (see conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CLAIMDESK = Path(sys.executable).with_name("claimdesk")  # the console script uv installs


@dataclass(frozen=True)
class DemoCli:
    data_dir: Path
    env: dict[str, str]

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        """`claimdesk ARGS` as its own process against this demo's database."""
        return subprocess.run(
            [str(CLAIMDESK), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )

    def sign_in(self, username: str) -> None:
        """Sign ``username`` in at this demo's command line (tests.conftest.sign_in_cli)."""
        from claimdesk.settings import Settings
        from tests.conftest import sign_in_cli

        sign_in_cli(Settings(_env_file=None, data_dir=self.data_dir), username)


def cli_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment with claimdesk pointed at ``data_dir`` (SQLite) and no stack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAIMDESK_", "PREFECT_"))}
    env.update(CLAIMDESK_DATA_DIR=str(data_dir), COLUMNS="100")
    return env
