"""`claimdesk refunds`: credit balances waiting to be refunded."""

from __future__ import annotations

import typer

from claimdesk.cli._billing import acting_user, parse_day
from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

app = typer.Typer(help="Refunds of credit balances.", no_args_is_help=True)


@app.command("list")
def list_cmd(
    status: str = typer.Option("pending", "--status", help="pending, posted, dismissed or all"),
    scan: bool = typer.Option(False, "--scan", help="Look for new credit balances first."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Refunds (amount, to whom, deadline); --scan finds new credit balances first."""
    from claimdesk.billing.refunds import find_credit_balances, list_refunds

    try:
        with cli_session() as session:
            actor = acting_user(session, "refunds list")
            if scan:
                find_credit_balances(session, as_of=parse_day(None, "--as-of"))
            rows = list_refunds(session, user=actor, status=None if status == "all" else status)
    except ClaimdeskError as exc:
        exit_with_error(exc)
    data = [
        {
            "refund_id": r.refund_id,
            "claim_id": r.claim_id,
            "to": r.payee,
            "payer_id": r.payer_id,
            "amount": str(r.amount),
            "identified_on": r.identified_on.isoformat(),
            "deadline": r.deadline.isoformat() if r.deadline else None,
            "status": r.status,
            "task_id": r.review_task_id,
        }
        for r in rows
    ]
    if json_output:
        print_json(data)
        return
    for d in data:
        typer.echo(
            f"refund {d['refund_id']:>5}  claim {d['claim_id']:>6}  to {d['to']:7} "
            f"{d['amount']:>9}  deadline {d['deadline'] or '-':10}  {d['status']}  "
            f"task {d['task_id']}"
        )
    typer.echo(f"{len(data)} refund(s)")
