"""Every command, walked through the real click tree: help on every option and argument,
`--json` wherever data is printed, and `claimdesk --help`'s list true to the commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer

from claimdesk.cli.main import COMMANDS, app

# Commands that print no data a script would read, and why. Everything else has --json.
NO_DATA = {
    "up": "runs the stack in the foreground until Ctrl-C; its lines are for the person watching",
    "down": "stops processes; the pids it names are for a person (the stack's owner keeps it)",
    "payer-sim": "a server: serves until interrupted",
    "login": "a sign-in; it prints who is signed in, nothing a script needs",
    "users add": "one change, confirmed in words; `users list --json` shows the result",
    "users bootstrap-admin": "the first admin, confirmed in words with how to sign in",
    "users set-password": "one change, confirmed in words",
    "users disable": "one change, confirmed in words",
    "users enable": "one change, confirmed in words",
    "users set-role": "one change, confirmed in words",
    "users unlock": "one change, confirmed in words",
    "users reset-totp": "one change, confirmed in words",
    "users link-sso": "one change, confirmed in words; `users identities --json` shows it",
}


def _context(command: Any, name: str, parent: Any = None) -> Any:
    return command.context_class(command, info_name=name, parent=parent)


def walk() -> Iterator[tuple[str, Any]]:
    """(path, command) for every command, groups included, the lazy ones loaded."""
    root = typer.main.get_command(app)

    def visit(command: Any, path: list[str], ctx: Any) -> Iterator[tuple[str, Any]]:
        yield " ".join(path), command
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, f"{' '.join([*path, name])} does not load"
                yield from visit(sub, [*path, name], _context(sub, name, ctx))

    yield from visit(root, [], _context(root, "claimdesk"))


TREE = dict(walk())
LEAVES = {path: cmd for path, cmd in TREE.items() if not hasattr(cmd, "list_commands")}


def test_the_tree_has_every_command() -> None:
    assert set(COMMANDS) <= {path.split(" ")[0] for path in TREE if path}
    assert len(LEAVES) > 50  # the walk reached the sub-commands


@pytest.mark.parametrize("path", sorted(TREE), ids=lambda p: p or "claimdesk")
def test_every_option_and_argument_has_help(path: str) -> None:
    command = TREE[path]
    missing = [
        param.name
        for param in command.params
        if param.name != "help" and not (getattr(param, "help", None) or "").strip()
    ]
    assert not missing, f"`claimdesk {path}`: no help text for {missing}"
    assert (command.help or "").strip(), f"`claimdesk {path}` has no help of its own"


@pytest.mark.parametrize("path", sorted(LEAVES), ids=lambda p: p)
def test_every_command_that_prints_data_has_json(path: str) -> None:
    flags = {opt for param in LEAVES[path].params for opt in getattr(param, "opts", [])}
    if path in NO_DATA or path.split(" ")[0] in NO_DATA:
        assert "--json" not in flags, f"{path} has --json: take it off the allow-list"
        return
    assert "--json" in flags, f"`claimdesk {path}` prints data without --json"


def test_the_allow_list_names_only_real_commands() -> None:
    assert set(NO_DATA) <= set(TREE)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_help_list_says_what_the_command_itself_says(name: str) -> None:
    # `claimdesk --help` prints the table's line without importing the command.
    root = typer.main.get_command(app)
    listed = COMMANDS[name].help
    own = TREE[name].help.strip().splitlines()[0]
    assert listed == own, f"main.COMMANDS[{name!r}] says {listed!r}; the command says {own!r}"
    assert root.get_command(_context(root, "claimdesk"), name) is not None


def test_constants_copied_for_help_texts_match_their_source() -> None:
    # Copied so a command module need not import its service to declare its options.
    from claimdesk.billing.deposits import DEFAULT_GRACE_DAYS
    from claimdesk.billing.statements import DEFAULT_CYCLE_DAYS
    from claimdesk.cli import appeals_cmd, deposits_cmd, statements_cmd, users_cmd
    from claimdesk.denials.appeals import OUTCOMES
    from models.users import ROLES

    assert appeals_cmd.OUTCOMES == OUTCOMES
    assert statements_cmd.DEFAULT_CYCLE_DAYS == DEFAULT_CYCLE_DAYS
    assert deposits_cmd.DEFAULT_GRACE_DAYS == DEFAULT_GRACE_DAYS
    assert users_cmd.ROLES == ROLES
