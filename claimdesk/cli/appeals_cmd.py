"""`claimdesk appeals`: appeals and their outcomes (a fax or mail appeal's answer comes by post)."""

from __future__ import annotations

import typer

from claimdesk.cli._acting import person
from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

# claimdesk.denials.appeals.OUTCOMES (a test keeps them equal), here for the help text.
OUTCOMES = ("overturned", "partially_overturned", "upheld")

app = typer.Typer(help="Appeals and their outcomes.", no_args_is_help=True)


@app.command("list")
def list_appeals(
    pending: bool = typer.Option(False, "--pending", help="Only appeals still waiting."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Appeals with level, channel, deadline and outcome (ids and codes; no patient data)."""
    from sqlmodel import col, select

    from models import Appeal

    with cli_session() as session:
        person(session, "appeals list", needs="task.view")
        query = select(Appeal).order_by(col(Appeal.id))
        if pending:
            query = query.where(Appeal.outcome == "pending")
        rows = [
            {
                "id": a.id,
                "claim_id": a.claim_id,
                "denial_id": a.denial_id,
                "level": a.level,
                "channel": a.channel,
                "deadline": a.deadline.isoformat(),
                "sent": a.submitted_at.isoformat() if a.submitted_at else None,
                "outcome": a.outcome,
            }
            for a in session.exec(query).all()
        ]
    if json_output:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['id']:>6}  claim {row['claim_id']:>6}  level {row['level']}  "
            f"{row['channel'] or '-':10} due {row['deadline']}  {row['outcome']}"
        )
    typer.echo(f"{len(rows)} appeal(s)")


@app.command("outcome")
def outcome(
    appeal_id: int = typer.Argument(..., help="The appeal's id (`claimdesk appeals list`)."),
    result: str = typer.Argument(..., help="The payer's answer: " + " | ".join(OUTCOMES)),
    json_output: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Record the payer's answer to a fax or mail appeal; an upheld one is worked again."""
    from claimdesk.denials.workflow import record_mail_appeal_outcome

    try:
        with cli_session() as session:
            user = person(session, "appeals outcome")
            appeal = record_mail_appeal_outcome(
                session, appeal_id=appeal_id, outcome=result, username=user.username
            )
            level = appeal.level
    except ClaimdeskError as exc:
        exit_with_error(exc)
    then = (
        "the denial is open again; the next sweep starts its next round"
        if result == "upheld"
        else "the payer's new 835 posts the money"
    )
    if json_output:
        print_json({"appeal_id": appeal_id, "level": level, "outcome": result, "next": then})
        return
    typer.echo(f"appeal {appeal_id} (level {level}): {result}; {then}")
