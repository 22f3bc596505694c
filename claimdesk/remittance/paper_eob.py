"""Paper EOBs posted by hand, through the same path as 835s.

A specialist types what the payer's paper explanation of benefits says
(``PaperEob``: payer, check or EFT number, payment date, total, and per claim
what was paid, the patient's share and, per line, the adjustments as group +
CARC + amount with their remark codes). ``post_paper_eob``:

1. checks the caller's role (specialist, lead or manager);
2. refuses, naming the field, what no 835 could say: a group code or CARC the
   routing table (``claimdesk/data/carc_routing.json``) does not know, a claim
   that does not exist, is not billed to this payer, was never sent or is
   listed twice, a line the claim does not have, a patient share that is not the
   sum of the PR adjustments, a check number already posted with other content;
3. builds the ``Remittance835`` an 835 with these figures would parse into and
   applies the 835 balancing rules (``x12.check_balance``: each line's charge =
   paid + its adjustments, each claim's charge = paid + all its adjustments, the
   total = the sum paid); an unbalanced entry is refused with the figures;
4. keeps the entry (canonical JSON) as a ``paper_eob`` document linked to its
   claims, then posts the model with ``remittance_service.post_remittance``:
   matching, ledger, denials, secondary billing and underpayment checks are the
   835's own; finally checks every posted claim's ledger identity.

Nothing is stored when the entry is refused (the caller's transaction rolls
back on the error). The same entry posted twice is one document and one
remittance (the second is reported as a duplicate).

The entry's JSON shape is documented in ``claimdesk.paper.eob_entry``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access import permissions
from claimdesk.access.auth import load_active_user
from claimdesk.claims.ledger import check_ledger_identity
from claimdesk.codes.meanings import carc_meaning, group_meaning
from claimdesk.db import session_scope
from claimdesk.denials import RoutingTable, load_routing_table
from claimdesk.documents import DocumentStore
from claimdesk.errors import ClaimdeskError, ValidationFailed
from claimdesk.paper.eob_entry import EobAdjustment, EobClaim, PaperEob, parse_paper_eob
from claimdesk.remittance.posting import PostingReport, post_remittance
from claimdesk.remittance.set_stream import content_hash
from claimdesk.stored_documents import store_document
from claimdesk.submission.paper import is_paper_payer
from claimdesk.x12 import Remittance835, check_balance
from claimdesk.x12 import models as x12
from models import (
    Claim,
    ClaimLine,
    DocumentLink,
    Payer,
    Practice,
    Remittance,
    append_audit_event,
)

DOCUMENT_KIND = "paper_eob"
JSON = "application/json"
# Who may post money by hand: the people who work the queue and their managers.
POSTING_ROLES = frozenset({"specialist", "lead", "manager"})
GROUP_CODES = ("CO", "PR", "OA", "PI", "CR")
# A paper EOB answers a claim that went out; these are the statuses such a claim can be in.
POSTABLE_STATUSES = frozenset(
    {"sent", "accepted", "pending", "paid", "partially_paid", "denied", "appealed"}
    | {"billed_secondary"}
)


def known_carcs(table: RoutingTable) -> dict[str, str]:
    """Every CARC the routing table knows, with the payer's wording (the picker's list)."""
    codes = {r.carc for r in table.routes if r.carc != "*"} | set(table.carc_text)
    return {code: table.carc_description(code) for code in sorted(codes, key=_code_order)}


def _code_order(code: str) -> tuple[int, str]:
    return (int(code), "") if code.isdigit() else (10_000, code)


def require_poster(session: Session, username: str) -> str:
    user = load_active_user(session, username)
    if user.role not in POSTING_ROLES:
        permissions.deny(
            user,
            "paper_eob.post",
            f"user {username!r} with role {user.role!r} may not post a paper EOB; "
            f"allowed roles: {', '.join(sorted(POSTING_ROLES))}.",
        )
    return user.username


def post_paper_eob(
    session: Session,
    *,
    entry: PaperEob,
    username: str,
    store: DocumentStore,
    routing: RoutingTable | None = None,
) -> PostingReport:
    """Validate, balance, keep and post one paper EOB; see the module docstring. Flushes only."""
    actor = require_poster(session, username)
    table = routing or load_routing_table()
    payer = session.get(Payer, entry.payer_id)
    if payer is None:
        raise ValidationFailed(f"payer_id: no payer {entry.payer_id}.", field="payer_id")
    claims = _check_claims(session, entry, payer, table)
    remittance = build_remittance(session, entry, payer, claims)
    _check_balanced(remittance)
    _check_trace(session, payer, remittance)
    claim_ids = [c.id or 0 for c in claims]
    # Canonical JSON of the entry only (who and when go in the audit event): the same
    # entry is the same document, and its remittance a duplicate.
    data = entry.model_dump_json(indent=2).encode()
    document_id = store_document(
        session, store, data, kind=DOCUMENT_KIND, content_type=JSON, claim_id=claim_ids[0]
    )
    for claim_id in claim_ids[1:]:
        session.add(DocumentLink(document_id=document_id, claim_id=claim_id))
    report = post_remittance(
        session,
        document_bytes_or_parsed=remittance,
        payer_id=payer.id or 0,
        document_id=document_id,
        routing=table,
        actor=actor,
    )
    broken = [c for c in report.claim_ids if not check_ledger_identity(session, c)]
    if broken:
        raise ClaimdeskError(
            f"the ledger identity does not hold for claims {broken} after posting; "
            "nothing was posted. Report this: the entry balanced but the ledger did not."
        )
    append_audit_event(
        session,
        actor=actor,
        action="paper_eob.posted",
        entity_type="remittance",
        entity_id=report.remittance_ids[0] if report.remittance_ids else None,
        details={
            "document_id": document_id,
            "payer_id": payer.id,
            "claim_ids": claim_ids,
            "outcomes": list(report.outcomes),
        },
    )
    session.flush()
    return report


def _check_claims(
    session: Session, entry: PaperEob, payer: Payer, table: RoutingTable
) -> list[Claim]:
    carcs = known_carcs(table)
    seen: set[int] = set()
    claims: list[Claim] = []
    for index, item in enumerate(entry.claims):
        where = f"claims[{index}]"
        claim = session.get(Claim, item.claim_id)
        if claim is None:
            raise ValidationFailed(
                f"{where}.claim_id: no claim {item.claim_id}.", field=f"{where}.claim_id"
            )
        if claim.payer_id != payer.id:
            raise ValidationFailed(
                f"{where}.claim_id: claim {item.claim_id} is billed to payer {claim.payer_id}, "
                f"not to payer {payer.id} whose EOB this is.",
                field=f"{where}.claim_id",
            )
        if claim.status not in POSTABLE_STATUSES:
            raise ValidationFailed(
                f"{where}.claim_id: claim {item.claim_id} is {claim.status!r}; a paper EOB "
                f"answers a claim that was sent ({', '.join(sorted(POSTABLE_STATUSES))}).",
                field=f"{where}.claim_id",
            )
        if item.claim_id in seen:
            raise ValidationFailed(
                f"{where}.claim_id: claim {item.claim_id} is listed twice; enter it once.",
                field=f"{where}.claim_id",
            )
        seen.add(item.claim_id)
        _check_codes(item.adjustments, carcs, where)
        numbers = {line.line_number for line in _lines(session, claim)}
        listed: set[int] = set()
        for line_index, line in enumerate(item.lines):
            line_where = f"{where}.lines[{line_index}]"
            if line.line_number not in numbers or line.line_number in listed:
                raise ValidationFailed(
                    f"{line_where}.line_number: claim {item.claim_id} has no line "
                    f"{line.line_number}{' left' if line.line_number in listed else ''} "
                    f"(its lines: {', '.join(map(str, sorted(numbers)))}).",
                    field=f"{line_where}.line_number",
                )
            listed.add(line.line_number)
            _check_codes(line.adjustments, carcs, line_where)
        patient_share = sum(
            (a.amount for a in _all_adjustments(item) if a.group == "PR"), Decimal(0)
        )
        if item.patient_responsibility is not None and item.patient_responsibility != patient_share:
            raise ValidationFailed(
                f"{where}.patient_responsibility: {item.patient_responsibility} is not the sum "
                f"of the PR adjustments ({patient_share}); fix one of them.",
                field=f"{where}.patient_responsibility",
            )
        claims.append(claim)
    return claims


def _check_codes(adjustments: tuple[EobAdjustment, ...], carcs: dict[str, str], where: str) -> None:
    for index, adjustment in enumerate(adjustments):
        field = f"{where}.adjustments[{index}]"
        if adjustment.group not in GROUP_CODES:
            raise ValidationFailed(
                f"{field}.group: {adjustment.group!r} is not a group code "
                f"({', '.join(GROUP_CODES)}).",
                field=f"{field}.group",
            )
        if adjustment.carc not in carcs:
            raise ValidationFailed(
                f"{field}.carc: CARC {adjustment.carc!r} is not in claimdesk's routing table; "
                "pick a code from the list (or add it to the table first).",
                field=f"{field}.carc",
            )


def _all_adjustments(item: EobClaim) -> list[EobAdjustment]:
    return [*item.adjustments, *(a for line in item.lines for a in line.adjustments)]


def _lines(session: Session, claim: Claim) -> list[ClaimLine]:
    return list(
        session.exec(
            select(ClaimLine).where(ClaimLine.claim_id == claim.id).order_by(ClaimLine.line_number)  # type: ignore[arg-type]
        ).all()
    )


def _adjustments(items: tuple[EobAdjustment, ...]) -> tuple[x12.Adjustment, ...]:
    return tuple(
        x12.Adjustment(group=a.group, reason=a.carc, amount=a.amount, quantity=None) for a in items
    )


def build_remittance(
    session: Session, entry: PaperEob, payer: Payer, claims: list[Claim]
) -> Remittance835:
    """The 835 set these figures would have arrived as (CLP01 names each claim)."""
    practice = session.get(Practice, claims[0].practice_id)
    assert practice is not None
    clps = []
    for item, claim in zip(entry.claims, claims, strict=True):
        by_number = {line.line_number: line for line in _lines(session, claim)}
        services = tuple(
            x12.ServicePayment(
                procedure_qualifier="HC",
                procedure=by_number[line.line_number].procedure_code,
                modifiers=tuple(by_number[line.line_number].modifiers),
                charge=by_number[line.line_number].charge,
                paid=line.paid,
                revenue_code="",
                units=by_number[line.line_number].units,
                line_control_number=by_number[line.line_number].line_control_number,
                service_from=by_number[line.line_number].service_date,
                service_to=by_number[line.line_number].service_date_to,
                allowed=line.allowed,
                adjustments=_adjustments(line.adjustments),
                remarks=tuple(x12.Remark(qualifier="HE", code=code) for code in line.remark_codes),
            )
            for line in item.lines
        )
        patient_share = sum(
            (a.amount for a in _all_adjustments(item) if a.group == "PR"), Decimal(0)
        )
        clps.append(
            x12.ClaimPayment(
                patient_control_number=claim.patient_control_number,
                status_code=item.status_code or str(claim.coverage_order),
                charge=claim.total_charge,
                paid=item.paid,
                patient_responsibility=item.patient_responsibility
                if item.patient_responsibility is not None
                else patient_share,
                filing_indicator=payer.claim_filing_indicator,
                payer_claim_control_number=item.payer_claim_number,
                facility_code=claim.place_of_service,
                frequency_code=claim.frequency_code,
                patient=None,
                statement_from=claim.service_from,
                statement_to=claim.service_to,
                received=None,
                inpatient=None,
                outpatient=x12.OutpatientAdjudication(
                    reimbursement_rate=None, payable_amount=None, remarks=item.remark_codes
                )
                if item.remark_codes
                else None,
                adjustments=_adjustments(item.adjustments),
                services=services,
            )
        )
    payment = x12.Payment(
        handling_code="I" if entry.total == 0 else "C",
        total=entry.total,
        credit_debit="C",
        method=entry.payment_method if entry.total else "NON",
        date=entry.payment_date,
        trace_number=entry.check_number,
        originator_id=payer.payer_id[:10],
    )
    errors = check_balance(payment, clps, [])
    return Remittance835(
        set_id="835",
        control_number="PAPER",
        implementation="005010X221A1",
        payment=payment,
        payer=x12.Party(entity_code="PR", name=payer.name, id_qualifier="PI", id=payer.payer_id),
        payee=x12.Party(entity_code="PE", name=practice.name, id_qualifier="XX", id=practice.npi),
        production_date=entry.payment_date,
        claims=tuple(clps),
        provider_adjustments=(),
        balanced=not errors,
        balance_errors=tuple(errors),
    )


def _check_balanced(remittance: Remittance835) -> None:
    """An unbalanced entry is refused with the first rule it breaks and both figures."""
    for error in remittance.balance_errors:
        if error.rule == "payment":
            raise ValidationFailed(
                f"total: {error.expected} is not the sum paid on the claims ({error.actual}); "
                "the check total must equal what the EOB pays on its claims.",
                field="total",
            )
        where = f"claims[{(error.claim_index or 1) - 1}]"
        if error.rule == "service":
            where += f".lines[{(error.service_index or 1) - 1}]"
            what = "the line's charge less paid"
        else:
            what = "the claim's charge less paid"
        raise ValidationFailed(
            f"{where}: {what} is {error.expected} but the adjustments add to {error.actual}; "
            "charge = paid + adjustments must hold.",
            field=where,
        )


def _check_trace(session: Session, payer: Payer, remittance: Remittance835) -> None:
    """A check number posted before with other figures is refused (same figures: a duplicate)."""
    digest = content_hash(remittance)
    for known in session.exec(
        select(Remittance).where(
            Remittance.payer_id == payer.id,
            Remittance.trace_number == remittance.payment.trace_number,
        )
    ).all():
        if known.sha256 != digest:
            raise ValidationFailed(
                f"check_number: {remittance.payment.trace_number!r} from payer {payer.id} was "
                f"already posted (remittance {known.id}) with other figures; correct the number "
                "or reverse the earlier posting first.",
                field="check_number",
            )


def routing_choices(table: RoutingTable | None = None) -> dict[str, dict[str, str]]:
    """Group codes and CARCs with their plain-English meanings, for the app's picker."""
    table = table or load_routing_table()
    return {
        "groups": {code: group_meaning(code) for code in GROUP_CODES},
        "carcs": {code: carc_meaning(code) for code in known_carcs(table)},
    }


