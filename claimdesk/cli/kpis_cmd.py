"""`claimdesk kpis`: the revenue-cycle KPIs for a period, as a table or JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from claimdesk.cli._context import cli_session
from claimdesk.cli._utilities import bad_input, print_json

if TYPE_CHECKING:
    from claimdesk.reporting.kpis import Kpis

_DEFAULT_DAYS = 30  # a month when no period is given


def _parse(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        bad_input(f"--{name} {value!r} is not a date; use YYYY-MM-DD.")


def kpis(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD); default 30 days ago.")
    ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day; default today.")] = None,
    payer: Annotated[int | None, typer.Option("--payer", help="Payer id (database id).")] = None,
) -> None:
    """Clean-claim rate, denials, days in A/R, collections, appeals, queues (see docs/kpis.md)."""
    from claimdesk.reporting.kpis import compute_kpis

    end = _parse(date_to, "to") or datetime.now(UTC).date()
    start = _parse(date_from, "from") or end - timedelta(days=_DEFAULT_DAYS - 1)
    if start > end:
        bad_input(f"--from {start} is after --to {end}; swap them.")
    with cli_session() as session:
        result = compute_kpis(session, date_from=start, date_to=end, payer_id=payer)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    _print_table(result)


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _print_table(k: Kpis) -> None:
    rows = [
        (
            "Period",
            f"{k.date_from} to {k.date_to}" + (f" (payer {k.payer_id})" if k.payer_id else ""),
        ),
        ("Claims (date of service in period)", str(k.claims_in_cohort)),
        ("Clean-claim rate", _pct(k.clean_claim_rate)),
        ("First-pass acceptance", _pct(k.first_pass_acceptance)),
        ("Denial rate", _pct(k.denial_rate)),
        ("A/R", f"${k.ar_total:,.2f}"),
        ("Days in A/R", "n/a" if k.days_in_ar is None else str(k.days_in_ar)),
        ("A/R over 90 days", _pct(k.ar_over_90_share)),
        ("Net collection rate", _pct(k.net_collection_rate)),
        ("Appeal overturn rate", _pct(k.appeal_overturn_rate)),
        (
            "Timely-filing losses",
            f"{k.timely_filing_losses_count} (${k.timely_filing_losses_amount:,.2f})",
        ),
        ("Tasks past SLA", str(k.tasks_past_sla)),
    ]
    for payer_id, rate in k.denial_rate_by_payer.items():
        rows.append((f"  denial rate, payer {payer_id}", _pct(rate)))
    for code, rate in k.denial_rate_by_carc.items():
        rows.append((f"  denial rate, {code}", _pct(rate)))
    for queue in k.queues:
        rows.append(
            (
                f"Queue {queue.kind}",
                f"{queue.open} open, oldest {queue.oldest_days} d, {queue.past_sla} past SLA",
            )
        )
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        typer.echo(f"{label.ljust(width)}  {value}")
