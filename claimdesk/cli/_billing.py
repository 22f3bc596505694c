"""Helpers shared by the patient billing commands: the acting user, dates, amounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlmodel import Session

from claimdesk.access.auth import load_active_user
from claimdesk.cli._utilities import exit_with_error
from claimdesk.errors import ClaimdeskError
from models import User
from models.types import utcnow


def acting_user(session: Session, username: str) -> User:
    try:
        return load_active_user(session, username)
    except ClaimdeskError as exc:
        exit_with_error(exc)


def parse_day(value: str | None, option: str) -> date:
    if value is None:
        return utcnow().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        exit_with_error(f"{option} {value!r} is not a date; use YYYY-MM-DD.")


def parse_amount(value: str, option: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        exit_with_error(f"{option} {value!r} is not an amount; use e.g. 25.00.")
    if not amount.is_finite():
        exit_with_error(f"{option} {value!r} is not an amount; use e.g. 25.00.")
    return amount
