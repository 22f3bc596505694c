"""Helpers shared by the CLI command groups: the one way errors leave the CLI."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer

from claimdesk.errors import ClaimdeskError


def exit_with_error(error: str | Exception, code: int = 1) -> NoReturn:
    """Print an error (and, for a person at a terminal, its PHI-bearing detail) and exit."""
    typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
    detail = getattr(error, "detail", None)
    if isinstance(error, ClaimdeskError) and detail and sys.stderr.isatty():
        typer.secho(f"  detail: {detail}", err=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, sort_keys=False))