@dataclass(frozen=True)
class LineChoice:
    line_number: int
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal


@dataclass(frozen=True)
class ClaimChoice:
    """A claim a paper EOB can answer: ids, codes and amounts (no patient data)."""

    claim_id: int
    patient_control_number: str
    status: str
    service_from: date
    total_charge: Decimal
    lines: tuple[LineChoice, ...]


def read_payers(engine: Engine, *, username: str) -> list[tuple[int, str, bool]]:
    """(id, name, billed on paper) of every payer, paper payers first."""
    with session_scope(engine) as session:
        require_poster(session, username)
        payers = session.exec(select(Payer).order_by(col(Payer.name))).all()
        rows = [(p.id or 0, p.name, is_paper_payer(p)) for p in payers]
    return sorted(rows, key=lambda row: not row[2])


def read_awaiting_claims(
    engine: Engine, *, username: str, payer_id: int, limit: int = 200
) -> list[ClaimChoice]:
    """Claims billed to ``payer_id`` that a paper EOB can answer, oldest first."""
    with session_scope(engine) as session:
        require_poster(session, username)
        claims = session.exec(
            select(Claim)
            .where(Claim.payer_id == payer_id, col(Claim.status).in_(sorted(POSTABLE_STATUSES)))
            .order_by(col(Claim.id))
            .limit(limit)
        ).all()
        return [
            ClaimChoice(
                claim_id=c.id or 0,
                patient_control_number=c.patient_control_number,
                status=c.status,
                service_from=c.service_from,
                total_charge=c.total_charge,
                lines=tuple(
                    LineChoice(li.line_number, li.procedure_code, tuple(li.modifiers), li.charge)
                    for li in _lines(session, c)
                ),
            )
            for c in claims
        ]


def submit_paper_eob(
    engine: Engine, *, username: str, data: str | bytes, store: DocumentStore
) -> PostingReport:
    """Parse, post and commit one entry (the app's and the CLI's door); refused: nothing kept."""
    entry = parse_paper_eob(data)
    with session_scope(engine) as session:
        return post_paper_eob(session, entry=entry, username=username, store=store)
