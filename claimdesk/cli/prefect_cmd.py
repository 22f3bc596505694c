"""`claimdesk prefect bootstrap`: what the deployments need, on any Prefect server."""

from __future__ import annotations

from typing import Annotated

import typer

from claimdesk.cli._acting import audit_operator
from claimdesk.cli._utilities import exit_with_error, print_json

app = typer.Typer(help="The Prefect server claimdesk runs on.", no_args_is_help=True)


@app.command("bootstrap")
def bootstrap(
    api: Annotated[
        str,
        typer.Option(
            "--api",
            help="The Prefect API URL (e.g. http://prefect.internal:4200/api); "
            "default: PREFECT_API_URL.",
        ),
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create the work pool, its queues and priorities, a concurrency limit per payer and the
    zombie-run automation where missing (idempotent: run it again after adding a payer)."""
    import asyncio
    import os

    from sqlmodel import select

    from claimdesk.cli._context import load_settings, open_engine
    from claimdesk.cli.prefect_setup import ensure_prefect_setup
    from claimdesk.db import session_scope
    from models import Payer

    url = api or os.environ.get("PREFECT_API_URL", "")
    if not url:
        exit_with_error("no Prefect API: pass --api URL or set PREFECT_API_URL.", 2)
    configured_auth = os.environ.get("PREFECT_API_AUTH_STRING")
    settings = load_settings()
    # This data directory's stack: its auth string; any other server: only one configured.
    beside = settings.prefect_api_url and url.rstrip("/") == settings.prefect_api_url.rstrip("/")
    secret = settings.prefect_api_auth_string if beside else None
    auth = secret.get_secret_value() if secret is not None else configured_auth
    engine = open_engine()
    with session_scope(engine) as session:
        payers = [(p.payer_id, p.max_concurrency) for p in session.exec(select(Payer)).all()]
    engine.dispose()

    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    async def run() -> dict[str, list[str]]:
        with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_API_AUTH_STRING: auth}):
            return (await ensure_prefect_setup(payers)).as_dict()

    try:
        report = asyncio.run(run())
    except Exception as exc:  # the server did not answer, or refused: say so, no traceback
        exit_with_error(f"Prefect at {url} could not be set up: {type(exc).__name__}: {exc}", 1)
    audit_operator(
        "prefect.bootstrapped", created=len(report["created"]), updated=len(report["updated"])
    )
    if as_json:
        print_json(report)
        return
    for line in report["created"]:
        typer.echo(f"created {line}")
    for line in report["updated"]:
        typer.echo(f"updated {line}")
    if not report["created"] and not report["updated"]:
        typer.echo(f"Prefect at {url}: everything was in place ({len(payers)} payer limits).")
