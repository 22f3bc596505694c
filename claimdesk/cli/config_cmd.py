"""`claimdesk config`: show the effective settings."""

from __future__ import annotations

import typer

from claimdesk.cli._utilities import bad_input, print_json

app = typer.Typer(help="Settings.", no_args_is_help=True)


@app.command("show")
def show(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print the effective settings, secrets masked."""
    from pydantic import ValidationError

    from claimdesk.settings import Settings

    try:
        shown = Settings().masked()
    except ValidationError as exc:
        bad_input(f"settings are invalid: {exc}")
    if json_output:
        print_json(shown)
        return
    width = max(len(k) for k in shown)
    for key, value in shown.items():
        typer.echo(f"{key.ljust(width)}  {'' if value is None else value}")
