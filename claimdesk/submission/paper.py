"""Paper claims: the CMS-1500 or UB-04 for payers that take no electronic claims.

Which payers get paper: a payer whose ``connectivity`` JSON says
``"submission_channel": "paper"`` (no schema change: the connectivity settings
already say how a payer is reached). The 837 batching skips those payers
(``submission_service.queued_batches``), and the submission flow's build task
calls ``print_paper_claims`` instead for them.

``print_paper_claims`` takes each claim of a paper payer that is ready to go out
(scrubbed clean: ``queued``), fills the CMS-1500 (professional) or the UB-04
(institutional, ``ub04_paper``) from the same data the 837 writer uses, keeps the PDF
in the document store (kind ``cms1500`` or ``ub04``, linked to the claim) and moves
the claim to ``sent`` with an audit event, in one transaction per claim. A claim
version is printed once: the transaction re-reads the claim under a row lock and
prints only a version still ``queued``; a re-run finds nothing left to print, and a
corrected claim (a new version, frequency 7) is printed again with item 22 (FL64)
filled. The payer's answer comes back on paper and is posted by hand
(``paper_eob_service``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.claims.cob import next_coverage
from claimdesk.claims.moves import set_claim_status
from claimdesk.claims.wire_data import DEFAULT_CONTACT_PHONE
from claimdesk.db import session_scope
from claimdesk.documents import DocumentStore, make_document_store
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.paper import (
    Cms1500Facts,
    OtherInsured,
    Ub04Facts,
    facts_from_claim,
    render_cms1500,
    render_ub04,
)
from claimdesk.settings import Settings
from claimdesk.stored_documents import store_document
from claimdesk.submission.paper_claim import paper_claim
from claimdesk.submission.ub04_paper import ub04_form_facts
from models import Claim, Coverage, Patient, Payer, append_audit_event

ACTOR = "system:paper"
PDF = "application/pdf"
DOCUMENT_KIND = "cms1500"
UB04_KIND = "ub04"
PAPER_CHANNEL = "paper"


@dataclass(frozen=True)
class PrintedClaim:
    """One claim version printed (ids only: safe for Prefect)."""

    claim_id: int
    version: int
    document_id: int
    pages: int


@dataclass
class PaperRun:
    printed: list[PrintedClaim] = field(default_factory=list)
    # Claims the form could not be filled for (missing address ...): left queued, named here.
    failed_claim_ids: list[int] = field(default_factory=list)


def is_paper_payer(payer: Payer) -> bool:
    channel = payer.connectivity.get("submission_channel") if payer.connectivity else None
    return str(channel or "").lower() == PAPER_CHANNEL


def paper_payer_ids(session: Session) -> list[int]:
    """Database ids of the payers billed on paper (few payers: read in Python, portable JSON)."""
    return sorted(p.id for p in session.exec(select(Payer)).all() if p.id and is_paper_payer(p))


def claim_form_facts(
    session: Session, *, settings: Settings, claim_id: int, form_date: date
) -> Cms1500Facts:
    """The CMS-1500's content for one professional claim, from the 837P's data."""
    claim, wire_claim = paper_claim(session, settings=settings, claim_id=claim_id, kind="P")
    payer = session.get(Payer, claim.payer_id)
    coverage = session.get(Coverage, claim.coverage_id)
    assert payer is not None and coverage is not None
    city_line = " ".join(p for p in (payer.city, payer.state, payer.postal_code) if p)
    payer_address = tuple(
        line for line in (payer.address_line1, payer.address_line2 or "", city_line) if line
    )
    return facts_from_claim(
        wire_claim,
        form_date=form_date,
        payer_address=payer_address,
        other_insured=_other_insured(session, claim),
        insured_plan_name=coverage.plan_name or "",
        billing_phone=DEFAULT_CONTACT_PHONE,
    )


def _other_insured(session: Session, claim: Claim) -> OtherInsured | None:
    """Items 9-9d when billing the primary: the patient's secondary coverage, if any."""
    if claim.coverage_order != 1:
        return None  # a secondary claim names its primary from the 837's 2320 loop
    other = next_coverage(session, claim)
    if other is None:
        return None
    patient = session.get(Patient, claim.patient_id)
    payer = session.get(Payer, other.payer_id)
    assert patient is not None and payer is not None
    if other.relationship == "self" or not other.subscriber_last_name:
        name = f"{patient.last_name}, {patient.first_name}"
    else:
        name = f"{other.subscriber_last_name}, {other.subscriber_first_name or ''}".rstrip(", ")
    return OtherInsured(
        name=name.upper(),
        policy_or_group=other.group_number or other.member_id,
        plan_name=(other.plan_name or payer.name).upper(),
    )


