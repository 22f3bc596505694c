"""The command line starts without its heavy libraries: what a command needs loads when it runs.

Checked by what a fresh process has imported, never by a clock (that would flake on a busy
machine); bench timings are in the report of issue #17.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI_DIR = Path(__file__).resolve().parents[2] / "claimdesk" / "cli"
# Libraries that take tenths of a second to import, or start servers' worth of code.
HEAVY = {
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "fpdf",
    "prefect",
    "streamlit",
    "pyx12",
    "boto3",
    "botocore",
    "httpx",
    "fastapi",
    "rich",
    "psycopg",
}
# Not needed to print help; typer imports it to coerce option values when it parses any.
HELP_HEAVY = HEAVY | {"pydantic"}

PROLOGUE = "import sys\n_HEAVY = sys.argv[1]\n"
REPORT = """
import json, sys
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(_HEAVY)))
print(json.dumps(loaded))
"""


def _loaded_after(code: str, heavy: set[str], *argv: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; the heavy top-level packages it left imported."""
    script = PROLOGUE + code + REPORT
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(sorted(heavy)), *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def _run_cli(*args: str) -> str:
    # The console script's own entry point, in-process, then report what it imported.
    return (
        "import sys\n"
        "from claimdesk.cli.main import app\n"
        f"sys.argv = ['claimdesk', *{list(args)!r}]\n"
        "try:\n"
        "    app()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
    )


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    assert _loaded_after("import claimdesk.cli.main\n", HELP_HEAVY) == []


def test_claimdesk_help_loads_no_heavy_library() -> None:
    assert _loaded_after(_run_cli("--help"), HELP_HEAVY) == []


def test_a_group_help_loads_no_database_or_server_library() -> None:
    # pydantic comes with typer here: parsing the root's own options before the group's
    # builds typer's coercion adapters (--help alone short-cuts that).
    assert _loaded_after(_run_cli("claims", "--help"), HEAVY) == []


def test_a_code_look_up_loads_no_database_or_server_library() -> None:
    assert _loaded_after(_run_cli("codes", "carc", "45"), HEAVY) == []


@pytest.mark.parametrize(
    "module", sorted(p.stem for p in CLI_DIR.glob("*_cmd.py")), ids=lambda m: m
)
def test_each_command_module_imports_only_light_modules_at_start(module: str) -> None:
    # `claimdesk <group> --help` imports the group's module: it must stay as light.
    assert _loaded_after(f"import claimdesk.cli.{module}\n", HELP_HEAVY) == []


def test_the_help_printed_lists_every_command_and_the_exit_codes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "claimdesk.cli.main", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    from claimdesk.cli.main import COMMANDS

    listed = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ")]
    assert [name for name in listed if name in COMMANDS] == list(COMMANDS)
    assert "\x1b[" not in done.stdout  # plain help: no Rich renderer was loaded
    epilog = done.stdout[done.stdout.index("Exit codes:") :]
    for code, words in (("0", "done"), ("1", "refused"), ("2", "bad input"), ("130", "interr")):
        assert any(line.split()[:1] == [code] and words in line for line in epilog.splitlines())
