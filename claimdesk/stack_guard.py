"""Run one process of the embedded stack and take its whole process tree down with it.

``python -m claimdesk.stack_guard PROGRAM [ARGS...]``: ``Stack`` starts every child
through this guard, in a session of its own. The guard

* becomes a child subreaper, so every process the program starts (even in a session of
  its own, as Prefect's worker starts each flow run) stays below it;
* asks for a signal when its parent dies (``PR_SET_PDEATHSIG``) and also checks
  ``getppid()`` every second, so a ``claimdesk up`` killed with SIGKILL still stops
  everything: the program gets SIGTERM, and SIGKILL after a grace period;
* passes the first SIGTERM, SIGINT or SIGHUP it gets on to the program (signal the guard,
  not its process group, or the program gets it twice) and SIGKILLs the program and
  everything below it if they are not gone after a grace period;
* exits with the program's status once the program and everything below it are gone.

Only the standard library: it starts before every stack process, so it must start fast.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# The supervisor's pid (set by ``Stack``): the guard's own getppid() may already be
# another process if the supervisor died before the guard started.
PARENT_ENV = "CLAIMDESK_STACK_PARENT"
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
# Seconds between SIGTERM and SIGKILL; the supervisor waits longer before it escalates.
GRACE_SECONDS = 10.0
# The parent-death signal; the guard only takes it as "look at getppid() now".
PDEATH_SIGNAL = signal.SIGUSR1
_WATCHED = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, PDEATH_SIGNAL}


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def _child_preexec() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _WATCHED)
    # The program itself dies with the guard too, should the guard be killed alone.
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def descendants(root: int) -> list[int]:
    """Every live process below ``root``, read from /proc (parents before children)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone while we looked
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


class Guard:
    def __init__(self, argv: list[str], parent: int) -> None:
        self.parent = parent
        self.status: int | None = None
        # preexec_fn is safe here: the guard has a single thread.
        self.child = subprocess.Popen(argv, preexec_fn=_child_preexec)
        self.kill_at: float | None = None

    def run(self) -> int:
        while self.status is None:
            self._reap()
            if self.status is not None:
                break
            if os.getppid() != self.parent and self.kill_at is None:
                self._stop(signal.SIGTERM)  # the supervisor is gone: nobody else will stop us
            if self.kill_at is not None and time.monotonic() >= self.kill_at:
                _signal_all([self.child.pid, *descendants(os.getpid())], signal.SIGKILL)
            info = signal.sigtimedwait(_WATCHED, 1.0)
            if info is None or info.si_signo in (signal.SIGCHLD, PDEATH_SIGNAL):
                continue
            if self.kill_at is None:  # a second stop signal changes nothing
                self._stop(info.si_signo)
        self._sweep()
        return self.status

    def _stop(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.child.pid, signum)
        self.kill_at = time.monotonic() + GRACE_SECONDS

    def _reap(self) -> None:
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.child.pid:
                self.status = os.waitstatus_to_exitcode(wait_status)
                self.child.returncode = self.status
                if self.status < 0:  # killed by a signal: report it as a shell would
                    self.status = 128 - self.status

    def _sweep(self) -> None:
        """The program is gone; stop whatever it left below the guard (orphans land here)."""
        left = descendants(os.getpid())
        if not left:
            return
        _signal_all(left, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        while (left := descendants(os.getpid())) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.2)
        _signal_all(left, signal.SIGKILL)
        while descendants(os.getpid()):
            self._reap()
            time.sleep(0.05)
        self._reap()


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m claimdesk.stack_guard PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    # Blocked before anything can send them: a blocked signal stays pending until
    # sigtimedwait() picks it up (the program gets them unblocked, see _child_preexec).
    signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
    parent = int(os.environ.pop(PARENT_ENV, "0") or 0) or os.getppid()
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, PDEATH_SIGNAL)
    return Guard(argv, parent).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
