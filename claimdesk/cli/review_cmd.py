"""`claimdesk review`: the work queue for scripts and for people without the app."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import typer

from claimdesk.cli._acting import person, signed_in
from claimdesk.cli._context import cli_session, load_settings, open_engine
from claimdesk.cli._utilities import bad_input, exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

if TYPE_CHECKING:
    from claimdesk.settings import Settings
    from claimdesk.workqueue.resolve import Resumer, Starter

app = typer.Typer(help="Review tasks (the human work queue).", no_args_is_help=True)


def resumer_for(settings: Settings) -> Resumer:
    """Resume through the configured Prefect API, or defer to the reconciler when there is none."""
    from tasks.resume import resume_unavailable, resume_with_reference

    if not settings.prefect_api_url:
        return resume_unavailable
    # Never let Prefect's client start an ephemeral server of its own.
    os.environ["PREFECT_API_URL"] = settings.prefect_api_url
    return resume_with_reference


def starter_for(settings: Settings) -> Starter:
    """Start a denial's ``appeal`` run on its first decision (see ``resumer_for``)."""
    from tasks.resume import start_appeal_run, start_unavailable

    if not settings.prefect_api_url:
        return start_unavailable
    os.environ["PREFECT_API_URL"] = settings.prefect_api_url
    return start_appeal_run


@app.command("list")
def list_tasks(
    status: list[str] = typer.Option(
        ["open", "claimed"], "--status", help="A task status to list (repeatable)."
    ),
    kind: str | None = typer.Option(
        None, "--kind", help="Only tasks of this kind (eligibility, scrub, denial, ...)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
    ids_only: bool = typer.Option(
        False, "--ids", help="Print only the task ids, one a line, highest priority first."
    ),
) -> None:
    """List review tasks (ids, kinds, codes; no patient data)."""
    from sqlmodel import col, select

    from models import ReviewTask

    with cli_session() as session:
        person(session, "review list", needs="task.view")
        query = select(ReviewTask).where(col(ReviewTask.status).in_(status))
        if kind:
            query = query.where(ReviewTask.kind == kind)
        tasks = session.exec(
            query.order_by(col(ReviewTask.priority).desc(), col(ReviewTask.id))
        ).all()
        rows = [
            {
                "id": t.id,
                "kind": t.kind,
                "status": t.status,
                "claim_id": t.claim_id,
                "claim_version": t.claim_version,
                "priority": t.priority,
                "due_at": t.due_at.isoformat() if t.due_at else None,
                "flow_run_id": t.flow_run_id,
                "pause_key": t.pause_key,
                "reasons": t.context.get("errors")
                or t.context.get("outcome")
                or t.context.get("stc")
                or t.context.get("ik5"),
            }
            for t in tasks
        ]
    if json_output:
        print_json(rows)
        return
    if ids_only:
        for row in rows:
            typer.echo(row["id"])
        return
    for row in rows:
        typer.echo(
            f"{row['id']:>6}  {row['kind']:16} {row['status']:9} claim {row['claim_id']!s:>6}"
            f" v{row['claim_version']}  p{row['priority']}  {row['reasons'] or ''}"
        )
    typer.echo(f"{len(rows)} task(s)")


@app.command("resolve")
def resolve(
    task_id: int = typer.Argument(..., help="The task's id (`claimdesk review list`)."),
    decision: str = typer.Option(
        ...,
        "--decision",
        help="The decision as JSON, its fields by task kind: e.g. a scrub task's "
        '{"action": "override", "reason": "..."}.',
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Record a decision as the signed-in user and resume the waiting flow run."""
    from claimdesk.workqueue.resolve import resolve_review

    try:
        payload = json.loads(decision)
    except json.JSONDecodeError as exc:
        bad_input(f"--decision is not JSON: {exc.msg} at character {exc.pos}")
    if not isinstance(payload, dict):
        bad_input("--decision must be a JSON object")
    user = signed_in("review resolve")
    settings = load_settings()
    engine = open_engine()
    try:
        outcome = resolve_review(
            engine,
            task_id=task_id,
            username=user,
            decision=payload,
            resumer=resumer_for(settings),
            starter=starter_for(settings),
        )
    except ClaimdeskError as exc:
        exit_with_error(exc)
    finally:
        engine.dispose()
    if json_output:
        print_json(
            {
                "task_id": outcome.task_id,
                "decision_id": outcome.decision_id,
                "resumed": outcome.resumed,
                "message": outcome.message,
            }
        )
        return
    typer.echo(f"task {outcome.task_id}: decision {outcome.decision_id} — {outcome.message}")
