"""What every bench shares: timing, invariant checks, the RESULT line and the exit status.

A bench builds its input once, runs the baseline and claimdesk on it in the same
process (warm: imports and maps loaded before the clock starts), keeps the best of
N runs (or p50/p95 for latencies), checks what it timed, and ends with one
``RESULT`` line per target, the headline last::

    RESULT x12-835-read: ours 0.21 s, pyx12 full 7.9 s, ratio 37.6x (target >= 20x) OK

Exit status: 0 every target held, 1 a target was missed, 2 an invariant broke (the
figures then describe wrong output and are marked BROKEN).
"""

from __future__ import annotations

import gc
import importlib
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[1]
# The machine the README's figures come from; printed so a pasted line says where it ran.
MACHINE = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"


def best_of(repeat: int, work: Callable[[], T]) -> tuple[float, T]:
    """(fastest of ``repeat`` runs in seconds, the last run's result to check)."""
    best = float("inf")
    result: T
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def percentiles(samples_s: Sequence[float]) -> tuple[float, float]:
    """(p50, p95) of ``samples_s`` (seconds), in milliseconds."""
    if not samples_s:
        return float("nan"), float("nan")
    if len(samples_s) == 1:
        return samples_s[0] * 1000, samples_s[0] * 1000
    cuts = statistics.quantiles(samples_s, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000


def whole_process(
    argv: Sequence[str], repeat: int, *, stdout_path: Path | None = None
) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    """(best wall time, best CPU time, last run) of ``argv`` as a new process, repo root.

    The CPU time (the child's user + system) is steadier than the wall time on a
    shared machine; the targets are on the wall time, what a user waits. Output goes
    to ``stdout_path`` (a file, as a user's redirect would) or is dropped.
    """
    best, best_cpu = float("inf"), float("inf")
    done: subprocess.CompletedProcess[bytes] | None = None
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(stdout_path or os.devnull, "wb") as out:
            started = time.perf_counter()
            done = subprocess.run(list(argv), cwd=REPO, stdout=out, stderr=subprocess.PIPE)
            best = min(best, time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best_cpu = min(best_cpu, cpu)
    assert done is not None
    return best, best_cpu, done


def import_first(name: str, *modules: str) -> Any:
    """``name`` from the first of ``modules`` that has it: code moves between packages."""
    for module in modules:
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if found is not None:
            return found
    raise ImportError(f"none of {', '.join(modules)} defines {name}")


def venv_script(name: str) -> str:
    """A console script of this interpreter's environment (``claimdesk``, ``x12valid``)."""
    return str(Path(sys.executable).parent / name)


@dataclass(frozen=True)
class Result:
    key: str
    ours: str
    baseline: str
    ratio: str
    target: str
    ok: bool

    def line(self, broken: bool) -> str:
        status = "BROKEN" if broken else ("OK" if self.ok else "MISS")
        return (
            f"RESULT {self.key}: ours {self.ours}, {self.baseline}, ratio {self.ratio} "
            f"(target {self.target}) {status}"
        )


class Bench:
    """Collects a bench's invariant checks and results; ``finish()`` prints and rates them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.results: list[Result] = []
        self.broken: list[str] = []
        print(f"bench {name} on {MACHINE}, load average {_load()}", flush=True)

    def info(self, line: str) -> None:
        print(f"  {line}", flush=True)

    def check(self, holds: bool, what: str) -> bool:
        """An invariant of the timed output; a broken one fails the bench whatever the speed."""
        if not holds:
            self.broken.append(what)
            print(f"  INVARIANT BROKEN: {what}", flush=True)
        return holds

    def result(
        self,
        key: str,
        *,
        ours: str,
        baseline: str,
        ratio: float | None,
        ratio_of: str = "",
        target: str,
        ok: bool,
    ) -> None:
        """One target's line; ``ratio_of`` says which way the ratio runs (``pyx12/ours``)."""
        shown = "n/a" if ratio is None else f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.1f}x"
        if ratio is not None and ratio_of:
            shown += f" {ratio_of}"
        self.results.append(Result(key, ours, baseline, shown, target, ok))

    def finish(self) -> int:
        """Print the RESULT lines (headline last); 0 all held, 1 a target missed, 2 broken."""
        print(f"  load average at the end {_load()}")
        if self.broken:
            print(f"  {len(self.broken)} invariant(s) broken: {'; '.join(self.broken)}")
        for result in self.results:
            print(result.line(bool(self.broken)), flush=True)
        if self.broken:
            return 2
        return 0 if self.results and all(r.ok for r in self.results) else 1


def _load() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews wall times."""
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def seconds(value: float) -> str:
    """A duration for a RESULT line: about 3 significant figures, in ms or s."""
    if value < 0.1:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} s" if value < 100 else f"{value:.0f} s"
