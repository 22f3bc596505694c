"""Claim status polling: 276 out, 277 back, the claim updated, stuck claims to people.

A submitted claim with no final adjudication is asked about again once its payer's
``status_poll_interval_hours`` have passed on claimdesk's clock (the demo's fast
clock makes that minutes). Each claim gets its own real-time 276, sent with the
payer's bounded concurrency; every 276/277 is kept as a document and each answer is
a ``StatusCheck`` row with the STC codes. What the answer means for the claim:

- A0-A2 (received, accepted): a sent claim is ``accepted``;
- P0-P5 (pending): the claim is ``pending``;
- F* (finalized): recorded; the 835 posts the money and moves the claim; a claim
  finalized ``REMITTANCE_WAIT_DAYS`` ago with no 835 posted is a ``status`` review
  task (the remittance went missing: ask the payer to send it again);
- R* (the payer asks for more information), A3/A4/A6-A8/D0 (rejected, not on
  file): a ``status`` review task;
- accepted or pending for longer than ``pending_review_days`` (counted from the
  payer's first status date): a ``status`` review task;
- E* (the payer could not answer) or no answer at all: nothing changes; the
  claim is asked again on the next run.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.claims.wire_audit import record_transliterated
from claimdesk.claims.wire_data import dependent_for, envelope_for, subscriber_for
from claimdesk.claims.wire_parties import cut
from claimdesk.claims.wire_text import WireDataError, WireText, section
from claimdesk.db import session_scope
from claimdesk.gateway.errors import PayerError
from claimdesk.gateway.factory import client_for
from claimdesk.gateway.fan_out import fan_out
from claimdesk.review.tasks import OPEN_STATUSES, ensure_review_task
from claimdesk.settings import Settings
from claimdesk.stored_documents import document_id_for
from claimdesk.x12 import ClaimStatus277, X12Error, iter_transactions, write_276
from claimdesk.x12 import claim_data as cd
from models import (
    Claim,
    Coverage,
    Patient,
    Payer,
    Practice,
    Provider,
    ReviewTask,
    StatusCheck,
    allocate_control_numbers,
    append_audit_event,
)
from models.types import utcnow

ACTOR = "system:status"
log = logging.getLogger(__name__)
POLLED_STATUSES = ("sent", "accepted", "pending")
# A claim accepted or pending this long (days since the payer first reported it) needs a person.
PENDING_REVIEW_DAYS = 30
# A claim the payer called finalized this long ago, with no 835 posted: the money went
# missing in flight (a pickup that failed after the payer handed the file out).
REMITTANCE_WAIT_DAYS = 14
_ACCEPTED = {"A0", "A1", "A2"}
_REJECTED = {"A3", "A4", "A6", "A7", "A8", "D0"}


@dataclass(frozen=True)
class StatusAnswer:
    """The claim-level STC of a 277 that matters (the first one), as codes."""

    category: str
    status: str
    entity: str
    effective: date | None
    paid: Decimal | None
    payer_claim_number: str


@dataclass
class StatusRun:
    asked: int = 0
    accepted: int = 0
    pending: int = 0
    finalized: int = 0
    needs_review: int = 0
    payer_errors: int = 0
    review_task_ids: list[int] = field(default_factory=list)


def claims_due(
    session: Session,
    *,
    payer: Payer,
    now: datetime,
    limit: int = 1000,
    interval_hours: int | None = None,
) -> list[int]:
    """Ids of the payer's unadjudicated claims not asked about within its poll interval
    (``interval_hours``: the one measured from its adjudication lag, by
    ``claimdesk.learning.behaviour``; else the payer's configured one).

    A payer billed on paper has no 276 channel: its claims are followed by hand.
    """
    if payer.connectivity.get("submission_channel") == "paper":
        return []
    last_check = (
        select(StatusCheck.claim_id, func.max(StatusCheck.checked_at).label("last"))
        .group_by(col(StatusCheck.claim_id))
        .subquery()
    )
    since = now - timedelta(hours=interval_hours or payer.status_poll_interval_hours)
    rows = session.exec(
        select(Claim.id)
        .outerjoin(last_check, last_check.c.claim_id == Claim.id)
        .where(
            Claim.payer_id == payer.id,
            col(Claim.status).in_(POLLED_STATUSES),
            (last_check.c.last.is_(None)) | (last_check.c.last <= since),
        )
        .order_by(col(Claim.id))
        .limit(limit)
    ).all()
    return [claim_id for claim_id in rows if claim_id is not None]


def poll_claims(
    engine: Engine,
    settings: Settings,
    payer_id: int,
    claim_ids: list[int],
    *,
    now: datetime,
    today: date,
) -> StatusRun:
    """Ask the payer about each claim (real time, bounded concurrency) and record the answers."""
    run = StatusRun()
    if not claim_ids:
        return run
    with Session(engine) as session:
        payer = session.get(Payer, payer_id)
        assert payer is not None
    # A claim whose rows cannot make a 276 gets a status task of its own; the rest are asked.
    built: list[tuple[int, bytes]] = []
    for claim_id in claim_ids:
        try:
            built.append((claim_id, _build_276(engine, settings, payer, claim_id)))
        except WireDataError as exc:
            task_id = _not_built(engine, claim_id, exc, today=today)
            run.needs_review += 1
            if task_id is not None:
                run.review_task_ids.append(task_id)
    client = client_for(payer, settings=settings, engine=engine)
    try:
        answers = fan_out(
            lambda item: bytes(client.status(item[1], claim_ids=[item[0]])),
            built,
            max_concurrency=payer.max_concurrency,
        )
    finally:
        client.close()
    for (claim_id, request), answer in zip(built, answers, strict=True):
        run.asked += 1
        if isinstance(answer, PayerError):
            run.payer_errors += 1
            continue
        _record(engine, claim_id, request, answer, run, now=now, today=today)
    return run


def read_277(data: bytes) -> StatusAnswer | None:
    """The claim's first STC in a 277 answering one inquiry; None if there is none."""
    try:
        sets = [p.transaction for p in iter_transactions(data)]
    except X12Error:
        return None
    for transaction in sets:
        if not isinstance(transaction, ClaimStatus277):
            continue
        for claim in transaction.claims:
            for stc in claim.statuses:
                if not stc.codes:
                    continue
                code = stc.codes[0]
                return StatusAnswer(
                    category=code.category[:3],
                    status=code.status[:5],
                    entity=code.entity[:3],
                    effective=stc.date,
                    paid=stc.paid,
                    payer_claim_number=claim.payer_claim_control_number[:50],
                )
    return None


def _build_276(engine: Engine, settings: Settings, payer: Payer, claim_id: int) -> bytes:
    with session_scope(engine) as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        coverage = session.get(Coverage, claim.coverage_id)
        patient = session.get(Patient, claim.patient_id)
        practice = session.get(Practice, claim.practice_id)
        provider = session.get(Provider, claim.billing_provider_id)
        assert coverage and patient and practice and provider
        isa, gs, st = (
            allocate_control_numbers(session, name)[0] for name in ("isa13", "gs06", "st02")
        )
        text = WireText()
        practice_name = cut(text("practice.name", practice.name), 60)
        source = cd.PayerRef(name=cut(text("payer.name", payer.name), 60), payer_id=payer.payer_id)
        subscriber = subscriber_for(coverage, patient, payer, text)
        dependent = dependent_for(coverage, patient, text)
        payer_claim = text.optional("claim.payer_claim_number", claim.payer_claim_number)
        pcn = cut(text("claim.patient_control_number", claim.patient_control_number), 20)
        batch = section(
            "inquiry",
            lambda: cd.StatusBatch276(
                envelope=envelope_for(settings, payer),
                control=cd.ControlNumbers(interchange=isa, group=gs, transaction_set=st),
                created_at=utcnow().replace(second=0, microsecond=0, tzinfo=None),
                reference_id=f"STAT{claim.id}",
                inquiries=(
                    cd.StatusInquiry(
                        information_source=source,
                        information_receiver=cd.Receiver(
                            name=practice_name, identifier=practice.tin
                        ),
                        service_provider=cd.Provider(
                            entity_type="2", last_name=practice_name, npi=provider.npi
                        ),
                        subscriber=subscriber,
                        dependent=dependent,
                        trace_number=f"S{claim.id}V{claim.version}{uuid.uuid4().hex[:8].upper()}",
                        payer_claim_number=payer_claim,
                        patient_control_number=pcn,
                        total_charge=claim.total_charge,
                        service_from=claim.service_from,
                        service_through=claim.service_to,
                    ),
                ),
            ),
        )
        record_transliterated(
            session,
            actor=ACTOR,
            transaction="276",
            fields=text.transliterated,
            claims=[(claim_id, claim.version)],
            once=True,  # asked again on every poll: once per claim version is enough
        )
    return write_276(batch)


def _not_built(engine: Engine, claim_id: int, error: WireDataError, *, today: date) -> int | None:
    """A status task naming the field and rule that keep the claim's 276 from being built."""
    reason = {"reason": "inquiry_unbuildable", "field": error.field, "rule": error.rule}
    log.warning("claim %s: no 276 built (%s %s)", claim_id, error.field, error.rule)
    with session_scope(engine) as session:
        claim = session.get(Claim, claim_id)
        if claim is None:
            return None
        append_audit_event(
            session,
            actor=ACTOR,
            action="status.not_built",
            entity_type="claim",
            entity_id=claim_id,
            claim_id=claim_id,
            details=reason,
        )
        task = ensure_review_task(
            session=session,
            kind="status",
            claim_id=claim_id,
            claim_version=claim.version,
            payer_id=claim.payer_id,
            priority=45,
            context=reason,
        )
        if task.status != "open" or task.flow_run_id is not None:
            return None
        return task.id


def _record(
    engine: Engine,
    claim_id: int,
    request: bytes,
    response: bytes,
    run: StatusRun,
    *,
    now: datetime,
    today: date,
) -> None:
    with session_scope(engine) as session:
        record_answer(
            session,
            claim_id,
            read_277(response),
            run,
            now=now,
            today=today,
            request_document_id=document_id_for(session, request),
            response_document_id=document_id_for(session, response),
        )


def record_answer(
    session: Session,
    claim_id: int,
    answer: StatusAnswer | None,
    run: StatusRun,
    *,
    now: datetime,
    today: date,
    request_document_id: int | None = None,
    response_document_id: int | None = None,
) -> StatusCheck:
    """Keep one 277 answer and act on it (see the module docstring); flushes only."""
    claim = session.get(Claim, claim_id)
    assert claim is not None
    check = StatusCheck(
        claim_id=claim_id,
        checked_at=now,
        category_code=answer.category if answer else None,
        status_code=answer.status if answer else None,
        entity_code=(answer.entity or None) if answer else None,
        effective_date=answer.effective if answer else None,
        amount_paid=answer.paid if answer else None,
        payer_claim_number=(answer.payer_claim_number or None) if answer else None,
        request_document_id=request_document_id,
        response_document_id=response_document_id,
    )
    session.add(check)
    session.flush()
    if answer is None or answer.category.startswith("E"):
        run.payer_errors += 1
        return check
    if answer.payer_claim_number and not claim.payer_claim_number:
        claim.payer_claim_number = answer.payer_claim_number
        session.add(claim)
    reason = _apply(session, claim, answer, run)
    if reason is None and claim.status in POLLED_STATUSES:
        if answer.category.startswith("F"):
            since = _first_status_date(session, claim_id, "F")
            if since is not None and (today - since).days > REMITTANCE_WAIT_DAYS:
                reason = "remittance_missing"
        else:
            since = _pending_since(session, claim_id)
            if since is not None and (today - since).days > PENDING_REVIEW_DAYS:
                reason = "pending_too_long"
    if reason is not None:
        task_id = _status_task(session, claim, answer, check, reason, today)
        if task_id is not None:
            run.needs_review += 1
            run.review_task_ids.append(task_id)
    return check


def _apply(session: Session, claim: Claim, answer: StatusAnswer, run: StatusRun) -> str | None:
    """Move the claim as the answer says; the reason it needs a person, if it does."""
    category = answer.category
    if category in _ACCEPTED:
        run.accepted += 1
        if claim.status == "sent":
            _move(session, claim, "accepted", f"277 {category}:{answer.status}")
        return None
    if category.startswith("P"):
        run.pending += 1
        if claim.status in ("sent", "accepted"):
            _move(session, claim, "pending", f"277 {category}:{answer.status}")
        return None
    if category.startswith("F"):
        run.finalized += 1
        return None
    if category.startswith("R"):
        return "information_requested"
    if category in _REJECTED:
        return "not_on_file" if category in ("A4", "D0") else "rejected_by_payer"
    return None


def _move(session: Session, claim: Claim, status: str, reason: str) -> None:
    set_claim_status(session=session, claim=claim, status=status, actor=ACTOR, reason=reason)


def _pending_since(session: Session, claim_id: int) -> date | None:
    """The payer's first status date for the claim (its own calendar, STC02)."""
    return session.exec(
        select(func.min(StatusCheck.effective_date)).where(
            StatusCheck.claim_id == claim_id,
            col(StatusCheck.category_code).in_(sorted(_ACCEPTED | {"P0", "P1", "P2", "P3", "P4"})),
        )
    ).first()


def _first_status_date(session: Session, claim_id: int, category_prefix: str) -> date | None:
    return session.exec(
        select(func.min(StatusCheck.effective_date)).where(
            StatusCheck.claim_id == claim_id,
            col(StatusCheck.category_code).startswith(category_prefix),
        )
    ).first()


def _status_task(
    session: Session,
    claim: Claim,
    answer: StatusAnswer,
    check: StatusCheck,
    reason: str,
    today: date,
) -> int | None:
    """A new status task, or a new round once the follow-up date a person set passed."""
    tasks = session.exec(
        select(ReviewTask)
        .where(
            ReviewTask.kind == "status",
            ReviewTask.claim_id == claim.id,
            ReviewTask.claim_version == claim.version,
        )
        .order_by(col(ReviewTask.step).desc())
    ).all()
    if tasks and tasks[0].status in OPEN_STATUSES:
        return None  # already with a person (its run was started when it was opened)
    if tasks:
        follow_up = tasks[0].context.get("follow_up_on")
        if follow_up and date.fromisoformat(follow_up) > today:
            return None  # a person answered; wait until the date they set
    task = ensure_review_task(
        session=session,
        kind="status",
        claim_id=claim.id,
        claim_version=claim.version,
        payer_id=claim.payer_id,
        priority=55 if reason == "information_requested" else 45,
        context={
            "reason": reason,
            "status_check_id": check.id,
            "category_code": answer.category,
            "status_code": answer.status,
            "entity_code": answer.entity,
        },
    )
    if task.status != "open" or task.flow_run_id is not None:
        return None
    return task.id
