"""Helpers shared by the patient billing commands: the acting user, dates, amounts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from claimdesk.cli._utilities import bad_input, exit_with_error
from claimdesk.errors import ClaimdeskError

if TYPE_CHECKING:
    from sqlmodel import Session

    from models import User


def acting_user(session: Session, username: str) -> User:
    from claimdesk.access.auth import load_active_user

    try:
        return load_active_user(session, username)
    except ClaimdeskError as exc:
        exit_with_error(exc)


def parse_day(value: str | None, option: str) -> date:
    """An ISO date given as ``option``; today (UTC, as ``models.types.utcnow``) when absent."""
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        bad_input(f"{option} {value!r} is not a date; use YYYY-MM-DD.")


def parse_amount(value: str, option: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        bad_input(f"{option} {value!r} is not an amount; use e.g. 25.00.")
    if not amount.is_finite():
        bad_input(f"{option} {value!r} is not an amount; use e.g. 25.00.")
    return amount
