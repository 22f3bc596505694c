"""`claimdesk up`: the whole embedded stack on one machine, with demo data on request."""

from __future__ import annotations

import contextlib
import signal
import time
from types import FrameType

import httpx
import typer

from claimdesk.cli._context import load_settings
from claimdesk.cli._utilities import exit_with_error
from claimdesk.errors import ClaimdeskError
from claimdesk.stack import Ports, Stack, prefect_database_for

# In the demo a simulated day passes every minute, so payments and denials arrive within minutes.
DEMO_SECONDS_PER_DAY = 60


def _advance_sim_clock(stack: Stack) -> None:
    # A simulator that does not answer shows up in failed_children(); nothing to do here.
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(f"{stack.payer_url}/admin/clock/advance", json={"days": 1}, timeout=5)


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

    # SIGTERM stops like Ctrl-C, during start-up too (else a half-started stack is orphaned).
    signal.signal(signal.SIGTERM, _stop)
    try:
        stack.check_ports()
        from claimdesk.cli._bootstrap import bootstrap_stack

        bootstrap_stack(stack, demo=demo, echo=typer.echo)
    except ClaimdeskError as exc:
        stack.stop()
        exit_with_error(exc)
    except KeyboardInterrupt:
        stack.stop()
        raise typer.Exit(130) from None
    except Exception as exc:  # anything unforeseen: stop cleanly, no traceback at the user
        stack.stop()
        exit_with_error(f"claimdesk could not start: {type(exc).__name__}: {exc}")

    typer.echo("")
    if not no_ui:
        typer.echo(f"  app             {stack.ui_url}")
    typer.echo(f"  Prefect UI      http://127.0.0.1:{prefect_port}")
    typer.echo(f"  payer simulator {stack.payer_url}  (admin API under /admin/)")
    typer.echo(f"  data            {settings.data_dir}")
    typer.echo("Ctrl-C stops everything.")

    next_tick = time.monotonic() + DEMO_SECONDS_PER_DAY
    try:
        while True:
            time.sleep(1)
            if demo and time.monotonic() >= next_tick:
                next_tick += DEMO_SECONDS_PER_DAY
                _advance_sim_clock(stack)
            if failed := stack.failed_children():
                typer.echo(f"stopped unexpectedly: {', '.join(failed)} (see logs); stopping.")
                break
    except KeyboardInterrupt:
        typer.echo("stopping…")
    finally:
        # A second Ctrl-C or SIGTERM must not cut the shutdown short and orphan children.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
