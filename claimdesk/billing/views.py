"""The patient-billing pages' calls: one transaction each, as the signed-in user.

Each function loads the user by name (a disabled user is refused), calls the billing
service that checks the role and writes the audit event, and returns plain rows. The
balances list carries a masked member id and no name; the full PHI is only in
``read_patient_detail``, which is audited as a view of that patient.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.phi import mask_member_id
from claimdesk.billing import collections, deposits, refunds
from claimdesk.billing import payments as patient_payments
from claimdesk.billing import plans as payment_plans
from claimdesk.billing import statements as statement_cycle
from claimdesk.billing.roles import require_billing
from claimdesk.claims.ledger import ClaimBalance, account_claim_id, claim_balance
from claimdesk.db import session_scope
from claimdesk.documents import DocumentStore
from claimdesk.errors import NotFound, ValidationFailed
from models import Claim, Coverage, Patient, Payer, append_audit_event
from models.ledger import LedgerEntry

BUCKETS = collections.BUCKETS


@dataclass(frozen=True)
class BalanceRow:
    """A row of the balances list: ids, a masked member id and money (no name)."""

    patient_id: int
    member_id: str  # masked
    total: Decimal
    buckets: dict[str, Decimal]
    claims: int


@dataclass(frozen=True)
class ClaimLine:
    claim_id: int
    patient_control_number: str
    service_from: date
    payer: str
    status: str
    balance: ClaimBalance


@dataclass(frozen=True)
class LedgerLine:
    entry_id: int
    claim_id: int
    effective_date: date
    kind: str
    from_account: str
    to_account: str
    amount: Decimal
    reason: str  # group-CARC, e.g. PR-2, when the move came from an adjustment


@dataclass(frozen=True)
class PatientDetail:
    """Everything the detail page shows about one patient (PHI)."""

    patient_id: int
    name: str
    birth_date: date
    account_number: str
    address: str
    member_ids: tuple[tuple[str, str], ...]  # (payer, member id), primary first
    claims: tuple[ClaimLine, ...]
    ledger: tuple[LedgerLine, ...]
    payments: tuple[patient_payments.PaymentRow, ...]
    plans: tuple[payment_plans.PlanRow, ...]
    statements: tuple[statement_cycle.StatementRow, ...]

    @property
    def patient_balance(self) -> Decimal:
        return sum((c.balance.patient_balance for c in self.claims), Decimal("0.00"))


@dataclass(frozen=True)
class RefundLine:
    row: refunds.RefundRow
    to_whom: str  # "patient" or the payer's name


def parse_money(value: str, field: str) -> Decimal:
    """A typed amount (``25``, ``1,025.50``, ``$25``) or a ``ValidationFailed`` naming ``field``."""
    text = value.strip().replace(",", "").removeprefix("$")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(
            f"{field}: {value!r} is not an amount (e.g. 25.00)", field=field
        ) from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(
            f"{field}: {value!r} must be positive with at most two decimals", field=field
        )
    return amount


def _primary_members(session: Session, patient_ids: list[int]) -> dict[int, str]:
    rows = session.exec(
        select(Coverage.patient_id, Coverage.member_id)
        .where(col(Coverage.patient_id).in_(patient_ids))
        .order_by(col(Coverage.coverage_order).desc(), col(Coverage.effective_from))
    ).all()
    return dict(rows)  # the last one written wins: primary, most recent


def read_balances(
    engine: Engine, *, username: str, as_of: date, min_age_days: int = 0
) -> list[BalanceRow]:
    """Patients who owe, largest first (the service audits the view)."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        rows = collections.list_patient_balances(
            session, user=user, as_of=as_of, min_age_days=min_age_days
        )
        members = _primary_members(session, [r.patient_id for r in rows])
        return [
            BalanceRow(
                r.patient_id,
                mask_member_id(members.get(r.patient_id)),
                r.total,
                r.buckets,
                len(r.claim_ids),
            )
            for r in rows
        ]


