"""Posting 835 remittances: check, match, post, route; exceptions go to people.

``post_remittance`` takes an 835 file (or parsed sets) already kept as a
document, and for each 835 set:

1. recognises a set it has seen (same payer, trace number and content hash):
   skipped; the same trace with *different* content is an exception task;
2. refuses to post an unbalanced (or unreadable) set: an exception task;
3. matches each CLP to a claim (CLP01 + payer), each SVC to a claim line
   (REF*6R, then procedure + charge), and records payments, CAS adjustments
   and remark codes; an unmatched CLP is kept unposted in an exception task;
4. posts the money to the ledger (``ledger_service``): payments, contractual
   write-offs (CO-45, CO-253 ...), patient responsibility (PR-1/2/3) to the
   patient's balance; OA-23 is the prior payer's and posts nothing;
5. creates ``Denial`` rows (CARC routing, ``claimdesk.denials``) and closes
   true duplicates (CO-18 on a claim already paid) on the spot;
6. moves the claim along the state machine (paid / partially_paid / denied;
   a reversal, CLP02 22, reopens it to pending);
7. bills a secondary payer (a new claim with ``coverage_order=2``) when
   patient responsibility is left and the patient has one, unless the 835 says
   the claim crossed over (CLP02 19-21 or NM1*TT): that is recorded instead;
8. flags underpayments (allowed < fee schedule × units) in a review task;
9. keeps PLB adjustments in the provider ledger, linked through PLB03-2.

Everything is idempotent by database constraint: the remittance row is unique
on payer + trace + content hash, ledger entries on their source key.
Exception tasks are ``kind="remittance"`` with ids and codes only; a task
about a whole file has no claim and carries the remittance id as its ``step``
(one task per file); an underpayment task is the claim's, with the remittance
id as its ``step`` (one per claim and remittance).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from claimdesk.denials import Route, RoutingTable, load_routing_table
from claimdesk.errors import InvalidTransition, NotFound
from claimdesk.services.ledger_service import ZERO, account_claim_id, ensure_charge, post_entry
from claimdesk.services.review_service import ensure_review_task
from claimdesk.x12 import Remittance835, SegmentReader, X12Error, iter_transactions
from claimdesk.x12.models import Adjustment as X12Adjustment
from claimdesk.x12.models import ClaimPayment as X12ClaimPayment
from claimdesk.x12.models import ServicePayment as X12ServicePayment
from models import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimPayment,
    Coverage,
    Denial,
    Diagnosis,
    FeeSchedule,
    Payer,
    RemarkCode,
    Remittance,
    ServicePayment,
    append_audit_event,
)
from models.claims import ClaimBase
from models.crud import create_claim, set_claim_status
from models.ledger import ClaimCrossover, ProviderLedgerEntry
from models.types import utcnow

Outcome = Literal["posted", "duplicate", "exception"]


@dataclass(frozen=True)
class SetOutcome:
    """What happened to one 835 set (ids and codes only: safe for Prefect)."""

    remittance_id: int
    outcome: Outcome
    claim_ids: tuple[int, ...] = ()
    denial_ids: tuple[int, ...] = ()  # open denials: one review run each
    closed_denial_ids: tuple[int, ...] = ()  # true duplicates, closed automatically
    task_ids: tuple[int, ...] = ()  # remittance exception tasks
    secondary_claim_ids: tuple[int, ...] = ()
    crossover_claim_ids: tuple[int, ...] = ()
    provider_ledger_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class PostingReport:
    document_id: int | None
    sets: tuple[SetOutcome, ...]

    def _all(self, name: str) -> tuple[int, ...]:
        return tuple(i for s in self.sets for i in getattr(s, name))

    @property
    def remittance_ids(self) -> tuple[int, ...]:
        return tuple(s.remittance_id for s in self.sets)

    @property
    def denial_ids(self) -> tuple[int, ...]:
        return self._all("denial_ids")

    @property
    def task_ids(self) -> tuple[int, ...]:
        return self._all("task_ids")

    @property
    def claim_ids(self) -> tuple[int, ...]:
        return self._all("claim_ids")

    @property
    def secondary_claim_ids(self) -> tuple[int, ...]:
        return self._all("secondary_claim_ids")

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return tuple(s.outcome for s in self.sets)


def post_remittance(
    session: Session,
    *,
    document_bytes_or_parsed: bytes | Remittance835 | Sequence[Remittance835],
    payer_id: int,
    document_id: int | None,
    routing: RoutingTable | None = None,
    actor: str = "system:remittance",
) -> PostingReport:
    """Post every 835 set of a document; see the module docstring. Flushes only."""
    payer = session.get(Payer, payer_id)
    if payer is None:
        raise NotFound(f"no payer {payer_id}")
    table = routing or load_routing_table()
    crossovers: dict[str, str] = {}
    source = document_bytes_or_parsed
    if isinstance(source, bytes):
        try:
            sets = [
                parsed.transaction
                for parsed in iter_transactions(source)
                if isinstance(parsed.transaction, Remittance835)
            ]
            crossovers = _crossover_carriers(source)
        except X12Error as exc:
            return PostingReport(
                document_id, (_unreadable(session, payer, source, document_id, exc),)
            )
        if not sets:
            return PostingReport(
                document_id, (_unreadable(session, payer, source, document_id, None),)
            )
    elif isinstance(source, Remittance835):
        sets = [source]
    else:
        sets = list(source)
    outcomes = tuple(
        _post_set(session, table, payer, remittance, document_id, crossovers, actor)
        for remittance in sets
    )
    return PostingReport(document_id, outcomes)


def content_hash(remittance: Remittance835) -> str:
    """The set's content, without its envelope control number: a re-wrapped resend matches."""
    text = remittance.model_dump_json(exclude={"control_number"})
    return hashlib.sha256(text.encode()).hexdigest()


