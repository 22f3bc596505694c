"""A Typer group that imports a command's module only when that command runs.

`claimdesk --help` lists every command from a table of one-line helps, importing none of
them; `claimdesk claims list` imports `claims_cmd` and nothing else. Help is printed
without Rich: its renderer alone costs ~0.3 s of imports (markdown, pygments), longer
than the whole command line may take to answer.

The group is also the one place an error no command caught leaves the CLI: a
``ClaimdeskError`` exits with its documented code, Ctrl-C with 130, never a traceback.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from claimdesk.cli._utilities import EXIT_INTERRUPTED, exit_with_error
from claimdesk.errors import ClaimdeskError

# Set in ctx.meta (shared down the context chain) while help is being written.
_LISTING = "claimdesk.cli.listing"


@dataclass(frozen=True)
class Lazy:
    """Where a top-level command lives, and the line `claimdesk --help` shows for it."""

    module: str  # under claimdesk.cli
    attribute: str  # a typer.Typer (a command group) or a function (one command)
    help: str  # the command's own first help line (a test keeps the two equal)


class _Listed(TyperCommand):
    """Stands in for a command not imported yet, in the list `claimdesk --help` prints."""


def load_command(name: str, spec: Lazy) -> Any:
    """Import ``spec``'s module and build its click command under ``name``."""
    target = getattr(importlib.import_module(f"claimdesk.cli.{spec.module}"), spec.attribute)
    if isinstance(target, typer.Typer):
        command: Any = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    _plain_help(command)
    return command


def _plain_help(command: Any) -> None:
    if isinstance(command, TyperCommand | TyperGroup):
        command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


class LazyGroup(TyperGroup):
    """The root group; a subclass names its commands in ``lazy``."""

    lazy: ClassVar[dict[str, Lazy]] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, spec in self.lazy.items():
            self.commands.setdefault(name, _Listed(name, help=spec.help, rich_markup_mode=None))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if isinstance(command, _Listed) and not ctx.meta.get(_LISTING):
            command = self.commands[cmd_name] = load_command(cmd_name, self.lazy[cmd_name])
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        ctx.meta[_LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta.pop(_LISTING, None)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ClaimdeskError as exc:
            exit_with_error(exc)
        except KeyboardInterrupt:
            typer.secho("interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
