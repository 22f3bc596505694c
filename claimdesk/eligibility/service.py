"""Eligibility before the claim goes: 270 out, 271 back, routed.

Active coverage that matches moves the claim on; inactive, terminated, an
unknown member, another payer primary or a demographic mismatch puts the claim
on hold with a review task. Checked ahead of a scheduled visit (no claim yet),
the same answers make a ``visit_eligibility`` task per appointment (``visits.py``).
A payer that cannot be reached leaves the claim where it was, to be asked again
on the next run.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.claims.wire_audit import record_transliterated
from claimdesk.claims.wire_data import eligibility_inquiry, envelope_for
from claimdesk.claims.wire_text import WireDataError, WireText, section
from claimdesk.db import session_scope
from claimdesk.eligibility.benefits import stored_benefits, summarize
from claimdesk.eligibility.visits import open_visit_tasks
from claimdesk.gateway.errors import PayerError
from claimdesk.gateway.factory import client_for
from claimdesk.gateway.fan_out import fan_out
from claimdesk.review.tasks import ensure_review_task
from claimdesk.settings import Settings
from claimdesk.stored_documents import document_id_for
from claimdesk.x12 import Eligibility271, X12Error, iter_transactions, write_270
from claimdesk.x12.claim_data import ControlNumbers, EligibilityBatch270
from models import (
    Appointment,
    Claim,
    Coverage,
    EligibilityCheck,
    Patient,
    Payer,
    allocate_control_numbers,
    append_audit_event,
)
from models.types import utcnow

ACTOR = "system:eligibility"
log = logging.getLogger(__name__)
# AAA03 reason codes: 75 subscriber not found; 71-73 birth date / name do not match.
_UNKNOWN_MEMBER = {"75", "67", "76"}
_MISMATCH = {"71", "72", "73", "58"}


@dataclass(frozen=True)
class CoverageCheck:
    coverage_id: int
    claim_ids: tuple[int, ...]
    service_date: date
    # Scheduled visits this check is for, when no draft claim is.
    appointment_ids: tuple[int, ...] = ()


@dataclass
class EligibilityRun:
    checked: int = 0
    active: int = 0
    held: int = 0
    payer_errors: int = 0
    # Coverages whose rows cannot make a 270 (counted in ``held`` too).
    unbuildable: int = 0
    review_task_ids: list[int] = field(default_factory=list)


def select_coverages_to_check(
    session: Session,
    *,
    today: date,
    horizon_days: int,
    recheck_days: int,
    limit: int,
    payer_id: int | None = None,
) -> list[CoverageCheck]:
    """Draft claims whose coverage was not verified recently, and upcoming appointments."""
    stale = utcnow() - timedelta(days=recheck_days)
    claims = session.exec(
        select(col(Claim.id), col(Claim.coverage_id), col(Claim.service_from))
        .join(Coverage, col(Coverage.id) == col(Claim.coverage_id))
        .where(Claim.status == "draft", *([Coverage.payer_id == payer_id] if payer_id else []))
        .order_by(col(Claim.id))
        .limit(limit)
    ).all()
    verified_recently = {
        row.id
        for row in session.exec(
            select(Coverage).where(
                col(Coverage.id).in_({c[1] for c in claims}), col(Coverage.verified_at) >= stale
            )
        ).all()
    }
    by_coverage: dict[int, list[tuple[int, date]]] = {}
    for claim_id, coverage_id, service_from in claims:
        by_coverage.setdefault(coverage_id, []).append((claim_id or 0, service_from))
    checks = [
        CoverageCheck(coverage_id, tuple(c for c, _ in rows), min(d for _, d in rows))
        for coverage_id, rows in by_coverage.items()
    ]
    # Verified recently: such claims move on without another 270.
    fresh = [c for c in checks if c.coverage_id in verified_recently]
    checks = [c for c in checks if c.coverage_id not in verified_recently]
    for check in fresh:
        for claim in session.exec(select(Claim).where(col(Claim.id).in_(check.claim_ids))).all():
            set_claim_status(
                session=session,
                claim=claim,
                status="ready",
                actor=ACTOR,
                reason="verified_recently",
            )
    horizon = today + timedelta(days=horizon_days)
    seen = {c.coverage_id for c in checks}
    appointments = session.exec(
        select(col(Coverage.id), col(Appointment.scheduled_at), col(Appointment.id))
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .join(Coverage, col(Coverage.patient_id) == col(Patient.id))
        .where(
            Coverage.coverage_order == 1,
            *([Coverage.payer_id == payer_id] if payer_id else []),
            col(Appointment.status) == "scheduled",
            or_(col(Coverage.verified_at).is_(None), col(Coverage.verified_at) < stale),
        )
        .order_by(col(Appointment.scheduled_at))
    ).all()
    visits: dict[int, list[tuple[date, int]]] = {}
    for appointment_coverage, when, appointment_id in appointments:
        if appointment_coverage is None or appointment_coverage in seen:
            continue
        if today <= when.date() <= horizon:
            visits.setdefault(appointment_coverage, []).append((when.date(), appointment_id or 0))
    for coverage_id, rows in visits.items():
        # One 270 per coverage, for its first visit; a task for each visit if it fails.
        checks.append(CoverageCheck(coverage_id, (), rows[0][0], tuple(a for _, a in rows)))
    return checks[:limit]


def run_eligibility(
    engine: Engine, settings: Settings, checks: list[CoverageCheck], *, today: date
) -> EligibilityRun:
    """Ask each payer about its coverages (real time, bounded concurrency) and route."""
    run = EligibilityRun()
    with Session(engine) as session:
        payer_of = {
            c.coverage_id: session.get(Coverage, c.coverage_id).payer_id  # type: ignore[union-attr]
            for c in checks
        }
        payers = {p.id: p for p in session.exec(select(Payer)).all()}
    for payer_id in sorted(set(payer_of.values())):
        payer = payers[payer_id]
        mine = [c for c in checks if payer_of[c.coverage_id] == payer_id]
        client = client_for(payer, settings=settings, engine=engine)

        def ask(item: tuple[CoverageCheck, bytes], client: Any = client) -> bytes:
            return bytes(client.eligibility(item[1], claim_ids=item[0].claim_ids))

        # One coverage whose rows cannot make a 270 is held on its own; the others are asked.
        built: list[tuple[CoverageCheck, bytes]] = []
        for check in mine:
            try:
                built.append((check, _build_270(engine, settings, payer, check)))
            except WireDataError as exc:
                run.held += 1
                run.unbuildable += 1
                run.review_task_ids.extend(_not_built(engine, check, exc, payer_id=payer_id))
        try:
            answers = fan_out(ask, built, max_concurrency=payer.max_concurrency)
        finally:
            client.close()
        for (check, request), answer in zip(built, answers, strict=True):
            run.checked += 1
            if isinstance(answer, PayerError):
                run.payer_errors += 1
                _record(engine, check, request, None, "error", [], [])
                continue
            outcome, benefits, rejections = classify_271(answer, engine, check)
            task_ids = _record(
                engine,
                check,
                request,
                answer,
                outcome,
                benefits,
                rejections,
                payer_id=payer_id,
                today=today,
            )
            if outcome == "active":
                run.active += 1
            else:
                run.held += 1
                run.review_task_ids.extend(task_ids)
    return run


def _build_270(engine: Engine, settings: Settings, payer: Payer, check: CoverageCheck) -> bytes:
    with session_scope(engine) as session:
        coverage = session.get(Coverage, check.coverage_id)
        assert coverage is not None
        isa, gs, st = (
            allocate_control_numbers(session, name)[0] for name in ("isa13", "gs06", "st02")
        )
        text = WireText()
        inquiry = eligibility_inquiry(
            session,
            settings=settings,
            coverage=coverage,
            trace_number=uuid.uuid4().hex[:20].upper(),
            service_date=check.service_date,
            text=text,
        )
        batch = section(
            "interchange",
            lambda: EligibilityBatch270(
                envelope=envelope_for(settings, payer),
                control=ControlNumbers(interchange=isa, group=gs, transaction_set=st),
                created_at=utcnow().replace(second=0, microsecond=0, tzinfo=None),
                reference_id=f"ELIG{check.coverage_id}",
                inquiries=(inquiry,),
            ),
        )
        claims = session.exec(
            select(col(Claim.id), col(Claim.version)).where(col(Claim.id).in_(check.claim_ids))
        ).all()
        record_transliterated(
            session,
            actor=ACTOR,
            transaction="270",
            fields=text.transliterated,
            claims=[(claim_id or 0, version) for claim_id, version in claims],
            coverage_id=check.coverage_id,
        )
    return write_270(batch)


def _not_built(
    engine: Engine, check: CoverageCheck, error: WireDataError, *, payer_id: int
) -> list[int]:
    """Hold the check's draft claims, each with an eligibility task naming the field and rule.

    A check ahead of an appointment has no claim to hold: it is skipped, audited and
    logged, and asked again on the next run.
    """
    reason = {"outcome": "unbuildable", "field": error.field, "rule": error.rule}
    log.warning("coverage %s: no 270 built (%s %s)", check.coverage_id, error.field, error.rule)
    task_ids: list[int] = []
    with session_scope(engine) as session:
        append_audit_event(
            session,
            actor=ACTOR,
            action="eligibility.not_built",
            entity_type="coverage",
            entity_id=check.coverage_id,
            details={**reason, "claim_ids": list(check.claim_ids)},
        )
        for claim in session.exec(select(Claim).where(col(Claim.id).in_(check.claim_ids))).all():
            if claim.status != "draft":
                continue
            set_claim_status(
                session=session,
                claim=claim,
                status="eligibility_hold",
                actor=ACTOR,
                reason="inquiry_unbuildable",
            )
            task = ensure_review_task(
                session=session,
                kind="eligibility",
                claim_id=claim.id,
                claim_version=claim.version,
                payer_id=payer_id,
                priority=60,
                context={**reason, "rejection_codes": []},
            )
            if task.status == "open" and task.flow_run_id is None and task.id is not None:
                task_ids.append(task.id)
    return task_ids


def classify_271(
    data: bytes, engine: Engine, check: CoverageCheck
) -> tuple[str, list[dict[str, Any]], list[str]]:
    """The outcome of one 271: active, inactive, terminated, unknown_member, mismatch, ..."""
    try:
        answers = [p.transaction for p in iter_transactions(data)]
    except X12Error:
        return "error", [], []
    replies = [a for a in answers if isinstance(a, Eligibility271)]
    if not replies:
        return "error", [], []
    reply = replies[0]
    rejections = [r.reason_code for r in reply.rejections]
    benefits = stored_benefits(reply)
    if set(rejections) & _UNKNOWN_MEMBER:
        return "unknown_member", benefits, rejections
    if set(rejections) & _MISMATCH:
        return "mismatch", benefits, rejections
    if rejections:
        return "rejected", benefits, rejections
    codes = {b.info_code for b in reply.benefits}
    if "R" in codes:
        return "other_primary", benefits, rejections
    if codes & {"1", "2", "3", "4", "5"}:
        if _birth_date_differs(engine, check, reply):
            return "mismatch", benefits, rejections
        return "active", benefits, rejections
    ended = any(p.qualifier in ("347", "357") for b in reply.benefits for p in b.periods)
    if "6" in codes or "7" in codes or "8" in codes:
        return ("terminated" if ended else "inactive"), benefits, rejections
    return "inactive", benefits, rejections


def _birth_date_differs(engine: Engine, check: CoverageCheck, reply: Eligibility271) -> bool:
    member = reply.dependent or reply.subscriber
    if member is None or member.birth_date is None:
        return False
    with Session(engine) as session:
        coverage = session.get(Coverage, check.coverage_id)
        assert coverage is not None
        patient = session.get(Patient, coverage.patient_id)
        assert patient is not None
        expected = (
            patient.birth_date
            if (reply.dependent or coverage.relationship == "self")
            else coverage.subscriber_birth_date
        )
    return expected is not None and member.birth_date != expected


def _record(
    engine: Engine,
    check: CoverageCheck,
    request: bytes,
    response: bytes | None,
    outcome: str,
    benefits: list[dict[str, Any]],
    rejections: list[str],
    *,
    payer_id: int | None = None,
    today: date | None = None,
) -> list[int]:
    """Store the check and route its claims, in one transaction; the new review task ids."""
    task_ids: list[int] = []
    with session_scope(engine) as session:
        eligibility = EligibilityCheck(
            coverage_id=check.coverage_id,
            claim_id=check.claim_ids[0] if check.claim_ids else None,
            responded_at=utcnow() if response is not None else None,
            outcome=outcome,
            request_document_id=document_id_for(session, request),
            response_document_id=document_id_for(session, response),
            benefits=benefits,
            rejection_codes=rejections,
        )
        session.add(eligibility)
        session.flush()
        if outcome == "error":
            return []
        coverage = session.get(Coverage, check.coverage_id)
        assert coverage is not None
        if outcome == "active":
            coverage.verified_at = utcnow()
            session.add(coverage)
        elif check.appointment_ids:
            task_ids += open_visit_tasks(
                session,
                coverage=coverage,
                appointment_ids=check.appointment_ids,
                outcome=outcome,
                rejections=rejections,
                other_payer=summarize(benefits).other_payer,
                eligibility_check_id=eligibility.id,
                payer_id=payer_id,
            )
        for claim in session.exec(select(Claim).where(col(Claim.id).in_(check.claim_ids))).all():
            if claim.status != "draft":
                continue
            if outcome == "active":
                set_claim_status(
                    session=session, claim=claim, status="ready", actor=ACTOR, reason="eligible"
                )
                continue
            set_claim_status(
                session=session, claim=claim, status="eligibility_hold", actor=ACTOR, reason=outcome
            )
            task = ensure_review_task(
                session=session,
                kind="eligibility",
                claim_id=claim.id,
                claim_version=claim.version,
                payer_id=payer_id,
                priority=60,
                context={
                    "outcome": outcome,
                    "eligibility_check_id": eligibility.id,
                    "rejection_codes": rejections,
                },
            )
            if task.status == "open" and task.flow_run_id is None and task.id is not None:
                task_ids.append(task.id)
    return task_ids


def payer_ids(session: Session) -> list[int]:
    """Every payer's id, in order: the eligibility run checks each within its own limit."""
    return [p for p in session.exec(select(col(Payer.id)).order_by(col(Payer.id))).all() if p]
