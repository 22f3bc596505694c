"""claimdesk's one clock. Every "today" (deadlines, ages, timely filing) is read here.

In the demo and the tests it follows the payer simulator's simulated clock, so a
simulated week of payer behaviour and claimdesk's deadlines move together.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from claimdesk.errors import ConfigError
from claimdesk.settings import Settings


def today(settings: Settings) -> date:
    if settings.clock_source == "system":
        return datetime.now(UTC).date()
    url = f"{settings.payer_sim_base_url}/admin/clock"
    try:
        response = httpx.get(url, timeout=5)
        response.raise_for_status()
        return date.fromisoformat(response.json()["clock"])
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise ConfigError(
            f"the simulated clock at {url} could not be read ({type(exc).__name__}); "
            "start the payer simulator or set CLAIMDESK_CLOCK_SOURCE=system."
        ) from exc


def now(settings: Settings) -> datetime:
    """The moment on claimdesk's clock: the simulated date with the wall-clock time of day.

    Cadences stamped and compared through this (status polling) move with the demo's
    fast clock; the time of day keeps several checks on one simulated day in order.
    """
    wall = datetime.now(UTC)
    if settings.clock_source == "system":
        return wall
    return datetime.combine(today(settings), wall.timetz())
