"""`claimdesk down`: stop a stack `claimdesk up` left running, recorded or not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from claimdesk.cli._context import load_settings
from claimdesk.cli._utilities import exit_with_error

if TYPE_CHECKING:
    from claimdesk.stack_procs import Proc


def down(
    prefect_port: int = typer.Option(
        4200, help="Prefect port of a stack without a record (an older claimdesk's)."
    ),
    sim_port: int = typer.Option(8600, help="Payer simulator port of a stack without a record."),
    ui_port: int = typer.Option(8501, help="App port of a stack without a record."),
    timeout: float = typer.Option(20, help="Seconds from SIGTERM to SIGKILL."),
) -> None:
    """Stop this data directory's stack: the one in its stack.json and any leftovers.

    Leftovers are this user's processes that run the stack's programs (Prefect server,
    the worker of pool claimdesk, the payer simulator, the app) for this data directory
    (CLAIMDESK_DATA_DIR) or on the given ports. Exit 0 when stopped or nothing ran.
    """
    from claimdesk.stack import STACK_FILE, read_stack_file
    from claimdesk.stack_procs import is_alive, leftovers, read_proc, stop

    data_dir = load_settings().data_dir
    stopped: list[Proc] = []
    info = read_stack_file(data_dir)
    if info is not None:
        supervisor = read_proc(info.supervisor.pid) if info.supervisor.alive() else None
        if supervisor is not None:
            # `claimdesk up` still runs: it stops its children itself, as on Ctrl-C.
            stopped += stop([supervisor], timeout=timeout, groups=False)
        else:
            guards = [read_proc(ref.pid) for ref in info.live_children().values()]
            stopped += stop([g for g in guards if g is not None], timeout=timeout)
        (data_dir / STACK_FILE).unlink(missing_ok=True)
    ports = {"prefect-server": prefect_port, "payer-sim": sim_port, "app": ui_port}
    if found := leftovers(data_dir, ports):
        stopped += stop([proc for _, proc in found], timeout=timeout)
    if not stopped:
        typer.echo("nothing to stop")
        return
    typer.echo(f"stopped {len(stopped)} process(es):")
    for proc in sorted(stopped, key=lambda p: p.pid):
        typer.echo(f"  {proc.pid:>7}  {proc.command}")
    if survivors := [p.pid for p in stopped if is_alive(p.pid, p.start)]:
        exit_with_error(f"still running after SIGKILL: pids {', '.join(map(str, survivors))}")
