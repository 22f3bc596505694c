"""Appeal deadlines, task due dates and priorities: date arithmetic only.

A payer's ``appeal_levels`` JSON lists its levels, e.g. Medicare Part B::

    [{"level": 1, "name": "redetermination", "window_days": 120, "clock_starts": "notice+5"},
     {"level": 2, "name": "reconsideration", "window_days": 180, "clock_starts": "notice+5"},
     {"level": 3, "name": "alj_hearing", "window_days": 60, "clock_starts": "notice+5"}, ...]

``clock_starts`` is ``notice`` or ``notice+N``: the window counts from the date
of the notice (the 835's payment date for level 1, the previous level's decision
for the others) plus ``N`` days presumed for mail (Medicare presumes 5).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from claimdesk.errors import ConfigError

_CLOCK = re.compile(r"^(notice|decision)(?:\+(\d{1,3}))?$")

# 42 CFR 405.942 (120 days), 405.962 (180), 405.1002 (60), 405.1102 (60), 405.1130 (60);
# each from receipt of the notice, presumed 5 days after its date.
MEDICARE_LEVELS: tuple[dict[str, Any], ...] = (
    {"level": 1, "name": "redetermination", "window_days": 120, "clock_starts": "notice+5"},
    {"level": 2, "name": "reconsideration", "window_days": 180, "clock_starts": "notice+5"},
    {"level": 3, "name": "alj_hearing", "window_days": 60, "clock_starts": "notice+5"},
    {"level": 4, "name": "appeals_council", "window_days": 60, "clock_starts": "notice+5"},
    {"level": 5, "name": "judicial_review", "window_days": 60, "clock_starts": "notice+5"},
)


class AppealLevel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    level: int = Field(ge=1, le=5)
    name: str = "appeal"
    window_days: int = Field(gt=0)
    clock_starts: str = "notice"

    def mailing_days(self) -> int:
        match = _CLOCK.match(self.clock_starts.replace(" ", ""))
        if match is None:
            raise ConfigError(
                f"appeal level {self.level}: clock_starts {self.clock_starts!r} is not "
                "'notice' or 'notice+N'; fix the payer's appeal_levels."
            )
        return int(match.group(2) or 0)


def appeal_levels(
    configured: list[dict[str, Any]], *, payer_kind: str, default_window_days: int = 180
) -> tuple[AppealLevel, ...]:
    """The payer's levels; Medicare's statutory ones or one default level when none are set."""
    raw: list[dict[str, Any]] | tuple[dict[str, Any], ...] = configured
    if not raw:
        raw = (
            MEDICARE_LEVELS
            if payer_kind == "medicare"
            else ({"level": 1, "window_days": default_window_days, "clock_starts": "notice"},)
        )
    try:
        levels = tuple(AppealLevel.model_validate(item) for item in raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(
            f"appeal_levels: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}; "
            "fix the payer's appeal_levels."
        ) from None
    for level in levels:
        level.mailing_days()  # refuse a bad clock now, not at the deadline
    return tuple(sorted(levels, key=lambda item: item.level))


def find_level(levels: tuple[AppealLevel, ...], number: int) -> AppealLevel | None:
    return next((item for item in levels if item.level == number), None)


def appeal_deadline(notice_date: date, level: AppealLevel) -> date:
    """Last day to file ``level``: notice date + mailing days + the window."""
    return notice_date + timedelta(days=level.mailing_days() + level.window_days)


def due_date(deadline: date, buffer_days: int) -> date:
    """When the work should be done: the deadline less the configured buffer."""
    return deadline - timedelta(days=buffer_days)


def days_left(deadline: date, today: date) -> int:
    return (deadline - today).days
