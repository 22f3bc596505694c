"""After an import: a running `claimdesk up`'s payer simulator learns the new members."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from claimdesk.settings import Settings


def tell_running_simulator(engine: Engine, settings: Settings) -> str | None:
    """A line to print when this data directory's stack runs a simulator; else None."""
    from claimdesk.errors import ConfigError
    from claimdesk.intake.sim_roster import push_roster
    from claimdesk.stack import running_stack

    info = running_stack(settings.data_dir)
    if info is None or "payer-sim" not in info.live_children():
        return None
    try:
        pushed = push_roster(engine, info.payer_sim_url)
    except ConfigError as exc:
        return f"warning: {exc.message}"
    return (
        f"payer simulator: {pushed.members} member(s) and {pushed.payers} payer(s) "
        "added or brought up to date"
    )
