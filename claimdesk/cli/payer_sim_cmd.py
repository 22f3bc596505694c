"""`claimdesk payer-sim`: run the payer simulator (CAQH CORE on loopback)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from claimdesk.cli._utilities import exit_with_error
from claimdesk.errors import ClaimdeskError

app = typer.Typer(help="Run the payer simulator (claimdesk/payer_sim/README.md).")


@app.callback(invoke_without_command=True)
def payer_sim(
    host: Annotated[str, typer.Option(help="Interface to bind; loopback by default.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port.")] = 8600,
    seed: Annotated[int | None, typer.Option(help="RNG seed (faults, PLBs, ids).")] = None,
    config: Annotated[Path | None, typer.Option(help="JSON or YAML config file.")] = None,
    state: Annotated[Path | None, typer.Option(help="SQLite state file (survives restarts).")] = (
        None
    ),
) -> None:
    """Serve POST /core, /appeals and /admin until interrupted; prints its URL when ready."""
    from claimdesk.payer_sim.app_main import serve

    try:
        serve(host, port, seed, config, state)
    except ClaimdeskError as exc:
        exit_with_error(exc)