def _crossover_carriers(data: bytes) -> dict[str, str]:
    """CLP01 → NM1*TT NM109 for claims the payer says it forwarded (the reader skips NM1*TT)."""
    found: dict[str, str] = {}
    current = ""
    for _, elements in SegmentReader(data):
        if elements[0] == "CLP":
            current = elements[1] if len(elements) > 1 else ""
        elif elements[0] == "NM1" and len(elements) > 1 and elements[1] == "TT" and current:
            found[current] = elements[9] if len(elements) > 9 else ""
    return found


def _insert_remittance(session: Session, row: Remittance) -> Remittance | None:
    """Insert, or None when the unique key says this set is already known."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None
    return row


def _known(session: Session, payer_id: int | None, trace: str) -> list[Remittance]:
    return list(
        session.exec(
            select(Remittance)
            .where(Remittance.payer_id == payer_id, Remittance.trace_number == trace)
            .order_by(Remittance.id)  # type: ignore[arg-type]
        ).all()
    )


def _unreadable(
    session: Session, payer: Payer, data: bytes, document_id: int | None, exc: X12Error | None
) -> SetOutcome:
    digest = hashlib.sha256(data).hexdigest()
    trace = f"unreadable:{digest[:16]}"
    for known in _known(session, payer.id, trace):
        assert known.id is not None
        return SetOutcome(known.id, "duplicate")
    row = Remittance(
        payer_id=payer.id,
        trace_number=trace,
        payment_method="NON",
        amount=Decimal(0),
        sha256=digest,
        document_id=document_id,
        status="exception",
    )
    inserted = _insert_remittance(session, row)
    if inserted is None:
        known = _known(session, payer.id, trace)[0]
        assert known.id is not None
        return SetOutcome(known.id, "duplicate")
    extra: dict[str, Any] = {"x12_error": type(exc).__name__ if exc else "no_835_set"}
    if exc is not None:
        extra["segment_index"] = exc.segment_index
        extra["segment_id"] = exc.segment_id
    task_id = _file_task(session, row, ["unreadable"], extra)
    assert row.id is not None
    return SetOutcome(row.id, "exception", task_ids=(task_id,))


def _file_task(
    session: Session, remittance: Remittance, reasons: list[str], extra: dict[str, Any]
) -> int:
    task = ensure_review_task(
        session=session,
        kind="remittance",
        claim_id=None,
        claim_version=None,
        step=remittance.id or 1,  # a file-level task: one per remittance
        payer_id=remittance.payer_id,
        priority=80,
        context={
            "remittance_id": remittance.id,
            "document_id": remittance.document_id,
            "reasons": reasons,
            **extra,
        },
    )
    assert task.id is not None
    return task.id


def _post_set(
    session: Session,
    table: RoutingTable,
    payer: Payer,
    remittance: Remittance835,
    document_id: int | None,
    crossovers: dict[str, str],
    actor: str,
) -> SetOutcome:
    digest = content_hash(remittance)
    payment = remittance.payment
    trace = (payment.trace_number or f"no-trace:{digest[:16]}")[:50]
    known = _known(session, payer.id, trace)
    for row in known:
        if row.sha256 == digest:
            assert row.id is not None
            return SetOutcome(row.id, "duplicate")
    amount = payment.total if payment.credit_debit != "D" else -payment.total
    new = Remittance(
        payer_id=payer.id,
        trace_number=trace,
        payment_method=(payment.method or "NON")[:3],
        payment_date=payment.date,
        amount=amount,
        sha256=digest,
        document_id=document_id,
    )
    if _insert_remittance(session, new) is None:  # a concurrent poster won
        winner = next(r for r in _known(session, payer.id, trace) if r.sha256 == digest)
        assert winner.id is not None
        return SetOutcome(winner.id, "duplicate")
    assert new.id is not None
    if known:
        new.status = "exception"
        session.add(new)
        conflicting = [r.id for r in known]
        task_id = _file_task(
            session, new, ["trace_conflict"], {"conflicting_remittance_ids": conflicting}
        )
        return SetOutcome(new.id, "exception", task_ids=(task_id,))
    if not remittance.balanced:
        new.status = "exception"
        session.add(new)
        errors = remittance.balance_errors
        task_id = _file_task(
            session,
            new,
            ["unbalanced"],
            {
                "balance_rules": sorted({e.rule for e in errors}),
                "claim_indexes": sorted({e.claim_index for e in errors if e.claim_index}),
            },
        )
        return SetOutcome(new.id, "exception", task_ids=(task_id,))

    effective = payment.date or remittance.production_date or utcnow().date()
    posted: list[ClaimPosting] = []
    unmatched: list[int] = []
    for clp in remittance.claims:
        claim = _match_claim(session, payer, clp.patient_control_number)
        cp, allowed = _record_claim_payment(session, new, claim, clp)
        if claim is None:
            assert cp.id is not None
            unmatched.append(cp.id)
            continue
        posted.append(
            _post_claim(
                session,
                table=table,
                payer=payer,
                claim=claim,
                claim_payment=cp,
                clp=clp,
                effective=effective,
                crossover_carrier=crossovers.get(clp.patient_control_number),
                allowed_by_service=allowed,
                actor=actor,
            )
        )
    plb_ids = _post_provider_adjustments(session, new, remittance)
    tasks = [p.task_id for p in posted if p.task_id is not None]
    if unmatched:
        tasks.append(
            _file_task(session, new, ["unmatched_claims"], {"claim_payment_ids": unmatched})
        )
    new.status = "posted"
    new.posted_at = utcnow()
    session.add(new)
    append_audit_event(
        session,
        actor=actor,
        action="remittance.posted",
        entity_type="remittance",
        entity_id=new.id,
        details={"claims": len(posted), "unmatched": len(unmatched), "document_id": document_id},
    )
    session.flush()
    return SetOutcome(
        new.id,
        "posted",
        claim_ids=tuple(p.claim_id for p in posted),
        denial_ids=tuple(i for p in posted for i in p.denial_ids),
        closed_denial_ids=tuple(i for p in posted for i in p.closed_denial_ids),
        task_ids=tuple(dict.fromkeys(tasks)),
        secondary_claim_ids=tuple(p.secondary_claim_id for p in posted if p.secondary_claim_id),
        crossover_claim_ids=tuple(p.claim_id for p in posted if p.crossed_over),
        provider_ledger_ids=plb_ids,
    )


def _match_claim(session: Session, payer: Payer, patient_control_number: str) -> Claim | None:
    """CLP01 names our claim; it must be a claim billed to this payer."""
    candidates = session.exec(
        select(Claim).where(
            Claim.patient_control_number == patient_control_number, Claim.payer_id == payer.id
        )
    ).all()
    return candidates[0] if len(candidates) == 1 else None


def _post_provider_adjustments(
    session: Session, remittance: Remittance, parsed: Remittance835
) -> tuple[int, ...]:
    ids: list[int] = []
    for position, item in enumerate(parsed.provider_adjustments, start=1):
        linked_remittance = linked_claim = None
        if item.reference:
            other = session.exec(
                select(Remittance.id).where(
                    Remittance.payer_id == remittance.payer_id,
                    Remittance.trace_number == item.reference,
                    Remittance.id != remittance.id,
                )
            ).first()
            linked_remittance = other
            if other is None:
                linked_claim = session.exec(
                    select(Claim.id).where(
                        Claim.payer_id == remittance.payer_id,
                        (Claim.payer_claim_number == item.reference)
                        | (Claim.patient_control_number == item.reference),
                    )
                ).first()
        row = ProviderLedgerEntry(
            remittance_id=remittance.id or 0,
            payer_id=remittance.payer_id,
            position=position,
            provider_identifier=item.provider_id[:80],
            fiscal_period_date=item.fiscal_period_date,
            reason_code=item.reason[:5],
            reference=item.reference[:50],
            amount=item.amount,
            linked_remittance_id=linked_remittance,
            linked_claim_id=linked_claim,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        ids.append(row.id)
    return tuple(ids)


# --- one claim -------------------------------------------------------------------------

_PROCESSED = frozenset({"1", "2", "3", "19", "20", "21"})
_CROSSED_OVER = frozenset({"19", "20", "21"})
_REVERSAL = "22"
_DENIED = "4"


@dataclass(frozen=True)
class ClaimPosting:
    claim_id: int
    denial_ids: tuple[int, ...] = ()
    closed_denial_ids: tuple[int, ...] = ()
    task_id: int | None = None
    secondary_claim_id: int | None = None
    crossed_over: bool = False


@dataclass
class _Line:
    """An adjustment row with what routing needs."""

    row: Adjustment
    remarks: tuple[str, ...]
    service: ServicePayment | None
    route: Route | None = None


def _record_claim_payment(
    session: Session, remittance: Remittance, claim: Claim | None, clp: X12ClaimPayment
) -> tuple[ClaimPayment, dict[int, Decimal]]:
    """Keep the CLP loop as received (matched or not): CLP, SVC, CAS and remark rows.

    Returns the row and each service row's AMT*B6 allowed amount (not a column).
    """
    cp = ClaimPayment(
        remittance_id=remittance.id or 0,
        claim_id=claim.id if claim else None,
        patient_control_number=clp.patient_control_number[:38],
        status_code=clp.status_code[:2],
        charge=clp.charge,
        paid=clp.paid,
        patient_responsibility=clp.patient_responsibility or ZERO,
        payer_claim_number=clp.payer_claim_control_number[:50] or None,
    )
    session.add(cp)
    session.flush()
    assert cp.id is not None
    for item in clp.adjustments:
        session.add(_adjustment_row(cp.id, None, item))
    claim_remarks = [
        *(clp.outpatient.remarks if clp.outpatient else ()),
        *(clp.inpatient.remarks if clp.inpatient else ()),
    ]
    for code in claim_remarks:
        session.add(RemarkCode(claim_payment_id=cp.id, code=code[:10]))
    lines = _claim_lines(session, claim)
    used: set[int] = set()
    allowed: dict[int, Decimal] = {}
    for svc in clp.services:
        line = _match_line(lines, used, svc)
        row = ServicePayment(
            claim_payment_id=cp.id,
            claim_line_id=line.id if line else None,
            procedure_code=svc.procedure[:48],
            modifiers=list(svc.modifiers),
            charge=svc.charge,
            paid=svc.paid,
            units=svc.units,
            line_control_number=svc.line_control_number or None,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        if svc.allowed is not None:
            allowed[row.id] = svc.allowed
        for item in svc.adjustments:
            session.add(_adjustment_row(cp.id, row.id, item))
        for remark in svc.remarks:
            if remark.qualifier == "HE":
                session.add(
                    RemarkCode(
                        claim_payment_id=cp.id, service_payment_id=row.id, code=remark.code[:10]
                    )
                )
    session.flush()
    return cp, allowed


def _adjustment_row(cp_id: int, service_id: int | None, item: X12Adjustment) -> Adjustment:
    return Adjustment(
        claim_payment_id=cp_id,
        service_payment_id=service_id,
        group_code=item.group[:2],
        reason_code=item.reason[:5],
        amount=item.amount,
        quantity=item.quantity,
    )


def _claim_lines(session: Session, claim: Claim | None) -> list[ClaimLine]:
    if claim is None:
        return []
    return list(session.exec(select(ClaimLine).where(ClaimLine.claim_id == claim.id)).all())


def _match_line(lines: list[ClaimLine], used: set[int], svc: X12ServicePayment) -> ClaimLine | None:
    """REF*6R first; then the first unused line with the same procedure and charge."""
    if svc.line_control_number:
        for line in lines:
            if line.line_control_number == svc.line_control_number and line.id not in used:
                used.add(line.id or 0)
                return line
    for line in lines:
        if (
            line.id not in used
            and line.procedure_code == svc.procedure
            and line.charge == abs(svc.charge)
        ):
            used.add(line.id or 0)
            return line
    return None


def _post_claim(
    session: Session,
    *,
    table: RoutingTable,
    payer: Payer,
    claim: Claim,
    claim_payment: ClaimPayment,
    clp: X12ClaimPayment,
    effective: date,
    crossover_carrier: str | None,
    allowed_by_service: dict[int, Decimal],
    actor: str,
) -> ClaimPosting:
    assert claim.id is not None and claim_payment.id is not None
    cp = claim_payment
    reversal = clp.status_code == _REVERSAL
    account = account_claim_id(session, claim.id)
    ensure_charge(session=session, claim=claim, effective_date=claim.service_from)
    if not reversal and cp.payer_claim_number:
        claim.payer_claim_number = cp.payer_claim_number
        session.add(claim)
    lines = _adjustments(session, cp.id or 0, table, payer.kind)
    if not reversal and _is_true_duplicate(session, claim, cp, lines):
        closed = _create_denials(session, claim, cp, lines, effective, status="closed")
        append_audit_event(
            session,
            actor=actor,
            action="denial.duplicate_closed",
            entity_type="claim",
            entity_id=claim.id,
            claim_id=claim.id,
            details={"denial_ids": list(closed)},
        )
        return ClaimPosting(claim.id, closed_denial_ids=closed)
    links: dict[str, Any] = {
        "source_claim_id": claim.id,
        "remittance_id": cp.remittance_id,
        "claim_payment_id": cp.id,
    }
    if cp.paid:
        post_entry(
            session=session,
            claim_id=account,
            kind="payment",
            from_account="insurance",
            to_account="paid",
            amount=cp.paid,
            effective_date=effective,
            source_key=f"pay:{cp.id}",
            payer_id=payer.id,
            **links,
        )
    for line in lines:
        assert line.route is not None
        move = _LEDGER_MOVES.get(line.route.category)
        if line.route.category == "denial" and line.row.group_code == "PR":
            move = ("transfer", "insurance", "patient")  # the payer says the patient owes it
        if move is None:
            continue
        kind, source, target = move
        post_entry(
            session=session,
            claim_id=account,
            kind=kind,
            from_account=source,
            to_account=target,
            amount=line.row.amount,
            effective_date=effective,
            source_key=f"adj:{line.row.id}",
            payer_id=payer.id,
            group_code=line.row.group_code,
            reason_code=line.row.reason_code,
            adjustment_id=line.row.id,
            **links,
        )
    if reversal:
        move_claim(session, claim, "pending", actor, "835_reversal")
        return ClaimPosting(claim.id)

    denial_ids = _create_denials(session, claim, cp, lines, effective, status="open")
    open_denied = sum(
        (x.row.amount for x in lines if _is_denial(x) and x.row.group_code != "PR"), ZERO
    )
    if clp.status_code == _DENIED or (cp.paid == 0 and open_denied > 0):
        target = "denied"
    elif open_denied > 0:
        target = "partially_paid"
    else:
        target = "paid"
    move_claim(session, claim, target, actor, f"835_clp02_{clp.status_code}")
    task_id = _flag_underpayments(session, claim, cp, lines, payer, allowed_by_service)

    secondary_id: int | None = None
    crossed = clp.status_code in _CROSSED_OVER or crossover_carrier is not None
    left = cp.patient_responsibility
    if left > 0 and claim.coverage_order == 1 and clp.status_code in _PROCESSED:
        coverage = None if crossed else _next_coverage(session, claim)
        if crossed:
            _record_crossover(session, claim, cp, crossover_carrier)
        elif coverage is not None:
            secondary = create_secondary_claim(session, claim, coverage, actor=actor)
            secondary_id = secondary.id
        if crossed or coverage is not None:
            post_entry(
                session=session,
                claim_id=account,
                kind="transfer",
                from_account="patient",
                to_account="insurance",
                amount=left,
                effective_date=effective,
                source_key=f"cob:{cp.id}",
                payer_id=coverage.payer_id if coverage else None,
                **links,
            )
            if target == "paid":
                move_claim(session, claim, "billed_secondary", actor, "cob")
    return ClaimPosting(
        claim.id,
        denial_ids=denial_ids,
        task_id=task_id,
        secondary_claim_id=secondary_id,
        crossed_over=crossed and left > 0,
    )


# Ledger move per routing category; a denial stays open (in insurance) until decided.
_LEDGER_MOVES: dict[str, tuple[str, str, str] | None] = {
    "contractual": ("adjustment", "insurance", "written_off"),
    "patient": ("transfer", "insurance", "patient"),
    "prior_payer": None,  # OA-23: the prior payer's figures, already on our ledger
    "denial": None,
}


def _adjustments(session: Session, cp_id: int, table: RoutingTable, payer_kind: str) -> list[_Line]:
    rows = session.exec(select(Adjustment).where(Adjustment.claim_payment_id == cp_id)).all()
    remarks: dict[int | None, list[str]] = {}
    for remark in session.exec(select(RemarkCode).where(RemarkCode.claim_payment_id == cp_id)):
        remarks.setdefault(remark.service_payment_id, []).append(remark.code)
    services = {
        s.id: s
        for s in session.exec(
            select(ServicePayment).where(ServicePayment.claim_payment_id == cp_id)
        )
    }
    out = []
    for row in rows:
        codes = tuple(remarks.get(row.service_payment_id, [])) + tuple(
            remarks.get(None, []) if row.service_payment_id is not None else ()
        )
        route = table.route(row.group_code, row.reason_code, codes, payer_kind=payer_kind)
        out.append(_Line(row, codes, services.get(row.service_payment_id), route))
    return out


def _is_denial(line: _Line) -> bool:
    return line.route is not None and line.route.category == "denial" and line.row.amount > 0


def _is_true_duplicate(
    session: Session, claim: Claim, cp: ClaimPayment, lines: list[_Line]
) -> bool:
    """CO-18 on a claim another 835 already paid (and did not reverse)."""
    if not any(x.row.reason_code == "18" and x.row.group_code == "CO" for x in lines):
        return False
    earlier = session.exec(
        select(ClaimPayment).where(ClaimPayment.claim_id == claim.id, ClaimPayment.id != cp.id)
    ).all()
    return sum((e.paid for e in earlier), ZERO) > 0


def _create_denials(
    session: Session,
    claim: Claim,
    cp: ClaimPayment,
    lines: list[_Line],
    notice: date,
    *,
    status: str,
) -> tuple[int, ...]:
    """One ``Denial`` per group + CARC on the claim payment (lines summed, remarks joined)."""
    grouped: dict[tuple[str, str], list[_Line]] = {}
    for line in lines:
        if _is_denial(line):
            grouped.setdefault((line.row.group_code, line.row.reason_code), []).append(line)
    ids: list[int] = []
    for (group, reason), items in grouped.items():
        assert items[0].route is not None
        denial = Denial(
            claim_id=claim.id or 0,
            claim_payment_id=cp.id,
            group_code=group,
            reason_code=reason,
            remark_codes=sorted({r for x in items for r in x.remarks}),
            amount=sum((x.row.amount for x in items), ZERO),
            notice_date=notice,
            queue=items[0].route.queue[:30],
            status=status,
        )
        session.add(denial)
        session.flush()
        assert denial.id is not None
        ids.append(denial.id)
    return tuple(ids)


def move_claim(session: Session, claim: Claim, target: str, actor: str, reason: str) -> None:
    """Move along the state machine; a move it forbids is audited, never forced."""
    if claim.status == target:
        return
    try:
        set_claim_status(session=session, claim=claim, status=target, actor=actor, reason=reason)
    except InvalidTransition:
        append_audit_event(
            session,
            actor=actor,
            action="claim.status_not_moved",
            entity_type="claim",
            entity_id=claim.id,
            claim_id=claim.id,
            details={"from": claim.status, "to": target, "reason": reason},
        )


def expected_allowed(
    session: Session, *, payer_id: int, code: str, modifier: str | None, on: date
) -> Decimal | None:
    """The fee schedule's expected allowed amount for one unit (modifier-specific first)."""
    rows = session.exec(
        select(FeeSchedule).where(
            FeeSchedule.payer_id == payer_id,
            FeeSchedule.code == code,
            FeeSchedule.effective_from <= on,
        )
    ).all()
    current = [r for r in rows if r.effective_to is None or r.effective_to >= on]
    for wanted in (modifier, None):
        matching = [r for r in current if r.modifier == wanted]
        if matching:
            return max(matching, key=lambda r: r.effective_from).expected_allowed
    return None


