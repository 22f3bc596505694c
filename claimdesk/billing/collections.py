"""Patient balances read from the ledger, aged 30/60/90/120 days from the day the payer
made them the patient's, and collection follow-ups for balances past the thresholds.

A balance's age runs from its first ``insurance → patient`` ledger move (the 835's PR
adjustment, or a denial billed to the patient): the day patient responsibility arose.
Collection tasks are ``kind="collections"``, one per encounter and threshold crossed
(the threshold's position is the task's ``step``), with ids and amounts only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from claimdesk.billing.roles import require_billing
from claimdesk.claims.ledger import ZERO, post_entry
from claimdesk.review.decisions import CollectionsDecision
from claimdesk.review.tasks import ensure_review_task
from models import Claim, Patient, ReviewTask, User, append_audit_event
from models.ledger import LedgerEntry
from models.types import Money, utcnow

BUCKETS = ("0-30", "31-60", "61-90", "91-120", "120+")
DEFAULT_COLLECTION_THRESHOLDS = (90, 120)  # days: a reminder call, then the agency decision


@dataclass(frozen=True)
class AccountBalance:
    """One encounter's ledger account (its primary claim) as the patient side sees it."""

    claim_id: int
    patient_id: int
    patient_balance: Decimal
    insurance_balance: Decimal
    paid_by_patient: Decimal
    responsibility_since: date | None  # the first day part of it became the patient's


@dataclass(frozen=True)
class PatientAgeing:
    patient_id: int
    total: Decimal
    buckets: dict[str, Decimal] = field(default_factory=dict)
    claim_ids: tuple[int, ...] = ()


def age_bucket(days: int) -> str:
    for limit, name in ((30, "0-30"), (60, "31-60"), (90, "61-90"), (120, "91-120")):
        if days <= limit:
            return name
    return "120+"


def account_balances(
    session: Session, *, patient_id: int | None = None, as_of: date | None = None
) -> list[AccountBalance]:
    """Every ledger account with its patient and insurance balance (grouped in the database)."""
    query = (
        sa_select(
            col(LedgerEntry.claim_id),
            col(LedgerEntry.kind),
            col(LedgerEntry.from_account),
            col(LedgerEntry.to_account),
            type_coerce(func.sum(LedgerEntry.amount), Money),
            func.min(LedgerEntry.effective_date),
            col(Claim.patient_id),
        )
        .join(Claim, col(Claim.id) == col(LedgerEntry.claim_id))
        .group_by(
            col(LedgerEntry.claim_id),
            col(LedgerEntry.kind),
            col(LedgerEntry.from_account),
            col(LedgerEntry.to_account),
            col(Claim.patient_id),
        )
    )
    if patient_id is not None:
        query = query.where(col(Claim.patient_id) == patient_id)
    if as_of is not None:
        query = query.where(col(LedgerEntry.effective_date) <= as_of)
    sums: dict[int, dict[str, Decimal]] = defaultdict(
        lambda: {"insurance": ZERO, "patient": ZERO, "patient_paid": ZERO}
    )
    since: dict[int, date] = {}
    owner: dict[int, int] = {}
    for account, kind, source, target, total, first, patient in session.execute(query).all():
        amount = total or ZERO
        row = sums[account]
        owner[account] = patient
        if source in ("insurance", "patient"):
            row[source] -= amount
        if target in ("insurance", "patient"):
            row[target] += amount
        if kind == "patient_payment":
            row["patient_paid"] += amount
        if source == "insurance" and target == "patient" and amount > 0:
            since[account] = min(first, since.get(account, first))
    return [
        AccountBalance(
            claim_id=account,
            patient_id=owner[account],
            patient_balance=row["patient"],
            insurance_balance=row["insurance"],
            paid_by_patient=row["patient_paid"],
            responsibility_since=since.get(account),
        )
        for account, row in sorted(sums.items())
    ]


def age_patient_balances(session: Session, *, as_of: date) -> list[PatientAgeing]:
    """Open patient balances per patient, aged from the day responsibility arose."""
    per_patient: dict[int, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(BUCKETS, ZERO))
    claims: dict[int, list[int]] = defaultdict(list)
    for account in account_balances(session, as_of=as_of):
        if account.patient_balance <= 0:
            continue
        arose = account.responsibility_since or as_of
        per_patient[account.patient_id][age_bucket((as_of - arose).days)] += account.patient_balance
        claims[account.patient_id].append(account.claim_id)
    return [
        PatientAgeing(
            patient_id=patient,
            total=sum(buckets.values(), ZERO),
            buckets=buckets,
            claim_ids=tuple(claims[patient]),
        )
        for patient, buckets in sorted(per_patient.items())
    ]