def read_patient_detail(
    engine: Engine, *, username: str, patient_id: int, as_of: date
) -> PatientDetail:
    """One patient's identity, claims with balances, ledger, payments, plans and statements."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require_billing(user, "billing.view")
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise NotFound(f"no patient {patient_id}")
        payers = {p.id: p.name for p in session.exec(select(Payer)).all()}
        coverages = session.exec(
            select(Coverage)
            .where(Coverage.patient_id == patient_id)
            .order_by(col(Coverage.coverage_order), col(Coverage.effective_from).desc())
        ).all()
        claims = session.exec(
            select(Claim).where(Claim.patient_id == patient_id).order_by(col(Claim.service_from))
        ).all()
        claim_lines = tuple(
            ClaimLine(
                c.id or 0,
                c.patient_control_number,
                c.service_from,
                payers.get(c.payer_id, ""),
                c.status,
                claim_balance(session, c.id or 0, as_of=as_of),
            )
            for c in claims
            if account_claim_id(session, c.id or 0) == c.id  # one line per encounter
        )
        entries = session.exec(
            select(LedgerEntry)
            .where(col(LedgerEntry.claim_id).in_([c.claim_id for c in claim_lines]))
            .order_by(col(LedgerEntry.effective_date), col(LedgerEntry.id))
        ).all()
        ledger = tuple(
            LedgerLine(
                e.id or 0,
                e.claim_id,
                e.effective_date,
                e.kind,
                e.from_account,
                e.to_account,
                e.amount,
                f"{e.group_code}-{e.reason_code}" if e.group_code and e.reason_code else "",
            )
            for e in entries
        )
        address = ", ".join(
            part
            for part in (
                patient.address_line1,
                patient.address_line2 or "",
                patient.city,
                f"{patient.state} {patient.postal_code}".strip(),
            )
            if part
        )
        append_audit_event(
            session,
            actor=user.username,
            action="patient.viewed",
            entity_type="patient",
            entity_id=patient_id,
            details={"page": "patient_balances", "claims": len(claim_lines)},
        )
        return PatientDetail(
            patient_id=patient_id,
            name=f"{patient.last_name}, {patient.first_name}",
            birth_date=patient.birth_date,
            account_number=patient.account_number,
            address=address,
            member_ids=tuple((payers.get(c.payer_id, ""), c.member_id) for c in coverages),
            claims=claim_lines,
            ledger=ledger,
            payments=tuple(
                patient_payments.list_payments(session, user=user, patient_id=patient_id)
            ),
            plans=tuple(payment_plans.list_plans(session, user=user, patient_id=patient_id)),
            statements=tuple(
                statement_cycle.list_statements(session, user=user, patient_id=patient_id)
            ),
        )


@dataclass(frozen=True)
class OpenClaim:
    """An encounter the patient still owes on (ids and amounts: the payment form's choices)."""

    claim_id: int
    patient_control_number: str
    service_from: date
    patient_balance: Decimal


def read_open_claims(engine: Engine, *, username: str, patient_id: int) -> list[OpenClaim]:
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require_billing(user, "billing.view")
        if session.get(Patient, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        owed = {
            b.claim_id: b.patient_balance
            for b in collections.account_balances(session, patient_id=patient_id)
            if b.patient_balance > 0
        }
        claims = session.exec(
            select(Claim).where(col(Claim.id).in_(list(owed))).order_by(col(Claim.service_from))
        ).all()
        append_audit_event(
            session,
            actor=user.username,
            action="patient_balances.viewed",
            entity_type="patient",
            entity_id=patient_id,
            details={"page": "payments", "claim_ids": sorted(owed)},
        )
        return [
            OpenClaim(c.id or 0, c.patient_control_number, c.service_from, owed[c.id or 0])
            for c in claims
        ]


def post_payment(
    engine: Engine,
    *,
    username: str,
    patient_id: int,
    amount: str,
    method: str,
    reference: str,
    received_on: date,
    allocations: dict[int, str],
    on_account: bool,
    plan_id: int | None,
    form_token: str,
    store: DocumentStore,
) -> patient_payments.PaymentResult:
    """Post a payment typed on the page; ``form_token`` makes a double click post it once."""
    total = parse_money(amount, "amount")
    parts = {
        claim_id: parse_money(part, f"claim {claim_id}")
        for claim_id, part in allocations.items()
        if part.strip()
    }
    key = "app:" + hashlib.sha256(f"{username}|{form_token}".encode()).hexdigest()[:40]
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        return patient_payments.post_patient_payment(
            session,
            user=user,
            patient_id=patient_id,
            amount=total,
            method=method,
            reference=reference.strip() or None,
            received_on=received_on,
            source_key=key,
            allocations=parts or None,
            on_account=on_account,
            store=store,
            plan_id=plan_id,
        )


def receipt_pdf(engine: Engine, *, username: str, payment_id: int, store: DocumentStore) -> bytes:
    """A payment's receipt PDF (role checked, download audited)."""
    from models import Document, PaymentReceipt

    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require_billing(user, "billing.view")
        receipt = session.exec(
            select(PaymentReceipt).where(PaymentReceipt.payment_id == payment_id)
        ).first()
        document = session.get(Document, receipt.document_id) if receipt else None
        if document is None:
            raise NotFound(f"no receipt document for payment {payment_id}")
        append_audit_event(
            session,
            actor=user.username,
            action="receipt.downloaded",
            entity_type="patient_payment",
            entity_id=payment_id,
        )
        return store.get(document.storage_key, sha256=document.sha256)


def read_payments(
    engine: Engine, *, username: str, patient_id: int | None = None
) -> list[patient_payments.PaymentRow]:
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        return patient_payments.list_payments(session, user=user, patient_id=patient_id)


def create_plan(
    engine: Engine,
    *,
    username: str,
    patient_id: int,
    total: str,
    installment: str,
    cadence_days: int,
    start_date: date,
) -> int:
    """A payment plan; returns its id."""
    total_amount = parse_money(total, "total_amount")
    installment_amount = parse_money(installment, "installment_amount")
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        plan = payment_plans.create_plan(
            session,
            user=user,
            patient_id=patient_id,
            total_amount=total_amount,
            installment_amount=installment_amount,
            cadence_days=cadence_days,
            start_date=start_date,
        )
        return plan.id or 0


def read_plans(
    engine: Engine, *, username: str, status: str | None = None, patient_id: int | None = None
) -> list[payment_plans.PlanRow]:
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        return payment_plans.list_plans(session, user=user, status=status, patient_id=patient_id)


def run_statements(
    engine: Engine, *, username: str, as_of: date, cycle_days: int, store: DocumentStore
) -> list[statement_cycle.StatementResult]:
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        return statement_cycle.run_statement_cycle(
            session, as_of=as_of, store=store, cycle_days=cycle_days, user=user
        )


def read_statements(engine: Engine, *, username: str) -> list[statement_cycle.StatementRow]:
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        return statement_cycle.list_statements(session, user=user)


def statement_pdf(
    engine: Engine, *, username: str, statement_id: int, store: DocumentStore
) -> bytes:
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        return statement_cycle.statement_pdf(
            session, store=store, statement_id=statement_id, user=user
        )


def import_deposits(
    engine: Engine, *, username: str, data: bytes, file_name: str
) -> deposits.ImportResult:
    """A bank CSV: all rows or none (a refusal names the row and column)."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        return deposits.import_bank_csv(session, user=user, data=data, source_file=file_name)


def match_deposits(engine: Engine, *, username: str, as_of: date) -> deposits.MatchResult:
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        return deposits.match_deposits(session, as_of=as_of, user=user)


def read_deposits(
    engine: Engine, *, username: str, status: str | None = None
) -> list[deposits.DepositRow]:
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        return deposits.list_deposits(session, user=user, status=status)


def read_refunds(
    engine: Engine, *, username: str, status: str | None = "pending"
) -> list[RefundLine]:
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        rows = refunds.list_refunds(session, user=user, status=status)
        payers = {p.id: p.name for p in session.exec(select(Payer)).all()}
        return [
            RefundLine(r, payers.get(r.payer_id, "payer") if r.payee == "payer" else r.payee)
            for r in rows
        ]
