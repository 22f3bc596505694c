"""Patient statements: on a cycle (every ``cycle_days`` while a balance is open), a PDF
per patient in the document store, linked to every claim it shows.

Each line reads the encounter's ledger: billed, insurance paid, contractual
adjustments, patient responsibility by the payer's own codes (PR-1 deductible,
PR-2 coinsurance, PR-3 copay, other PR), the patient's payments and what is due.
A statement is unique per patient and day, so a re-run of the cycle changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from claimdesk.access.permissions import ServiceIdentity
from claimdesk.billing.collections import account_balances
from claimdesk.billing.roles import STATEMENTS_SERVICE, require_billing
from claimdesk.billing.statement_pdf import (
    StatementFacts,
    StatementLineFacts,
    render_statement,
)
from claimdesk.claims.ledger import ZERO, claim_balance
from claimdesk.documents import DocumentStore
from claimdesk.errors import NotFound
from claimdesk.stored_documents import store_document
from models import (
    Claim,
    ClaimLine,
    Document,
    Patient,
    PatientStatement,
    PatientStatementLine,
    Practice,
    User,
    append_audit_event,
)
from models.ledger import LedgerEntry

DEFAULT_CYCLE_DAYS = 30  # a statement a month while something is owed
PAY_WITHIN_DAYS = 21  # "please pay by": three weeks after the statement date
PDF = "application/pdf"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatementResult:
    statement_id: int
    patient_id: int
    document_id: int | None
    amount_due: Decimal
    claim_ids: tuple[int, ...]
    created: bool


@dataclass(frozen=True)
class StatementRow:
    statement_id: int
    patient_id: int
    statement_date: date
    amount_due: Decimal
    claim_ids: tuple[int, ...]
    document_id: int | None


def store_generated(
    session: Session, store: DocumentStore, data: bytes, *, kind: str, claim_ids: Sequence[int]
) -> int:
    """Put a generated PDF in the store; find or create its row and its claim links."""
    return store_document(session, store, data, kind=kind, content_type=PDF, claim_ids=claim_ids)


def patients_due(session: Session, *, as_of: date, cycle_days: int) -> list[int]:
    """Patients who owe something and had no statement in the last ``cycle_days``."""
    owing = sorted(
        {a.patient_id for a in account_balances(session, as_of=as_of) if a.patient_balance > 0}
    )
    recent = set(
        session.exec(
            select(PatientStatement.patient_id).where(
                PatientStatement.statement_date > as_of - timedelta(days=cycle_days),
                PatientStatement.statement_date <= as_of,
            )
        ).all()
    )
    return [p for p in owing if p not in recent]


def _pr_by_code(session: Session, account: int, as_of: date) -> dict[str, Decimal]:
    """Patient responsibility by CARC, as the payers' 835s put it (net of COB hand-offs)."""
    by_code: dict[str, Decimal] = {}
    handed_on = ZERO
    for entry in session.exec(
        select(LedgerEntry).where(
            LedgerEntry.claim_id == account, LedgerEntry.effective_date <= as_of
        )
    ).all():
        if entry.from_account == "insurance" and entry.to_account == "patient":
            code = entry.reason_code if entry.group_code == "PR" else None
            key = code if code in ("1", "2", "3") else "other"
            by_code[key] = by_code.get(key, ZERO) + entry.amount
        elif entry.from_account == "patient" and entry.to_account == "insurance":
            handed_on += entry.amount  # the secondary payer took it over
    if handed_on:
        by_code["other"] = by_code.get("other", ZERO) - handed_on
    return by_code


