"""`claimdesk run`: start a workflow now, through its Prefect deployment."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import typer

from claimdesk.cli._acting import audit_operator
from claimdesk.cli._context import load_settings
from claimdesk.cli._utilities import exit_with_error, print_json

app = typer.Typer(help="Run a workflow now (through Prefect).", no_args_is_help=True)

_DEPLOYMENTS = {
    "eligibility": "eligibility/eligibility",
    "submission": "submission/submission",
    "acknowledgements": "acknowledgements/acknowledgements",
    "status": "poll-payer-status/poll-payer-status",
    "remittances": "remittances/remittances",
    "sweep": "sweep-review-deadlines/sweep-review-deadlines",
}


# `--wait/--no-wait` on every run command.
WAIT_HELP = "Wait for the run to end (exit 1 unless it completes), or return once it is started."
JSON_HELP = "Print the flow run's id and state as JSON."


def _run(name: str, wait: bool, json_output: bool = False) -> None:
    settings = load_settings()
    if not settings.prefect_api_url:
        exit_with_error(
            "no Prefect API configured: start `claimdesk up` or set CLAIMDESK_PREFECT_API_URL."
        )
    os.environ["PREFECT_API_URL"] = settings.prefect_api_url
    from prefect.deployments.flow_runs import arun_deployment

    async def go() -> Any:
        return await arun_deployment(_DEPLOYMENTS[name], timeout=None if wait else 0)

    try:
        run = asyncio.run(go())
    except Exception as exc:  # Prefect unreachable or the deployment missing
        exit_with_error(f"could not start {name}: {type(exc).__name__}: {exc}")
    state = run.state.name if run.state else "unknown"
    # Started by the operator: the run itself acts as the flow's service identity.
    audit_operator("flow.run_started", workflow=name, flow_run_id=str(run.id))
    if json_output:
        print_json({"workflow": name, "flow_run_id": str(run.id), "state": state})
    else:
        typer.echo(f"{name}: flow run {run.id} ({state})")
    if wait and run.state is not None and not run.state.is_completed():
        raise typer.Exit(1)


@app.command("eligibility")
def eligibility(
    wait: bool = typer.Option(True, "--wait/--no-wait", help=WAIT_HELP),
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check coverage for draft claims and upcoming visits."""
    _run("eligibility", wait, json_output)


@app.command("submission")
def submission(
    wait: bool = typer.Option(True, "--wait/--no-wait", help=WAIT_HELP),
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Scrub ready claims and send the clean ones."""
    _run("submission", wait, json_output)


@app.command("acknowledgements")
def acknowledgements(
    wait: bool = typer.Option(True, "--wait/--no-wait", help=WAIT_HELP),
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Pick up 999/277CA/TA1 files."""
    _run("acknowledgements", wait, json_output)


@app.command("status")
def status(
    wait: bool = typer.Option(True, "--wait/--no-wait", help=WAIT_HELP),
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Ask payers about claims due a status check (276/277) and about electronic appeals."""
    _run("status", wait, json_output)


@app.command("remittances")
def remittances(
    wait: bool = typer.Option(True, "--wait/--no-wait", help=WAIT_HELP),
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Pick up and post 835s; denials get their appeal runs."""
    _run("remittances", wait, json_output)


@app.command("sweep")
def sweep(
    wait: bool = typer.Option(True, "--wait/--no-wait", help=WAIT_HELP),
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Deadlines, SLAs and anything decided but not yet applied."""
    _run("sweep", wait, json_output)
