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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from claimdesk.denials import RoutingTable, load_routing_table
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.remittance.claim_posting import (
    ClaimPosting,
    match_service_lines,
    post_claim,
    record_claim_payment,
)
from claimdesk.remittance.set_stream import (
    CheckedSet,
    check_models,
    check_sets,
    claim_streams,
    crossover_carriers,
)
from claimdesk.remittance.status import REMITTANCE
from claimdesk.review.decisions import RemittanceDecision
from claimdesk.review.tasks import ensure_review_task
from claimdesk.x12 import ClaimPayment as X12ClaimPayment
from claimdesk.x12 import Remittance835, X12Error
from claimdesk.x12.models import ProviderAdjustment
from models import Claim, ClaimPayment, Payer, Remittance, ReviewTask, append_audit_event
from models.ledger import ProviderLedgerEntry
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
    today: date | None = None,
) -> PostingReport:
    """Post every 835 set of a document; see the module docstring. Flushes only.

    ``today`` (claimdesk's clock) prices the denials' review tasks opened here.
    """
    payer = session.get(Payer, payer_id)
    if payer is None:
        raise NotFound(f"no payer {payer_id}")
    table = routing or load_routing_table()
    crossovers: dict[str, str] = {}
    source = document_bytes_or_parsed
    claims: Iterator[Iterator[X12ClaimPayment]]
    if isinstance(source, bytes):
        # Streamed twice (set_stream): every set is checked to its end before any posts.
        try:
            checked = check_sets(source)
            crossovers = crossover_carriers(source)
        except X12Error as exc:
            return PostingReport(
                document_id, (_unreadable(session, payer, source, document_id, exc),)
            )
        if not checked:
            return PostingReport(
                document_id, (_unreadable(session, payer, source, document_id, None),)
            )
        claims = claim_streams(source)
    else:
        sets = [source] if isinstance(source, Remittance835) else list(source)
        checked = check_models(sets)
        claims = (iter(remittance.claims) for remittance in sets)
    outcomes = tuple(
        _post_set(session, table, payer, check, set_claims, document_id, crossovers, actor, today)
        for check, set_claims in zip(checked, claims, strict=True)
    )
    return PostingReport(document_id, outcomes)


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


def _winner(session: Session, payer_id: int | None, trace: str, digest: str) -> Remittance | None:
    return session.exec(
        select(Remittance).where(
            Remittance.payer_id == payer_id,
            Remittance.trace_number == trace,
            Remittance.sha256 == digest,
        )
    ).first()


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
    remittance: CheckedSet,
    claims: Iterator[X12ClaimPayment],
    document_id: int | None,
    crossovers: dict[str, str],
    actor: str,
    today: date | None = None,
) -> SetOutcome:
    """Post one set whose ``claims`` are read one at a time (none when it posts nothing)."""
    digest = remittance.digest
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
        winner = _winner(session, payer.id, trace, digest)
        assert winner is not None and winner.id is not None
        return SetOutcome(winner.id, "duplicate")
    assert new.id is not None
    if known:
        REMITTANCE.move(new, "exception")
        session.add(new)
        conflicting = [r.id for r in known]
        task_id = _file_task(
            session, new, ["trace_conflict"], {"conflicting_remittance_ids": conflicting}
        )
        return SetOutcome(new.id, "exception", task_ids=(task_id,))
    if not remittance.balanced:
        REMITTANCE.move(new, "exception")
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
    posted = _Posted()
    unmatched: list[int] = []
    for clp in claims:  # one at a time: only ids are kept
        claim = _match_claim(session, payer, clp.patient_control_number)
        cp, allowed = record_claim_payment(session, new, claim, clp)
        if claim is None:
            assert cp.id is not None
            unmatched.append(cp.id)
            continue
        posted.add(
            post_claim(
                session,
                table=table,
                payer=payer,
                claim=claim,
                claim_payment=cp,
                effective=effective,
                crossover_carrier=crossovers.get(clp.patient_control_number),
                allowed_by_service=allowed,
                actor=actor,
                today=today,
            )
        )
    plb_ids = _post_provider_adjustments(session, new, remittance.provider_adjustments)
    tasks = posted.task_ids
    if unmatched:
        tasks.append(
            _file_task(session, new, ["unmatched_claims"], {"claim_payment_ids": unmatched})
        )
    REMITTANCE.move(new, "posted")
    new.posted_at = utcnow()
    session.add(new)
    append_audit_event(
        session,
        actor=actor,
        action="remittance.posted",
        entity_type="remittance",
        entity_id=new.id,
        details={
            "claims": len(posted.claim_ids),
            "unmatched": len(unmatched),
            "document_id": document_id,
        },
    )
    session.flush()
    return SetOutcome(
        new.id,
        "posted",
        claim_ids=tuple(posted.claim_ids),
        denial_ids=tuple(posted.denial_ids),
        closed_denial_ids=tuple(posted.closed_denial_ids),
        task_ids=tuple(dict.fromkeys(tasks)),
        secondary_claim_ids=tuple(posted.secondary_claim_ids),
        crossover_claim_ids=tuple(posted.crossover_claim_ids),
        provider_ledger_ids=plb_ids,
    )


