"""The fee schedule: what a payer is expected to allow for a code on a date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from models import FeeSchedule


def expected_allowed(
    session: Session, *, payer_id: int, code: str, modifier: str | None, on: date
) -> Decimal | None:
    """The fee schedule's expected allowed amount for one unit (modifier-specific first)."""
    rows = session.exec(
        select(FeeSchedule).where(
            FeeSchedule.payer_id == payer_id,
            FeeSchedule.code == code,
            FeeSchedule.effective_from <= on,
        )
    ).all()
    current = [r for r in rows if r.effective_to is None or r.effective_to >= on]
    for wanted in (modifier, None):
        matching = [r for r in current if r.modifier == wanted]
        if matching:
            return max(matching, key=lambda r: r.effective_from).expected_allowed
    return None