def _flag_underpayments(
    session: Session,
    claim: Claim,
    cp: ClaimPayment,
    lines: list[_Line],
    payer: Payer,
    allowed_by_service: dict[int, Decimal],
) -> int | None:
    """A review task when a paid line's allowed amount is below fee schedule × units."""
    services = session.exec(
        select(ServicePayment).where(ServicePayment.claim_payment_id == cp.id)
    ).all()
    flagged: list[int] = []
    shortfall = ZERO
    for svc in services:
        own = [x for x in lines if x.row.service_payment_id == svc.id]
        if svc.claim_line_id is None or any(_is_denial(x) for x in own):
            continue
        patient = sum((x.row.amount for x in own if x.row.group_code == "PR"), ZERO)
        if svc.paid <= 0 and patient <= 0:
            continue
        line = session.get(ClaimLine, svc.claim_line_id)
        assert line is not None
        expected = expected_allowed(
            session,
            payer_id=claim.payer_id,
            code=line.procedure_code,
            modifier=line.modifiers[0] if line.modifiers else None,
            on=line.service_date,
        )
        if expected is None:
            continue
        units = svc.units or line.units
        sequestered = sum(
            (x.row.amount for x in own if (x.row.group_code, x.row.reason_code) == ("CO", "253")),
            ZERO,
        )
        allowed = allowed_by_service.get(svc.id or 0) or (svc.paid + patient + sequestered)
        if allowed < (expected * units).quantize(Decimal("0.01")):
            flagged.append(svc.id or 0)
            shortfall += expected * units - allowed
    if not flagged:
        return None
    task = ensure_review_task(
        session=session,
        kind="remittance",
        claim_id=claim.id,
        claim_version=claim.version,
        step=cp.remittance_id,
        payer_id=payer.id,
        priority=min(1000, int(shortfall)),
        context={
            "reasons": ["underpayment"],
            "remittance_id": cp.remittance_id,
            "claim_payment_id": cp.id,
            "service_payment_ids": flagged,
        },
    )
    assert task.id is not None
    return task.id


