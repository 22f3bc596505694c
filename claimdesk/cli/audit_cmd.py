"""`claimdesk audit`: check the audit trail's hash chain."""

from __future__ import annotations

import typer

from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import exit_with_error
from models import verify_audit_chain

app = typer.Typer(help="Audit trail.", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Walk the whole chain; exit 1 naming every event where it breaks."""
    with cli_session() as session:
        breaks = verify_audit_chain(session)
    if breaks:
        for item in breaks:
            typer.echo(f"event {item.event_id}: {item.problem}", err=True)
        exit_with_error(f"the audit chain is broken in {len(breaks)} place(s)")
    typer.echo("audit chain intact")
