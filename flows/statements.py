"""The daily patient-side run: follow-ups to review, money on account applied, statements."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow

from claimdesk.clock import today
from claimdesk.settings import get_settings
from tasks.statements import apply_money_on_account, follow_up_patients, run_statements


@flow(name="statements")
async def statements(
    cycle_days: int = 30,
    as_of: date | None = None,
    installment_grace_days: int = 5,
    collection_thresholds: list[int] | None = None,
    deposit_grace_days: int = 3,
) -> dict[str, Any]:
    """Missed installments, collections, refunds, deposits; then statements (ids and counts)."""
    day = as_of or today(get_settings())
    follow_up = follow_up_patients(
        day, installment_grace_days, collection_thresholds or [90, 120], deposit_grace_days
    )
    applied = apply_money_on_account(day)
    return {**follow_up, "applied_parts": applied, **run_statements(day, cycle_days)}