def render_claim_form(
    session: Session, *, settings: Settings, claim_id: int, username: str, form_date: date
) -> bytes:
    """A person's look at one claim's form (any status): role checked, audited.

    The CMS-1500 for a professional claim, the UB-04 for an institutional one.
    """
    require(load_active_user(session, username), "claim.view_phi")
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(f"no claim {claim_id}")
    facts = _form_facts(session, settings, claim_id, claim.kind, form_date)
    form = UB04_KIND if claim.kind == "I" else DOCUMENT_KIND
    append_audit_event(
        session,
        actor=username,
        action=f"claim.{form}_rendered",
        entity_type="claim",
        entity_id=claim_id,
        claim_id=claim_id,
        details={"pages": facts.page_count},
    )
    return _render(facts)


def _form_facts(
    session: Session, settings: Settings, claim_id: int, kind: str, form_date: date
) -> Cms1500Facts | Ub04Facts:
    if kind == "I":
        return ub04_form_facts(session, settings=settings, claim_id=claim_id, form_date=form_date)
    return claim_form_facts(session, settings=settings, claim_id=claim_id, form_date=form_date)


def _render(facts: Cms1500Facts | Ub04Facts) -> bytes:
    return render_ub04(facts) if isinstance(facts, Ub04Facts) else render_cms1500(facts)


def queued_paper_claims(session: Session, *, limit: int = 5000) -> list[tuple[int, int, str]]:
    """(claim id, version, kind) of queued claims billed to paper payers, oldest first."""
    payers = paper_payer_ids(session)
    if not payers:
        return []
    rows = session.exec(
        select(col(Claim.id), col(Claim.version), col(Claim.kind))
        .where(Claim.status == "queued", col(Claim.payer_id).in_(payers))
        .order_by(col(Claim.id))
        .limit(limit)
    ).all()
    return [(claim_id or 0, version, kind) for claim_id, version, kind in rows]


def print_paper_claims(
    engine: Engine,
    settings: Settings,
    *,
    today: date,
    store: DocumentStore | None = None,
    actor: str = ACTOR,
    limit: int = 5000,
) -> PaperRun:
    """Print, store and send every queued claim of a paper payer; see the module docstring."""
    store = store or make_document_store(settings)
    run = PaperRun()
    with Session(engine) as session:
        candidates = queued_paper_claims(session, limit=limit)
    for claim_id, version, kind in candidates:
        # Render outside the write transaction: SQLite holds its write lock from BEGIN.
        with Session(engine) as session:
            try:
                facts = _form_facts(session, settings, claim_id, kind, today)
            except ValidationFailed:
                run.failed_claim_ids.append(claim_id)
                continue
        data = _render(facts)
        with session_scope(engine) as session:
            printed = _store_and_send(session, store, claim_id, version, data, facts, actor)
        if printed is not None:
            run.printed.append(printed)
    return run


def _store_and_send(
    session: Session,
    store: DocumentStore,
    claim_id: int,
    version: int,
    data: bytes,
    facts: Cms1500Facts | Ub04Facts,
    actor: str,
) -> PrintedClaim | None:
    claim = session.exec(select(Claim).where(Claim.id == claim_id).with_for_update()).first()
    if claim is None or claim.status != "queued" or claim.version != version:
        return None  # printed by another run, or corrected meanwhile: the next run sees it
    form = UB04_KIND if isinstance(facts, Ub04Facts) else DOCUMENT_KIND
    document_id = store_document(
        session, store, data, kind=form, content_type=PDF, claim_id=claim_id
    )
    append_audit_event(
        session,
        actor=actor,
        action="claim.printed",
        entity_type="claim",
        entity_id=claim_id,
        claim_id=claim_id,
        details={
            "form": form,
            "version": version,
            "document_id": document_id,
            "pages": facts.page_count,
            "total_charge": str(facts.total_charge.quantize(Decimal("0.01"))),
        },
    )
    set_claim_status(
        session=session, claim=claim, status="sent", actor=actor, reason=f"paper:{document_id}"
    )
    return PrintedClaim(claim_id, version, document_id, facts.page_count)
