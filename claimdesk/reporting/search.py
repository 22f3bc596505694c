"""Patient and claim search: by name (any alphabet), account number, member id, claim number.

A search is a look at PHI outside the work one was handed, so it follows the minimum
necessary rule of ``claimdesk.workqueue.necessary``: only the roles with ``phi.search``
may search; a role narrowed to some queues (a specialist) gives a reason, which is kept;
every search is audited (``phi.searched``) with what it showed (the ids, never the words
typed, which may be a name); the results show what tells people apart (name, birth date,
account, the member id's last four) and the claims' state, nothing more. Opening a
patient or a claim from the results is the page of that record, audited there.

A name, account or member id search returns the patients with their latest claims; a
claim search (the claim number, claimdesk's claim id, or the payer's claim number)
returns the matching claims only, with their patient.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from claimdesk.access import permissions
from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.access.phi import mask_member_id
from claimdesk.db import session_scope
from claimdesk.errors import ValidationFailed
from claimdesk.intake.patient_find import MAX_QUERY, find_patient_ids
from claimdesk.workqueue.necessary import MIN_REASON, narrowed
from models import Claim, Coverage, Patient, Payer, ReviewTask, append_audit_event

SearchBy = Literal["name", "account", "member_id", "claim"]
SEARCH_BY: dict[SearchBy, str] = {
    "name": "Name",
    "account": "Account number",
    "member_id": "Member id",
    "claim": "Claim number",
}
CLAIMS_PER_PATIENT = 10
_OPEN_TASKS = ("open", "claimed")


@dataclass(frozen=True)
class ClaimHit:
    claim_id: int
    patient_control_number: str
    payer: str
    status: str
    service_from: date
    total_charge: Decimal
    task_ids: tuple[int, ...]  # its open or claimed review tasks


@dataclass(frozen=True)
class PatientHit:
    patient_id: int
    name: str  # as written: "Nuñez, José Luis"
    birth_date: date
    account_number: str
    member_ids: tuple[str, ...]  # "Payer ••••1234"
    claims: tuple[ClaimHit, ...]


def needs_reason(role: str) -> bool:
    """Whether ``role`` gives a reason for a search (it works only some queues)."""
    return narrowed(role) is not None


def search(
    engine: Engine,
    *,
    username: str,
    query: str,
    by: SearchBy,
    reason: str | None = None,
    limit: int = 25,
) -> list[PatientHit]:
    """The patients (and claims) matching ``query``; refused without a reason when one is due."""
    if by not in SEARCH_BY:
        raise ValidationFailed(f"by: one of {', '.join(SEARCH_BY)}", field="by")
    text = " ".join(query.split())
    if not text:
        raise ValidationFailed("query: type what to search for", field="query")
    if len(text) > MAX_QUERY:
        raise ValidationFailed(f"query: at most {MAX_QUERY} characters", field="query")
    why = (reason or "").strip()
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "phi.search", session=session)
        if needs_reason(user.role) and len(why) < MIN_REASON:
            permissions.deny(
                user,
                "phi.search",
                f"role {user.role!r} works some queues only: a search needs a reason "
                f"({MIN_REASON}+ characters), which is audited.",
                session=session,
                details={"by": by},
            )
        if by == "claim":
            claims = _claims_by_number(session, text, limit)
            patient_ids = list(dict.fromkeys(c.patient_id for c in claims))
        else:
            patient_ids = find_patient_ids(session, text, by=by, limit=limit)
            claims = _latest_claims(session, patient_ids)
        hits = _hits(session, patient_ids, claims)
        append_audit_event(
            session,
            actor=username,
            action="phi.searched",
            entity_type="search",
            details={
                "page": "search",
                "by": by,
                "reason": why[:500],
                "patient_ids": [h.patient_id for h in hits],
                "claim_ids": [c.claim_id for h in hits for c in h.claims],
            },
        )
        return hits


def _claims_by_number(session: Session, text: str, limit: int) -> list[Claim]:
    number = text.upper()
    conditions = [
        col(Claim.patient_control_number).in_({text, number}),
        col(Claim.payer_claim_number) == text,
    ]
    if text.isdigit() and len(text) < 10:
        conditions.append(col(Claim.id) == int(text))
    query = select(Claim).where(or_(*conditions)).order_by(col(Claim.id).desc()).limit(limit)
    return list(session.exec(query).all())


def _latest_claims(session: Session, patient_ids: list[int]) -> list[Claim]:
    if not patient_ids:
        return []
    rows = session.exec(
        select(Claim)
        .where(col(Claim.patient_id).in_(patient_ids))
        .order_by(col(Claim.service_from).desc(), col(Claim.id).desc())
    ).all()
    kept: dict[int, list[Claim]] = defaultdict(list)
    for claim in rows:
        if len(kept[claim.patient_id]) < CLAIMS_PER_PATIENT:
            kept[claim.patient_id].append(claim)
    return [c for cs in kept.values() for c in cs]


def _hits(session: Session, patient_ids: list[int], claims: list[Claim]) -> list[PatientHit]:
    if not patient_ids:
        return []
    patients = {
        p.id: p for p in session.exec(select(Patient).where(col(Patient.id).in_(patient_ids)))
    }
    payers = {p.id: p.name for p in session.exec(select(Payer))}
    members: dict[int, list[str]] = defaultdict(list)
    for cov in session.exec(
        select(Coverage)
        .where(col(Coverage.patient_id).in_(patient_ids))
        .order_by(col(Coverage.coverage_order))
    ):
        members[cov.patient_id].append(
            f"{payers.get(cov.payer_id, '?')} {mask_member_id(cov.member_id)}"
        )
    tasks: dict[int, list[int]] = defaultdict(list)
    claim_ids = [c.id for c in claims if c.id is not None]
    if claim_ids:
        for task_id, claim_id in session.exec(
            select(ReviewTask.id, ReviewTask.claim_id)
            .where(col(ReviewTask.claim_id).in_(claim_ids), col(ReviewTask.status).in_(_OPEN_TASKS))
            .order_by(col(ReviewTask.id))
        ):
            if task_id is not None and claim_id is not None:
                tasks[claim_id].append(task_id)
    by_patient: dict[int, list[ClaimHit]] = defaultdict(list)
    for c in claims:
        by_patient[c.patient_id].append(
            ClaimHit(
                c.id or 0,
                c.patient_control_number,
                payers.get(c.payer_id, "?"),
                c.status,
                c.service_from,
                c.total_charge,
                tuple(tasks.get(c.id or 0, ())),
            )
        )
    hits = []
    for pid in patient_ids:
        p = patients.get(pid)
        if p is None:
            continue
        hits.append(
            PatientHit(
                pid,
                f"{p.last_name}, {p.first_name}",
                p.birth_date,
                p.account_number,
                tuple(members.get(pid, ())),
                tuple(by_patient.get(pid, ())),
            )
        )
    return hits
