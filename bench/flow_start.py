"""Flow start benchmark: what a flow-run process pays before its first task, ours vs bare Prefect.

Run: ``uv run python -m bench.flow_start`` (``--quick``: best of 3; ``--all``: every
deployment's module, not only ``flows/appeal.py``). A process worker starts each flow
run as a new Python process, which imports the deployment's entry-point module
before the engine can run the first task; Prefect's own start-up is the same for
any flow, so the difference is the module. Timed, each as a whole process from
the repository root, best of N:

- **ours**: ``python -c "import flows.appeal"`` (one ``appeal`` run per decided denial);
- **baseline**: ``python -c`` defining a bare ``@flow`` (``from prefect import flow``).

Checked: each process exits 0 and the module defines its flow. ``-X importtime``
names the packages that cost the most beyond Prefect. Target: ours <= 1.5x bare.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench._common import REPO, Bench, seconds, whole_process

TARGET_RATIO = 1.5
BARE = "from prefect import flow\n@flow\ndef bare() -> None:\n    pass\nassert bare.name == 'bare'"


def entry_points() -> dict[str, tuple[str, str]]:
    """Deployment name -> (module, flow function) from prefect.yaml."""
    text = (REPO / "prefect.yaml").read_text()
    found = re.findall(r"- name: ([\w-]+)\s+entrypoint: flows/(\w+)\.py:(\w+)", text)
    return {name: (f"flows.{module}", function) for name, module, function in found}


def importing(module: str, function: str) -> str:
    return f"import {module} as m\nassert hasattr(m.{function}, 'fn'), 'not a flow'"


def heaviest(module: str, function: str, top: int = 6) -> list[tuple[str, float]]:
    """Top-level packages by their own import time (seconds), Prefect's excluded."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", importing(module, function)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    own: Counter[str] = Counter()  # microseconds
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[0].strip().startswith("import time:"):
            continue
        try:
            self_us = int(parts[0].split(":")[1])
        except ValueError:
            continue  # the header line
        package = parts[2].strip().split(".")[0]
        own[package] += int(self_us)
    prefect = set(_packages_of_bare())
    return [(p, us / 1e6) for p, us in own.most_common() if p not in prefect][:top]


def _packages_of_bare() -> list[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", BARE], cwd=REPO, capture_output=True, text=True
    )
    return [
        parts[2].strip().split(".")[0]
        for parts in (line.split("|") for line in done.stderr.splitlines())
        if len(parts) == 3
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="best of 3")
    parser.add_argument("--all", action="store_true", help="every deployment's module")
    args = parser.parse_args()
    repeat = 3 if args.quick else 5
    bench = Bench("flow_start")
    points = entry_points()
    bench.check("appeal" in points, "prefect.yaml has the appeal deployment")
    python = sys.executable
    whole_process([python, "-c", BARE], 1)  # warm the file cache for both
    bare, bare_cpu, done = whole_process([python, "-c", BARE], repeat)
    bench.check(done.returncode == 0, f"bare flow process: {done.stderr.decode()[-300:]}")
    bench.info(
        f"bare Prefect flow    {seconds(bare):>8} (CPU {seconds(bare_cpu)}; best of {repeat})"
    )
    timed: dict[str, float] = {}
    for name in sorted(points) if args.all else ["appeal"]:
        module, function = points[name]
        argv = [python, "-c", importing(module, function)]
        whole_process(argv, 1)
        timed[name], cpu, done = whole_process(argv, repeat)
        bench.check(done.returncode == 0, f"{module}: {done.stderr.decode()[-300:]}")
        bench.info(
            f"{module:<20} {seconds(timed[name]):>8} (CPU {seconds(cpu)}; "
            f"{timed[name] / bare:.1f}x bare, CPU {cpu / bare_cpu:.1f}x)"
        )
    appeal_module, appeal_function = points["appeal"]
    costs = ", ".join(f"{p} {s * 1000:.0f} ms" for p, s in heaviest(appeal_module, appeal_function))
    bench.info(f"heaviest imports of {appeal_module} beyond Prefect (own time): {costs}")
    ours = timed["appeal"]
    bench.result(
        "flow-start-appeal",
        ours=f"{seconds(ours)} (import {Path(appeal_module.replace('.', '/'))}.py)",
        baseline=f"bare Prefect flow {seconds(bare)}",
        ratio=ours / bare,
        ratio_of="ours/bare",
        target=f"<= {TARGET_RATIO:g}x",
        ok=ours / bare <= TARGET_RATIO,
    )
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