@dataclass
class _Posted:
    """The ids of a set's claim postings, gathered as each claim posts."""

    claim_ids: list[int] = field(default_factory=list)
    denial_ids: list[int] = field(default_factory=list)
    closed_denial_ids: list[int] = field(default_factory=list)
    task_ids: list[int] = field(default_factory=list)
    secondary_claim_ids: list[int] = field(default_factory=list)
    crossover_claim_ids: list[int] = field(default_factory=list)

    def add(self, posting: ClaimPosting) -> None:
        self.claim_ids.append(posting.claim_id)
        self.denial_ids += posting.denial_ids
        self.closed_denial_ids += posting.closed_denial_ids
        if posting.task_id is not None:
            self.task_ids.append(posting.task_id)
        if posting.secondary_claim_id:
            self.secondary_claim_ids.append(posting.secondary_claim_id)
        if posting.crossed_over:
            self.crossover_claim_ids.append(posting.claim_id)


def _match_claim(session: Session, payer: Payer, patient_control_number: str) -> Claim | None:
    """CLP01 names our claim; it must be a claim billed to this payer."""
    candidates = session.exec(
        select(Claim).where(
            Claim.patient_control_number == patient_control_number, Claim.payer_id == payer.id
        )
    ).all()
    return candidates[0] if len(candidates) == 1 else None


def _post_provider_adjustments(
    session: Session, remittance: Remittance, provider_adjustments: Sequence[ProviderAdjustment]
) -> tuple[int, ...]:
    ids: list[int] = []
    for position, item in enumerate(provider_adjustments, start=1):
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


def apply_remittance_decision(
    session: Session,
    task: ReviewTask,
    decision: RemittanceDecision,
    *,
    actor: str = "system:remittance",
    routing: RoutingTable | None = None,
) -> str:
    """Apply a remittance exception's decision: a CLP matched by hand is posted now."""
    if decision.action != "repost":
        return "resolved" if decision.action == "resolved" else "dismissed"
    listed = task.context.get("claim_payment_ids", [])
    cp = session.get(ClaimPayment, decision.claim_payment_id)
    claim = session.get(Claim, decision.claim_id)
    if cp is None or decision.claim_payment_id not in listed:
        raise ValidationFailed(
            f"decision.claim_payment_id: {decision.claim_payment_id} is not an unmatched claim "
            f"payment of task {task.id}.",
            field="claim_payment_id",
        )
    if cp.claim_id is not None:
        return "already_posted"
    remittance = session.get(Remittance, cp.remittance_id)
    assert remittance is not None and remittance.payer_id is not None
    if claim is None or claim.payer_id != remittance.payer_id:
        raise ValidationFailed(
            f"decision.claim_id: claim {decision.claim_id} is not a claim billed to the payer "
            "of this remittance.",
            field="claim_id",
        )
    payer = session.get(Payer, remittance.payer_id)
    assert payer is not None and claim.id is not None
    cp.claim_id = claim.id
    session.add(cp)
    match_service_lines(session, claim, cp)
    posted = post_claim(
        session,
        table=routing or load_routing_table(),
        payer=payer,
        claim=claim,
        claim_payment=cp,
        effective=remittance.payment_date or utcnow().date(),
        crossover_carrier=None,
        allowed_by_service={},
        actor=actor,
    )
    append_audit_event(
        session,
        actor=actor,
        action="remittance.claim_matched",
        entity_type="claim_payment",
        entity_id=cp.id,
        claim_id=claim.id,
        details={"remittance_id": remittance.id, "denial_ids": list(posted.denial_ids)},
    )
    return "reposted"
