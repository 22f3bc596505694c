"""Helpers shared by the CLI command groups: the one way errors leave the CLI, JSON, progress.

Light on purpose (typer and the standard library): every command imports it at start.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from claimdesk.errors import ClaimdeskError, InvalidTransition, ValidationFailed

# The exit codes `claimdesk --help` documents; `exit_code_for` is the one mapping to them.
EXIT_DONE = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = (
    "Exit codes:\n\n"
    "\b\n"
    "  0    done\n"
    "  1    refused: not allowed, not found, taken by someone else, or a check that failed\n"
    "  2    bad input: an option, a value or a file that cannot be used as given\n"
    "  130  interrupted (Ctrl-C)"
)

Progress = Callable[[int, int], None]  # (done, total)


def exit_code_for(error: BaseException) -> int:
    """2 for input that cannot be used as given, 1 for everything refused."""
    # A state machine's "not from here" is a refusal of well-formed input.
    if isinstance(error, ValidationFailed) and not isinstance(error, InvalidTransition):
        return EXIT_BAD_INPUT
    # X12Error lives in claimdesk.x12, heavy to import: one raised means it is loaded.
    x12_errors = sys.modules.get("claimdesk.x12._errors")
    if x12_errors is not None and isinstance(error, x12_errors.X12Error):
        return EXIT_BAD_INPUT
    return EXIT_REFUSED


def exit_with_error(error: str | Exception, code: int | None = None) -> NoReturn:
    """Print an error (and, for a person at a terminal, its PHI-bearing detail) and exit.

    ``code`` defaults to the error's documented exit code (a plain message: refused).
    """
    if code is None:
        code = exit_code_for(error) if isinstance(error, Exception) else EXIT_REFUSED
    typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
    detail = getattr(error, "detail", None)
    if isinstance(error, ClaimdeskError) and detail and sys.stderr.isatty():
        typer.secho(f"  detail: {detail}", err=True)
    raise typer.Exit(code)


def bad_input(message: str) -> NoReturn:
    """An option or value that cannot be used as given (exit 2), e.g. a date that is not one."""
    exit_with_error(message, EXIT_BAD_INPUT)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, sort_keys=False))


def shows_progress(json_output: bool) -> bool:
    """A progress bar only for a person watching: never in JSON, a pipe or a file."""
    return not json_output and sys.stdout.isatty() and sys.stderr.isatty()


@contextmanager
def progress_bar(label: str, *, show: bool) -> Iterator[Progress]:
    """A ``(done, total)`` callback drawing a Rich bar on stderr while the block runs.

    Rich is imported only when a bar is drawn; otherwise the callback does nothing.
    The bar is transient: what stays on the terminal is the command's own summary.
    """
    if not show:
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as RichProgress

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with RichProgress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
