"""`claimdesk x12 parse --json` streams the document `to_json` describes (docs/x12-json.md).

Each transaction is serialised by pydantic as it is written; the result must be the same
JSON, value for value, as ``to_json`` for every payer sample and a generated 835.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from claimdesk.cli.x12_cmd import write_json
from claimdesk.x12 import X12Error, read_interchanges, to_json
from tests.cli.demo import CLAIMDESK

SAMPLES = Path("/work/shared/x12-samples")


def _readable_samples() -> list[Path]:
    found = []
    for path in sorted(p for p in SAMPLES.glob("*/*") if p.is_file()):
        try:
            read_interchanges(path.read_bytes())
        except X12Error:
            continue
        found.append(path)
    return found


@pytest.mark.parametrize("path", _readable_samples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_streamed_json_equals_to_json(path: Path) -> None:
    interchanges = read_interchanges(path.read_bytes())
    out = io.StringIO()
    write_json(interchanges, out)
    assert json.loads(out.getvalue()) == to_json(interchanges)


def test_every_kind_of_set_was_compared() -> None:
    kinds = {path.parent.name for path in _readable_samples()}
    # 837P covers the 837 reshaping (no 837I sample reads clean); the rest each kind of set.
    assert {"271", "277", "277CA", "835", "837P", "999"} <= kinds


def test_a_generated_835_through_the_command(tmp_path: Path) -> None:
    from bench.x12 import generate_835

    data = generate_835(2_500)
    path = tmp_path / "835.x12"
    path.write_bytes(data)
    done = subprocess.run(
        [str(CLAIMDESK), "x12", "parse", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1  # compact: one line, not a 30 MB indented tree
    assert json.loads(done.stdout) == to_json(read_interchanges(data))


def test_a_terminal_still_gets_it_indented() -> None:
    # print_json's path when stdout is a TTY; the same document.
    sample = SAMPLES / "835" / "moov__sample1.txt"
    code = (
        "import sys, io, json\n"
        "sys.stdout.isatty = lambda: True\n"
        "from claimdesk.cli.main import app\n"
        f"sys.argv = ['claimdesk', 'x12', 'parse', '--json', {str(sample)!r}]\n"
        "app()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '\n  "interchanges": [' in "\n" + done.stdout
    assert json.loads(done.stdout) == to_json(read_interchanges(sample.read_bytes()))
