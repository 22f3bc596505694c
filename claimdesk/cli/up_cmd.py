"""`claimdesk up`: the whole embedded stack on one machine, with demo data on request."""

from __future__ import annotations

import contextlib
import signal
import time
from types import FrameType
from typing import TYPE_CHECKING

import typer

from claimdesk.cli._context import load_settings
from claimdesk.cli._utilities import exit_with_error
from claimdesk.errors import ClaimdeskError, ConfigError

if TYPE_CHECKING:
    from claimdesk.stack import Stack

# In the demo a simulated day passes every minute, so payments and denials arrive within minutes.
DEMO_SECONDS_PER_DAY = 60


def _advance_sim_clock(stack: Stack) -> None:
    import httpx

    # A simulator that does not answer shows up in failed_children(); nothing to do here.
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(f"{stack.payer_url}/admin/clock/advance", json={"days": 1}, timeout=5)


def refuse_leftovers(stack: Stack) -> None:
    """A stack already running for this data directory or on these ports is named as such."""
    from claimdesk.stack import running_stack
    from claimdesk.stack_procs import leftovers

    info = running_stack(stack.settings.data_dir)
    if info is not None and info.supervisor.alive():
        raise ConfigError(
            f"`claimdesk up` is already running for {info.data_dir} (pid {info.supervisor.pid});"
            " stop it with Ctrl-C in its terminal or with `claimdesk down`."
        )
    pids = [ref.pid for ref in info.live_children().values()] if info else []
    ports = {"prefect-server": stack.ports.prefect, "payer-sim": stack.ports.payer_sim}
    if stack.with_ui:
        ports["app"] = stack.ports.ui
    pids += [proc.pid for _, proc in leftovers(stack.settings.data_dir, ports)]
    if pids:
        shown = ", ".join(str(pid) for pid in sorted(set(pids)))
        raise ConfigError(
            f"a claimdesk stack from an earlier run is still running (pids {shown}); "
            "stop it with `claimdesk down`."
        )


def _stop_stack(stack: Stack) -> None:
    # A second Ctrl-C, SIGTERM or SIGHUP must not cut the shutdown short.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    stack.stop()


def _say(line: str) -> None:
    # After SIGHUP the terminal may be gone: the shutdown must go on without it.
    with contextlib.suppress(OSError):
        typer.echo(line)


def cli_sign_in_lines(demo: bool) -> list[str]:
    """How to sign in to the command line, for the banner (commands acting for a person)."""
    first = "sam" if demo else "NAME"
    lines = [
        f"Sign in to the command line with `claimdesk login {first}` (password, and a code "
        "for admins and managers); `claimdesk login --status` says who, `--logout` ends it."
    ]
    if not demo:
        lines.append(
            "No admin yet? `claimdesk users bootstrap-admin NAME`; then, signed in as the "
            "admin, `claimdesk users add NAME --role specialist`."
        )
    return lines


def up(
    demo: bool = typer.Option(False, "--demo", help="Seed demo data and users; fast schedules."),
    postgres: str | None = typer.Option(
        None, "--postgres", help="PostgreSQL URL for the app; Prefect uses <db>_prefect beside it."
    ),
    no_ui: bool = typer.Option(False, "--no-ui", help="Leave the app out (headless servers)."),
    prefect_port: int = typer.Option(4200, help="Prefect API and UI port."),
    sim_port: int = typer.Option(8600, help="Payer simulator port."),
    ui_port: int = typer.Option(8501, help="App port."),
) -> None:
    """Start Prefect, a worker, the payer simulator and the app; Ctrl-C stops them all."""
    from claimdesk.stack import PREFECT_AUTH_FILE, Ports, Stack, prefect_database_for

    settings = load_settings()
    prefect_db = None
    if postgres:
        from pydantic import SecretStr

        settings = settings.model_copy(update={"database_url": SecretStr(postgres)})
        try:
            prefect_db = prefect_database_for(postgres)
        except ClaimdeskError as exc:
            exit_with_error(exc)
    stack = Stack(settings, Ports(prefect_port, sim_port, ui_port), prefect_db, not no_ui)
    if demo:
        stack.clock_source = "payer_sim"

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # SIGTERM and SIGHUP (the terminal closed) stop like Ctrl-C, during start-up too.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    try:
        refuse_leftovers(stack)
        stack.check_ports()
        from claimdesk.cli._bootstrap import bootstrap_stack

        bootstrap_stack(stack, demo=demo, echo=typer.echo)
        from claimdesk.cli._acting import audit_operator

        audit_operator("stack.started", settings=settings, demo=demo, ui=not no_ui)
    except ClaimdeskError as exc:
        _stop_stack(stack)
        exit_with_error(exc)
    except KeyboardInterrupt:
        _stop_stack(stack)
        raise typer.Exit(130) from None
    except Exception as exc:  # anything unforeseen: stop cleanly, no traceback at the user
        _stop_stack(stack)
        exit_with_error(f"claimdesk could not start: {type(exc).__name__}: {exc}")

    typer.echo("")
    if not no_ui:
        typer.echo(f"  app             {stack.ui_url}")
    typer.echo(f"  Prefect UI      http://127.0.0.1:{prefect_port}")
    typer.echo(  # the secret itself is never printed
        "                  (it asks for `claimdesk:` followed by what "
        f"{settings.data_dir / PREFECT_AUTH_FILE} holds)"
    )
    typer.echo(f"  payer simulator {stack.payer_url}  (admin API under /admin/)")
    typer.echo(f"  data            {settings.data_dir}")
    typer.echo(f"  stack record    {stack.record_path}  (`claimdesk down` stops what it lists)")
    users = "sam, lee or max (passwords printed on the first start)" if demo else "a user"
    if not no_ui:
        typer.echo(f"Sign in to the app as {users}.")
    for line in cli_sign_in_lines(demo):
        typer.echo(line)
    typer.echo("Ctrl-C stops everything.")

    next_tick = time.monotonic() + DEMO_SECONDS_PER_DAY
    try:
        while True:
            time.sleep(1)
            if demo and time.monotonic() >= next_tick:
                next_tick += DEMO_SECONDS_PER_DAY
                _advance_sim_clock(stack)
            if failed := stack.failed_children():
                _say(f"stopped unexpectedly: {', '.join(failed)} (see logs); stopping.")
                break
    except KeyboardInterrupt:
        _say("stopping…")
    finally:
        _stop_stack(stack)
        _say("stopped.")
