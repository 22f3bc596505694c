"""Command-line benchmark: ``claimdesk`` commands as whole processes, as a user waits for them.

Run: ``uv run python -m bench.cli_start`` (``--quick``: best of 3, a 1,000-claim 835).
Each timed from the repository root as a new process, best of N, output to a file:

- ``claimdesk --help``, against ``python -c pass`` (the interpreter's own start);
- ``claimdesk codes carc 45`` (a look-up), against the same;
- ``claimdesk x12 parse --json`` of the generated 10,000-claim 835 (``bench/x12.py``),
  against pyx12's whole process on the same file (``python -m pyx12.scripts.x12valid``).

Checked: every process exits 0; the help lists the commands; the look-up names
CARC 45; the JSON holds every claim with the file's paid total; pyx12 says the file
is OK. Targets (issue 17): --help and the look-up < 0.5 s, the parse < 1 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench._common import Bench, seconds, venv_script, whole_process
from bench.x12 import expected_835, generate_835

TARGET_HELP_S = 0.5
TARGET_LOOKUP_S = 0.5
TARGET_PARSE_S = 1.0


def claims_in(document: Any) -> tuple[int, Decimal]:
    """(claims, paid total) of ``to_json``'s output: every 835 set's CLPs."""
    claims, paid = 0, Decimal(0)
    for interchange in document["interchanges"]:
        for group in interchange["groups"]:
            for transaction in group["transactions"]:
                for claim in transaction.get("claims", []):
                    claims += 1
                    paid += Decimal(str(claim["paid"]))
    return claims, paid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="best of 3, 1,000 claims")
    args = parser.parse_args()
    repeat, claims = (3, 1000) if args.quick else (5, 10_000)
    bench = Bench("cli_start")
    claimdesk, python = venv_script("claimdesk"), sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        folder = Path(tmp)
        out = folder / "out"
        source = folder / "bench.835"
        source.write_bytes(generate_835(claims))

        def run(label: str, argv: list[str], times: int = repeat) -> tuple[float, str]:
            whole_process(argv, 1, stdout_path=out)  # warm the file cache
            wall, cpu, done = whole_process(argv, times, stdout_path=out)
            bench.check(done.returncode == 0, f"{label} exited {done.returncode}")
            bench.info(f"{label:<34} {seconds(wall):>8} (CPU {seconds(cpu)}), best of {times}")
            return wall, out.read_text(errors="replace") + done.stderr.decode(errors="replace")

        bare, _ = run("python -c pass", [python, "-c", "pass"])
        helped, text = run("claimdesk --help", [claimdesk, "--help"])
        bench.check("x12" in text and "review" in text, "--help lists the commands")
        looked, text = run("claimdesk codes carc 45", [claimdesk, "codes", "carc", "45"])
        bench.check(text.startswith("CARC 45"), "the look-up names CARC 45")
        parsed, text = run(
            f"claimdesk x12 parse --json ({claims:,})", [claimdesk, "x12", "parse", "--json",
                                                         str(source)]
        )  # fmt: skip
        try:
            found = claims_in(json.loads(out.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            found = (0, Decimal(0))
            bench.info(f"the JSON did not read as expected: {type(exc).__name__}: {exc}")
        bench.check(found == expected_835(claims), f"the JSON holds {found}, the file has "
                    f"{expected_835(claims)} (claims, paid)")  # fmt: skip
        pyx12, text = run(
            f"pyx12 x12valid ({claims:,})",
            [python, "-m", "pyx12.scripts.x12valid", "-q", str(source)],
            min(repeat, 3),
        )
        bench.check(f"{source}: OK" in text, "pyx12 says the 835 is OK")

    bench.result(
        "cli-help",
        ours=seconds(helped),
        baseline=f"python -c pass {seconds(bare)}",
        ratio=helped / bare,
        ratio_of="ours/python",
        target=f"< {TARGET_HELP_S:g} s",
        ok=helped < TARGET_HELP_S,
    )
    bench.result(
        "cli-codes-lookup",
        ours=seconds(looked),
        baseline=f"python -c pass {seconds(bare)}",
        ratio=looked / bare,
        ratio_of="ours/python",
        target=f"< {TARGET_LOOKUP_S:g} s",
        ok=looked < TARGET_LOOKUP_S,
    )
    bench.result(
        f"cli-x12-parse-json-{claims}",
        ours=seconds(parsed),
        baseline=f"pyx12 whole process {seconds(pyx12)}",
        ratio=pyx12 / parsed,
        ratio_of="pyx12/ours",
        target=f"< {TARGET_PARSE_S:g} s",
        ok=parsed < TARGET_PARSE_S,
    )
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
