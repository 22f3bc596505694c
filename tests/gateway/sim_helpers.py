"""Talking to the gateway tests' simulator: admin calls, faults, what claimdesk stored."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.x12 import read_interchanges
from claimdesk.x12.claim_data import PayerRef
from models import Document, DocumentLink

USERNAME = "clinic"
PASSWORD = "pw-Sekr3t-9931"  # must never show up in a log line or an error
PASSWORD_ENV = "GW_TEST_SIM_PASSWORD"
# Loaded into the simulator through POST /admin/payers; members GW100 (active) and
# GW200 (inactive) through POST /admin/roster.
ACME = PayerRef(name="ACME HEALTH PLAN", payer_id="SIMACM")


def admin(url: str, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{url}{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def set_faults(sim: str, **faults: float) -> None:
    """Replace the simulator's faults (none given: all off)."""
    admin(sim, "put", "/admin/faults", faults)


def stored(engine: Engine, claim_id: int) -> set[tuple[str, str]]:
    """(kind, direction) of every document linked to ``claim_id``."""
    with Session(engine) as session:
        rows = session.exec(
            select(Document.kind, Document.direction)
            .join(DocumentLink, DocumentLink.document_id == Document.id)  # type: ignore[arg-type]
            .where(DocumentLink.claim_id == claim_id)
        ).all()
    return {(kind, direction) for kind, direction in rows}


def first_set(payload: bytes) -> Any:
    """The first transaction set of the first group, as claimdesk's reader reads it."""
    return read_interchanges(payload)[0].groups[0].transactions[0]
