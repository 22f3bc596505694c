"""Posting one 835 claim (CLP loop): rows as received, ledger moves, denials, status.

``record_claim_payment`` keeps the CLP with its SVC, CAS and remark rows, matched
to the claim's lines (REF*6R, then procedure + charge). ``post_claim`` posts the
money to the encounter's ledger (payments; contractual adjustments written off;
patient responsibility to the patient; OA-23 nothing; denials stay open),
creates ``Denial`` rows (true duplicates closed) each with its review task, moves
the claim along the state machine, flags underpayments against the fee schedule, and hands patient
responsibility to the next payer (``cob_service``). Called by
``remittance_service.post_remittance``, which guards idempotency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from claimdesk.claims.cob import create_secondary_claim, next_coverage, record_crossover
from claimdesk.claims.fees import expected_allowed
from claimdesk.claims.ledger import ZERO, account_claim_id, ensure_charge, post_entry
from claimdesk.claims.moves import move_claim
from claimdesk.denials import Route, RoutingTable
from claimdesk.denials.service import open_denial_review
from claimdesk.review.tasks import ensure_review_task
from claimdesk.x12.models import Adjustment as X12Adjustment
from claimdesk.x12.models import ClaimPayment as X12ClaimPayment
from claimdesk.x12.models import ServicePayment as X12ServicePayment
from models import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimPayment,
    Denial,
    Payer,
    RemarkCode,
    Remittance,
    ServicePayment,
    append_audit_event,
)

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


def record_claim_payment(
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


def _match_line(
    lines: list[ClaimLine], used: set[int], svc: X12ServicePayment | ServicePayment
) -> ClaimLine | None:
    """REF*6R first; then the first unused line with the same procedure and charge."""
    if svc.line_control_number:
        for line in lines:
            if line.line_control_number == svc.line_control_number and line.id not in used:
                used.add(line.id or 0)
                return line
    for line in lines:
        if (
            line.id not in used
            and line.procedure_code
            == (svc.procedure if isinstance(svc, X12ServicePayment) else svc.procedure_code)
            and line.charge == abs(svc.charge)
        ):
            used.add(line.id or 0)
            return line
    return None


def post_claim(
    session: Session,
    *,
    table: RoutingTable,
    payer: Payer,
    claim: Claim,
    claim_payment: ClaimPayment,
    effective: date,
    crossover_carrier: str | None,
    allowed_by_service: dict[int, Decimal],
    actor: str,
    today: date | None = None,
) -> ClaimPosting:
    assert claim.id is not None and claim_payment.id is not None
    cp = claim_payment
    reversal = cp.status_code == _REVERSAL
    account = account_claim_id(session, claim.id)
    ensure_charge(session=session, claim=claim, effective_date=claim.service_from)
    if not reversal and cp.payer_claim_number:
        claim.payer_claim_number = cp.payer_claim_number
        session.add(claim)
    lines = _adjustments(session, cp.id or 0, table, payer.kind)
    if claim.primary_claim_id is not None:
        lines = _primary_denials_repeated(session, claim.primary_claim_id, lines)
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
    # Each denial's review opens with the posting: a person is its first step, so no
    # run exists until that person decides (``claimdesk.workqueue.resolve``).
    for denial_id in denial_ids:
        open_denial_review(session, denial_id, today=today)
    open_denied = sum(
        (x.row.amount for x in lines if _is_denial(x) and x.row.group_code != "PR"), ZERO
    )
    # A secondary that only repeats the primary's denials has nothing of its own to work.
    repeats_primary = claim.primary_claim_id is not None and not any(map(_is_denial, lines))
    if (cp.status_code == _DENIED and not repeats_primary) or (cp.paid == 0 and open_denied > 0):
        target = "denied"
    elif open_denied > 0:
        target = "partially_paid"
    else:
        target = "paid"
    move_claim(session, claim, target, actor, f"835_clp02_{cp.status_code}")
    task_id = _flag_underpayments(session, claim, cp, lines, payer, allowed_by_service)

    secondary_id: int | None = None
    crossed = cp.status_code in _CROSSED_OVER or crossover_carrier is not None
    left = cp.patient_responsibility
    if left > 0 and claim.coverage_order < 3 and cp.status_code in _PROCESSED:
        coverage = None if crossed else next_coverage(session, claim)
        if crossed:
            record_crossover(session, claim, cp, crossover_carrier)
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


def _primary_denials_repeated(
    session: Session, primary_claim_id: int, lines: list[_Line]
) -> list[_Line]:
    """A secondary's denial of what the primary already denied is the prior payer's word.

    The secondary claim carries the primary's adjudication; a secondary that denies the
    same lines for the same reason (e.g. CO-97 bundling) adds no new money to work: that
    amount left the open balance with the primary's denial. Such lines post like OA-23.
    """
    denied = {
        (d.group_code, d.reason_code): d.amount
        for d in session.exec(select(Denial).where(Denial.claim_id == primary_claim_id)).all()
    }
    repeated: dict[tuple[str, str], Decimal] = {}
    for line in lines:
        if _is_denial(line):
            key = (line.row.group_code, line.row.reason_code)
            repeated[key] = repeated.get(key, ZERO) + line.row.amount
    same = {key for key, amount in repeated.items() if key in denied and amount <= denied[key]}
    out = []
    for line in lines:
        key = (line.row.group_code, line.row.reason_code)
        if _is_denial(line) and key in same and line.route is not None:
            line = _Line(line.row, line.remarks, line.service,
                         line.route.model_copy(update={"category": "prior_payer"}))  # fmt: skip
        out.append(line)
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


def match_service_lines(session: Session, claim: Claim, cp: ClaimPayment) -> None:
    """Match a stored CLP's service rows to ``claim``'s lines (for a CLP matched by hand)."""
    lines = _claim_lines(session, claim)
    used: set[int] = set()
    services = session.exec(
        select(ServicePayment).where(ServicePayment.claim_payment_id == cp.id)
    ).all()
    for svc in services:
        line = _match_line(lines, used, svc)
        svc.claim_line_id = line.id if line else None
        session.add(svc)
    session.flush()