# --- coordination of benefits ----------------------------------------------------------


def _next_coverage(session: Session, claim: Claim) -> Coverage | None:
    """The patient's coverage of the next order, in force on the date of service."""
    rows = session.exec(
        select(Coverage).where(
            Coverage.patient_id == claim.patient_id,
            Coverage.coverage_order == claim.coverage_order + 1,
            Coverage.effective_from <= claim.service_from,
        )
    ).all()
    current = [c for c in rows if c.effective_to is None or c.effective_to >= claim.service_from]
    return current[0] if current else None


def _record_crossover(
    session: Session, claim: Claim, cp: ClaimPayment, carrier: str | None
) -> None:
    row = ClaimCrossover(
        claim_id=claim.id or 0,
        claim_payment_id=cp.id or 0,
        status_code=cp.status_code,
        carrier_identifier=(carrier or None) and (carrier or "")[:80],
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return


def secondary_control_number(primary: Claim, order: int) -> str:
    """CLM01 of a COB claim: the primary's, suffixed (unique per practice, ≤ 20 characters)."""
    return f"{primary.patient_control_number[:17]}-C{order}"


def create_secondary_claim(
    session: Session, primary: Claim, coverage: Coverage, *, actor: str = "system:remittance"
) -> Claim:
    """The COB claim for ``coverage`` (status ready), once: the practice's PCN key guards it."""
    assert primary.id is not None
    order = coverage.coverage_order
    existing = session.exec(
        select(Claim).where(Claim.primary_claim_id == primary.id, Claim.coverage_order == order)
    ).first()
    if existing is not None:
        return existing
    fields = set(ClaimBase.model_fields) - {"status", "version", "payer_claim_number"}
    data: dict[str, Any] = primary.model_dump(include=fields)
    data.update(
        coverage_id=coverage.id,
        payer_id=coverage.payer_id,
        coverage_order=order,
        primary_claim_id=primary.id,
        patient_control_number=secondary_control_number(primary, order),
        frequency_code="1",
        original_payer_claim_number=None,
        status="ready",
    )
    lines = [
        line.model_dump(
            include={
                "procedure_code",
                "modifiers",
                "diagnosis_pointers",
                "revenue_code",
                "units",
                "charge",
                "service_date",
                "service_date_to",
            }
        )
        for line in sorted(_claim_lines(session, primary), key=lambda item: item.line_number)
    ]
    diagnoses = [
        d.code
        for d in session.exec(
            select(Diagnosis)
            .where(Diagnosis.claim_id == primary.id)
            .order_by(col(Diagnosis.position))
        )
    ]
    try:
        with session.begin_nested():
            claim = create_claim(
                session=session, claim_in=data, lines=lines, diagnoses=diagnoses, actor=actor
            )
    except IntegrityError:
        found = session.exec(
            select(Claim).where(Claim.primary_claim_id == primary.id, Claim.coverage_order == order)
        ).first()
        if found is None:
            raise
        return found
    return claim


@dataclass(frozen=True)
class PriorLine:
    line_number: int
    paid: Decimal
    adjustments: tuple[tuple[str, str, Decimal], ...]  # (group, CARC, amount)


@dataclass(frozen=True)
class PriorAdjudication:
    """The primary payer's 835 adjudication, as a COB claim's 2320/2430 loops need it."""

    primary_claim_id: int
    payer_id: int | None
    remittance_id: int
    claim_payment_id: int
    paid_date: date | None
    paid: Decimal
    patient_responsibility: Decimal
    claim_adjustments: tuple[tuple[str, str, Decimal], ...]
    lines: tuple[PriorLine, ...]


def read_prior_adjudication(session: Session, claim_id: int) -> PriorAdjudication | None:
    """For a COB claim, its primary's latest standing 835 adjudication (None if none yet)."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(f"no claim {claim_id}")
    if claim.primary_claim_id is None:
        return None
    payments = session.exec(
        select(ClaimPayment)
        .where(ClaimPayment.claim_id == claim.primary_claim_id)
        .order_by(col(ClaimPayment.id))
    ).all()
    standing = [p for p in payments if p.status_code != _REVERSAL]
    reversed_count = len(payments) - len(standing)
    standing = standing[reversed_count:]  # each reversal cancels the oldest standing one
    if not standing:
        return None
    cp = standing[-1]
    remittance = session.get(Remittance, cp.remittance_id)
    assert remittance is not None and cp.id is not None
    adjustments = session.exec(select(Adjustment).where(Adjustment.claim_payment_id == cp.id)).all()
    lines = []
    for svc in session.exec(
        select(ServicePayment).where(ServicePayment.claim_payment_id == cp.id)
    ).all():
        line = session.get(ClaimLine, svc.claim_line_id) if svc.claim_line_id else None
        if line is None:
            continue
        lines.append(
            PriorLine(
                line_number=line.line_number,
                paid=svc.paid,
                adjustments=tuple(
                    (a.group_code, a.reason_code, a.amount)
                    for a in adjustments
                    if a.service_payment_id == svc.id
                ),
            )
        )
    return PriorAdjudication(
        primary_claim_id=claim.primary_claim_id,
        payer_id=remittance.payer_id,
        remittance_id=remittance.id or 0,
        claim_payment_id=cp.id,
        paid_date=remittance.payment_date,
        paid=cp.paid,
        patient_responsibility=cp.patient_responsibility,
        claim_adjustments=tuple(
            (a.group_code, a.reason_code, a.amount)
            for a in adjustments
            if a.service_payment_id is None
        ),
        lines=tuple(sorted(lines, key=lambda item: item.line_number)),
    )
