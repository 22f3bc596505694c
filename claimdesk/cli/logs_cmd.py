"""`claimdesk logs`: read claimdesk's own logs, which are sealed on disk."""

from __future__ import annotations

import typer

from claimdesk.cli._context import load_settings
from claimdesk.cli._utilities import bad_input, exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

app = typer.Typer(help="claimdesk's own logs (sealed on disk).", no_args_is_help=True)


@app.command("task-errors")
def task_errors(
    ref: str = typer.Option(
        "", "--ref", help="Only the failure with this reference (a failed task names it)."
    ),
    last: int = typer.Option(20, "--last", help="How many of the newest records (0: all)."),
    json_output: bool = typer.Option(False, "--json", help="Print the records as JSON."),
) -> None:
    """Where tasks failed (types and code lines, never a value), newest last.

    An operator's command: whoever runs it holds the data directory and its key already.
    """
    from tasks._safety import read_task_log

    if last < 0:
        bad_input(f"--last {last}: give 0 (all) or a number of records.")
    try:
        records = read_task_log(load_settings())
    except ClaimdeskError as exc:
        exit_with_error(exc)
    if ref:
        records = [line for line in records if f"[{ref}]" in line]
        if not records:
            exit_with_error(f"no task failure with reference {ref!r} in the task-error log.")
    if last:
        records = records[-last:]
    if json_output:
        print_json({"records": records})
        return
    for line in records:
        typer.echo(line)
    if not records:
        typer.echo("no task failures recorded.")
