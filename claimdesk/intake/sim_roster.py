"""The payer simulator learns claimdesk's payers and members, so an imported office runs.

``claimdesk up`` writes the simulator's config from the database on its first start
only (``cli/_bootstrap``); patients imported later, or payers added since, would be
strangers to it and every 270 and 837 would be refused. ``push_roster`` sends what
the simulator does not know yet over its loopback admin API: payers it lacks, every
member whose enrolment it lacks or has differently, fee schedule codes it lacks.

A member the simulator already has keeps its benefit state (deductible and
out-of-pocket met so far, copay, other payer): only who they are and their
coverage dates are brought up to claimdesk's. Names go as the X12 writers send
them (transliterated), since the simulator's 271s and 835s carry them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from claimdesk.db import session_scope
from claimdesk.demo.sim_config import sim_config_from_database
from claimdesk.errors import ConfigError
from claimdesk.x12.charset import to_x12_text

# What claimdesk says about a member; the rest is the simulator's own benefit state.
IDENTITY_FIELDS = (
    "first_name",
    "last_name",
    "birth_date",
    "gender",
    "payer_id",
    "group_number",
    "coverage_start",
    "coverage_end",
    "status",
)


@dataclass(frozen=True)
class RosterPush:
    payers: int  # payers added
    members: int  # members added or brought up to date
    fees: int  # fee schedule codes added


def push_roster(engine: Engine, admin_url: str, *, timeout: float = 10.0) -> RosterPush:
    """Tell the simulator at ``admin_url`` (its base URL) the payers and members it lacks."""
    base = admin_url.rstrip("/").removesuffix("/core")
    try:
        with httpx.Client(base_url=base, timeout=timeout) as client:
            clock = date.fromisoformat(_get(client, "/admin/clock")["clock"])
            with session_scope(engine) as session:
                wanted = sim_config_from_database(session, clock_start=clock)
            known_payers = {p["payer_id"] for p in _get(client, "/admin/payers")}
            payers = [p for p in wanted["payers"] if p["payer_id"] not in known_payers]
            known = {m["member_id"]: m for m in _get(client, "/admin/roster")}
            members = _changed_members(wanted["roster"], known)
            known_fees = _get(client, "/admin/fee-schedule")
            fees = {c: a for c, a in wanted["fee_schedule"].items() if c not in known_fees}
            if payers:
                _send(client, "post", "/admin/payers", payers)
            if members:
                _send(client, "post", "/admin/roster", members)
            if fees:
                _send(client, "put", "/admin/fee-schedule", fees)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"the payer simulator at {base} could not take the roster ({type(exc).__name__}); "
            "it learns it again on the next `claimdesk up`"
        ) from None
    return RosterPush(len(payers), len(members), len(fees))


def _changed_members(
    roster: list[dict[str, Any]], known: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for member in roster:
        member = {
            **member,
            "first_name": _wire_name(member["first_name"]),
            "last_name": _wire_name(member["last_name"]),
        }
        current = known.get(member["member_id"])
        if current is None:
            out[member["member_id"]] = member
            continue
        identity = {name: member.get(name) for name in IDENTITY_FIELDS}
        if any(current.get(name) != value for name, value in identity.items()):
            # The simulator's benefit state stays; who the member is follows claimdesk.
            out[member["member_id"]] = {**current, **identity}
    return list(out.values())


def _wire_name(name: str) -> str:
    return to_x12_text(name).upper() or "UNKNOWN"


def _get(client: httpx.Client, path: str) -> Any:
    response = client.get(path)
    response.raise_for_status()
    return response.json()


def _send(client: httpx.Client, method: str, path: str, body: Any) -> None:
    response = client.request(method, path, json=body)
    response.raise_for_status()
