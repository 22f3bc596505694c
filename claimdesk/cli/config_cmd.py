"""`claimdesk config`: show the effective settings."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from claimdesk.cli._utilities import exit_with_error, print_json
from claimdesk.settings import Settings

app = typer.Typer(help="Settings.", no_args_is_help=True)


@app.command("show")
def show(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print the effective settings, secrets masked."""
    try:
        shown = Settings().masked()
    except ValidationError as exc:
        exit_with_error(f"settings are invalid: {exc}")
    if json_output:
        print_json(shown)
        return
    width = max(len(k) for k in shown)
    for key, value in shown.items():
        typer.echo(f"{key.ljust(width)}  {'' if value is None else value}")
