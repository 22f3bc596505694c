"""`claimdesk balances`: patient balances aged 30/60/90/120 days."""

from __future__ import annotations

import typer

from claimdesk.cli._billing import acting_user, parse_day
from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import exit_with_error, print_json
from claimdesk.errors import ClaimdeskError

app = typer.Typer(help="Patient balances.", no_args_is_help=True)


@app.command("ageing")
def ageing(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Age balances as of this day (YYYY-MM-DD); default today."
    ),
    min_age: int = typer.Option(
        0, "--min-age-days", min=0, help="Only balances at least this many days old."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Who owes what, by age (patient ids and account numbers; the view is audited)."""
    from claimdesk.billing.collections import BUCKETS, list_patient_balances

    try:
        with cli_session() as session:
            rows = list_patient_balances(
                session,
                user=acting_user(session, "balances ageing"),
                as_of=parse_day(as_of, "--as-of"),
                min_age_days=min_age,
            )
    except ClaimdeskError as exc:
        exit_with_error(exc)
    if json_output:
        print_json(
            [
                {
                    "patient_id": r.patient_id,
                    "account_number": r.account_number,
                    "total": str(r.total),
                    **{b: str(r.buckets[b]) for b in BUCKETS},
                }
                for r in rows
            ]
        )
        return
    typer.echo(
        f"{'patient':>8}  {'account':12} " + " ".join(f"{b:>9}" for b in BUCKETS) + "      total"
    )
    for r in rows:
        typer.echo(
            f"{r.patient_id:>8}  {r.account_number:12} "
            + " ".join(f"{r.buckets[b]:>9}" for b in BUCKETS)
            + f" {r.total:>10}"
        )
    typer.echo(f"{len(rows)} patient(s) owing")