def statement_line(session: Session, claim: Claim, as_of: date) -> StatementLineFacts:
    assert claim.id is not None
    balance = claim_balance(session, claim.id, as_of=as_of)
    pr = _pr_by_code(session, claim.id, as_of)
    codes = session.exec(
        select(ClaimLine.procedure_code)
        .where(ClaimLine.claim_id == claim.id)
        .order_by(col(ClaimLine.line_number))
    ).all()
    return StatementLineFacts(
        claim_number=claim.patient_control_number,
        service_date=claim.service_from,
        description=f"Services {', '.join(codes)}"[:120],
        billed=balance.charge,
        insurance_paid=balance.paid_by_payers,
        adjustments=balance.contractual + balance.written_off,
        deductible=pr.get("1", ZERO),
        coinsurance=pr.get("2", ZERO),
        copay=pr.get("3", ZERO),
        other_patient=pr.get("other", ZERO),
        patient_paid=balance.paid_by_patient,
        amount_due=balance.patient_balance,
    )


def _facts(
    practice: Practice,
    patient: Patient,
    lines: list[StatementLineFacts],
    as_of: date,
    number: str,
) -> StatementFacts:
    street = ", ".join(p for p in (practice.address_line1, practice.address_line2) if p)
    city = f"{practice.city}, {practice.state} {practice.postal_code}".strip(", ")
    mail_to = ", ".join(p for p in (street, city) if p)
    return StatementFacts(
        statement_date=as_of,
        statement_number=number,
        practice_name=practice.name,
        practice_address=tuple(p for p in (street, city) if p),
        patient_name=f"{patient.first_name} {patient.last_name}",
        patient_address=tuple(
            p
            for p in (
                patient.address_line1,
                patient.address_line2,
                f"{patient.city}, {patient.state} {patient.postal_code}".strip(", "),
            )
            if p
        ),
        account_number=patient.account_number,
        lines=tuple(lines),
        amount_due=sum((line.amount_due for line in lines), ZERO),
        due_by=as_of + timedelta(days=PAY_WITHIN_DAYS),
        how_to_pay=(
            f"By check payable to {practice.name}, mailed to {mail_to}; "
            f"write account {patient.account_number} on the check.",
            "By card or cash at the front desk, or by phone with the billing office.",
            "Cannot pay in full? Ask us for a payment plan.",
        ),
    )


def produce_statement(
    session: Session, *, patient_id: int, as_of: date, store: DocumentStore, actor: str
) -> StatementResult | None:
    """The patient's statement for ``as_of`` (found if made before); None when nothing is owed."""
    existing = session.exec(
        select(PatientStatement).where(
            PatientStatement.patient_id == patient_id, PatientStatement.statement_date == as_of
        )
    ).first()
    if existing is not None:
        assert existing.id is not None
        return StatementResult(
            existing.id,
            patient_id,
            existing.document_id,
            existing.amount_due,
            tuple(existing.claim_ids),
            False,
        )
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    practice = session.get(Practice, patient.practice_id)
    assert practice is not None
    owing = [
        a
        for a in account_balances(session, patient_id=patient_id, as_of=as_of)
        if a.patient_balance > 0
    ]
    if not owing:
        return None
    claims = [session.get(Claim, a.claim_id) for a in owing]
    ordered = sorted((c for c in claims if c is not None), key=lambda c: (c.service_from, c.id))
    lines = [statement_line(session, c, as_of) for c in ordered]
    claim_ids = [c.id or 0 for c in ordered]
    statement = PatientStatement(
        patient_id=patient_id,
        practice_id=practice.id or 0,
        statement_date=as_of,
        amount_due=sum((line.amount_due for line in lines), ZERO),
        claim_ids=claim_ids,
        created_by=actor,
    )
    session.add(statement)
    session.flush()
    assert statement.id is not None
    facts = _facts(practice, patient, lines, as_of, f"S{statement.id:08d}")
    statement.document_id = store_generated(
        session, store, render_statement(facts), kind="statement", claim_ids=claim_ids
    )
    for claim_id, line in zip(claim_ids, lines, strict=True):
        session.add(
            PatientStatementLine(
                statement_id=statement.id,
                claim_id=claim_id,
                **line.model_dump(exclude={"claim_number"}),
            )
        )
    session.add(statement)
    append_audit_event(
        session,
        actor=actor,
        action="statement.created",
        entity_type="patient_statement",
        entity_id=statement.id,
        details={
            "patient_id": patient_id,
            "claim_ids": claim_ids,
            "document_id": statement.document_id,
        },
    )
    session.flush()
    return StatementResult(
        statement.id,
        patient_id,
        statement.document_id,
        statement.amount_due,
        tuple(claim_ids),
        True,
    )


