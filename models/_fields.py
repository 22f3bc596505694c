"""Shared field helpers and validators for the tables."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from models.types import CENTS, Money, UTCDateTime, utcnow


def money_field(*, ge_zero: bool = True, nullable: bool = False, **kwargs: Any) -> Any:
    """A ``Decimal`` money column; negative amounts refused unless allowed."""
    if ge_zero:
        kwargs.setdefault("ge", 0)
    if nullable:
        kwargs.setdefault("default", None)
    return Field(sa_type=Money, nullable=nullable, **kwargs)


def timestamp_field(*, nullable: bool = False, default_now: bool = False, **kwargs: Any) -> Any:
    if default_now:
        kwargs["default_factory"] = utcnow
    elif nullable:
        kwargs.setdefault("default", None)
    return Field(sa_type=UTCDateTime, nullable=nullable, **kwargs)


def json_field(*, default_factory: Any = dict, **kwargs: Any) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False), **kwargs)


def parse_money(value: Any) -> Any:
    """Accept Decimal, int or a decimal string; refuse floats and text that is not an amount."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise ValueError("money must be a Decimal or a decimal string, not a float")
    if isinstance(value, int | str):
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError("not a decimal amount") from None
        if not amount.is_finite():
            raise ValueError("not a finite amount")
        if amount != amount.quantize(CENTS):
            raise ValueError("more than two decimal places")
        return amount
    raise ValueError("not a decimal amount")


def require_aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    return value
