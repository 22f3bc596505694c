"""Helpers shared by the patient billing commands: the signed-in user, dates, amounts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from claimdesk.cli._utilities import bad_input

if TYPE_CHECKING:
    from sqlmodel import Session

    from models import User


def acting_user(session: Session, command: str) -> User:
    """The signed-in user (`claimdesk login`); the billing service checks the role."""
    from claimdesk.cli._acting import person

    return person(session, command)


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
