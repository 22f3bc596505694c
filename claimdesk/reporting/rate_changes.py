"""The dashboard's rate-cut flags: a payer whose allowed amounts for a code fell from one
month to the next ("SIMACM cut 99214 by 6% since 2026-11-01"), learned from posted 835s
(``claimdesk.learning.rates``). Aggregates over codes and payers: no patient is named."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from claimdesk.learning.rates import rate_cut_flags
from claimdesk.settings import Settings


def read_rate_cuts(engine: Engine, settings: Settings, *, username: str, today: date) -> list[str]:
    """Each rate cut in the learning window before ``today``, newest first."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), "dashboard.view", session=session)
        return rate_cut_flags(session, settings, today=today)