@dataclass(frozen=True)
class PatientBalanceRow:
    """A row of the patient balances page (PHI: name and account number; audited)."""

    patient_id: int
    name: str
    account_number: str
    total: Decimal
    buckets: dict[str, Decimal]
    claim_ids: tuple[int, ...]


def list_patient_balances(
    session: Session, *, user: User, as_of: date, min_age_days: int = 0
) -> list[PatientBalanceRow]:
    """Patients who owe, largest first; ``min_age_days`` keeps only balances that old."""
    require_billing(user, "billing.view")
    ageing = age_patient_balances(session, as_of=as_of)
    if min_age_days:
        keep = [b for b in BUCKETS if _bucket_floor(b) >= min_age_days]
        ageing = [a for a in ageing if any(a.buckets[b] > 0 for b in keep)]
    patients = {
        p.id: p
        for p in session.exec(
            select(Patient).where(col(Patient.id).in_([a.patient_id for a in ageing]))
        ).all()
    }
    rows = [
        PatientBalanceRow(
            patient_id=a.patient_id,
            name=f"{patients[a.patient_id].last_name}, {patients[a.patient_id].first_name}",
            account_number=patients[a.patient_id].account_number,
            total=a.total,
            buckets=a.buckets,
            claim_ids=a.claim_ids,
        )
        for a in ageing
    ]
    append_audit_event(
        session,
        actor=user.username,
        action="patient_balances.viewed",
        entity_type="patient",
        details={"patient_ids": [r.patient_id for r in rows][:500], "as_of": as_of.isoformat()},
    )
    return sorted(rows, key=lambda r: r.total, reverse=True)


def _bucket_floor(bucket: str) -> int:
    return {"0-30": 0, "31-60": 31, "61-90": 61, "91-120": 91, "120+": 121}[bucket]


def create_collection_tasks(
    session: Session,
    *,
    as_of: date,
    thresholds: tuple[int, ...] = DEFAULT_COLLECTION_THRESHOLDS,
) -> list[int]:
    """A ``collections`` task per encounter whose patient balance passed each threshold."""
    created: list[int] = []
    limits = sorted(thresholds)
    for account in account_balances(session, as_of=as_of):
        if account.patient_balance <= 0 or account.responsibility_since is None:
            continue
        days = (as_of - account.responsibility_since).days
        passed = [n for n, limit in enumerate(limits, start=1) if days >= limit]
        if not passed:
            continue
        step = passed[-1]
        claim = session.get(Claim, account.claim_id)
        assert claim is not None
        existing = session.exec(
            select(ReviewTask.id).where(
                ReviewTask.kind == "collections",
                ReviewTask.claim_id == account.claim_id,
                ReviewTask.step == step,
            )
        ).first()
        if existing is not None:
            continue
        task = ensure_review_task(
            session=session,
            kind="collections",
            claim_id=account.claim_id,
            claim_version=claim.version,
            step=step,
            priority=40 + 10 * step,
            due_at=None,
            context={
                "patient_id": account.patient_id,
                "balance": str(account.patient_balance),
                "days": days,
                "threshold_days": limits[step - 1],
                "bucket": age_bucket(days),
            },
        )
        if task.id is not None:
            created.append(task.id)
    return created


def apply_collections_decision(
    session: Session, task: ReviewTask, decision: CollectionsDecision, *, actor: str
) -> str:
    """``write_off`` moves what the patient still owes to written-off (bad debt)."""
    if decision.action != "write_off":
        return f"collections_{decision.action}"
    assert task.claim_id is not None
    owed = next(
        (
            a.patient_balance
            for a in account_balances(session)
            if a.claim_id == task.claim_id and a.patient_balance > 0
        ),
        ZERO,
    )
    if owed <= 0:
        return "collections_nothing_owed"
    post_entry(
        session=session,
        claim_id=task.claim_id,
        kind="write_off",
        from_account="patient",
        to_account="written_off",
        amount=owed,
        effective_date=utcnow().date(),
        source_key=f"collections:{task.id}",
        reason_code="BADDT",
    )
    append_audit_event(
        session,
        actor=actor,
        action="patient_balance.written_off",
        entity_type="claim",
        entity_id=task.claim_id,
        claim_id=task.claim_id,
        details={"amount": str(owed), "task_id": task.id},
    )
    return "collections_written_off"