def run_statement_cycle(
    session: Session,
    *,
    as_of: date,
    store: DocumentStore,
    cycle_days: int = DEFAULT_CYCLE_DAYS,
    user: User | ServiceIdentity = STATEMENTS_SERVICE,
    progress: Callable[[int, int], None] | None = None,
) -> list[StatementResult]:
    """A statement for every patient due one (see ``patients_due``); flushes only.

    One patient's statement that cannot be made (its rows, its PDF, the store) is
    rolled back alone, audited and logged with the error's type, never its text (it
    may quote the patient), and made on the next run; the others are made. ``user``
    is whoever runs it: a person, or the scheduled flow's service identity.
    ``progress(done, total)`` is told as each patient's turn comes (the CLI draws a bar).
    """
    require_billing(user, "billing.cycle", session=session)
    actor = user.username
    results = []
    due = patients_due(session, as_of=as_of, cycle_days=cycle_days)
    for done, patient_id in enumerate(due):
        if progress is not None:
            progress(done, len(due))
        try:
            with session.begin_nested():
                result = produce_statement(
                    session, patient_id=patient_id, as_of=as_of, store=store, actor=actor
                )
        except Exception as exc:  # the isolation boundary: one patient never stops the cycle
            _skipped(session, patient_id=patient_id, as_of=as_of, actor=actor, error=exc)
            continue
        if result is not None:
            results.append(result)
    return results


def _skipped(
    session: Session, *, patient_id: int, as_of: date, actor: str, error: Exception
) -> None:
    reason = type(error).__name__
    log.warning("statement for patient %s on %s skipped: %s", patient_id, as_of, reason)
    append_audit_event(
        session,
        actor=actor,
        action="statement.skipped",
        entity_type="patient",
        entity_id=patient_id,
        details={"patient_id": patient_id, "statement_date": as_of.isoformat(), "error": reason},
    )


def list_statements(
    session: Session, *, user: User, patient_id: int | None = None, limit: int = 200
) -> list[StatementRow]:
    require_billing(user, "billing.view")
    query = select(PatientStatement).order_by(col(PatientStatement.id).desc()).limit(limit)
    if patient_id is not None:
        query = query.where(PatientStatement.patient_id == patient_id)
    rows = [
        StatementRow(
            s.id or 0,
            s.patient_id,
            s.statement_date,
            s.amount_due,
            tuple(s.claim_ids),
            s.document_id,
        )
        for s in session.exec(query).all()
    ]
    append_audit_event(
        session,
        actor=user.username,
        action="statements.viewed",
        entity_type="patient_statement",
        details={"patient_id": patient_id, "count": len(rows)},
    )
    return rows


def statement_pdf(
    session: Session,
    *,
    store: DocumentStore,
    statement_id: int,
    user: User | ServiceIdentity = STATEMENTS_SERVICE,
) -> bytes:
    """The stored PDF of a statement (checked against its sha256 by the store); audited.

    ``user`` is the person downloading it, or the statements service reading back its own.
    """
    require_billing(user, "billing.statement_pdf", session=session)
    statement = session.get(PatientStatement, statement_id)
    if statement is None or statement.document_id is None:
        raise NotFound(f"no statement document for statement {statement_id}")
    append_audit_event(
        session,
        actor=user.username,
        action="statement.downloaded",
        entity_type="patient_statement",
        entity_id=statement_id,
        details={"patient_id": statement.patient_id},
    )
    document = session.get(Document, statement.document_id)
    assert document is not None
    return store.get(document.storage_key, sha256=document.sha256)
