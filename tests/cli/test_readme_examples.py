"""The README's command-line examples work as written on the demo.

The block between ``<!-- cli-examples`` and ``<!-- /cli-examples -->`` runs as one bash
script (``set -e``, traced) against the demo office of tests/cli/conftest.py: the demo's
60 claims after their first eligibility run, and the specialist ``sam``. ``uv run`` is the
only word changed: it runs the environment's own ``claimdesk`` (no sync in a test).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.demo import CLAIMDESK, DemoCli

README = Path(__file__).resolve().parents[2] / "README.md"
pytestmark = pytest.mark.slow


def example_block() -> str:
    text = README.read_text()
    found = re.search(
        r"<!-- cli-examples.*?-->\s*```sh\n(.*?)```\s*<!-- /cli-examples -->", text, re.S
    )
    assert found, "README.md has no <!-- cli-examples --> block"
    return found.group(1)


def test_the_block_is_the_readme_s_examples() -> None:
    block = example_block()
    lines = [line for line in block.splitlines() if not line.lstrip().startswith("#")]
    commands = [line for line in lines if "claimdesk " in line]
    assert len(commands) >= 8
    assert all("uv run claimdesk " in line for line in commands)


def test_the_readme_examples_run_on_the_demo(demo_cli: DemoCli) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    demo_cli.sign_in("sam")  # the block's first comment: signed in as sam
    prelude = (
        "set -e -x\n"
        f'uv() {{ [ "$1" = run ] && shift; [ "$1" = claimdesk ] && shift; "{CLAIMDESK}" "$@"; }}\n'
    )
    done = subprocess.run(
        [bash, "-c", prelude + example_block()],
        capture_output=True,
        text=True,
        env=demo_cli.env,
        timeout=600,
    )
    assert done.returncode == 0, f"{done.stderr[-3000:]}\n--- stdout ---\n{done.stdout[-2000:]}"
    assert "Traceback" not in done.stdout + done.stderr
    # The resolve example found a task and recorded its decision.
    assert re.search(r"task \d+: decision \d+ — decision recorded", done.stdout), done.stdout
