"""The claim ledger: post double-entry moves, read balances, check the identity.

    charge = Σ payments (every payer and the patient)
           + Σ written off (contractual and other; never OA-23)
           + open balance (insurance part + patient part)

Entries are double entry (see ``models.ledger``), so the identity holds by
construction *inside* the ledger; ``check_ledger_identity`` also checks the
ledger against the outside world: the charge it carries equals the claim's
charge, and the payer payments it carries equal the 835 payments posted to the
encounter's claims (``ClaimPayment.paid``). Every function takes
``session=`` and only flushes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from claimdesk.errors import NotFound
from models import Claim, ClaimPayment
from models.ledger import LedgerEntry
from models.types import Money

ZERO = Decimal("0.00")
_PAYMENT_KINDS = ("payment", "patient_payment")


@dataclass(frozen=True)
class ClaimBalance:
    claim_id: int  # the ledger account (the encounter's primary claim)
    charge: Decimal
    paid_by_payers: Decimal
    paid_by_patient: Decimal
    contractual: Decimal  # CO-45, CO-253 and other contractual adjustments
    written_off: Decimal  # other write-offs (denials written off)
    insurance_balance: Decimal
    patient_balance: Decimal

    @property
    def payments(self) -> Decimal:
        return self.paid_by_payers + self.paid_by_patient

    @property
    def open_balance(self) -> Decimal:
        return self.insurance_balance + self.patient_balance

    def identity_holds(self) -> bool:
        return (
            self.charge == self.payments + self.contractual + self.written_off + self.open_balance
        )


def account_claim_id(session: Session, claim_id: int) -> int:
    """The ledger account of a claim: the primary claim for a COB claim, else the claim."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(f"no claim {claim_id}")
    seen = {claim_id}
    while claim.primary_claim_id is not None and claim.primary_claim_id not in seen:
        seen.add(claim.primary_claim_id)
        parent = session.get(Claim, claim.primary_claim_id)
        if parent is None:
            break
        claim = parent
    assert claim.id is not None
    return claim.id


def post_entry(
    *,
    session: Session,
    claim_id: int,
    kind: str,
    from_account: str,
    to_account: str,
    amount: Decimal,
    effective_date: date,
    source_key: str,
    **links: object,
) -> LedgerEntry | None:
    """Insert one entry unless its ``source_key`` was posted before (then None).

    The unique constraint decides, so two concurrent posters cannot both win.
    """
    existing = session.exec(select(LedgerEntry).where(LedgerEntry.source_key == source_key)).first()
    if existing is not None:
        return None
    entry = LedgerEntry(
        claim_id=claim_id,
        kind=kind,
        from_account=from_account,
        to_account=to_account,
        amount=amount,
        effective_date=effective_date,
        source_key=source_key,
        **links,  # type: ignore[arg-type]
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        return None
    return entry


def ensure_charge(*, session: Session, claim: Claim, effective_date: date) -> None:
    """Bring the account's charge to the primary claim's current ``total_charge``."""
    assert claim.id is not None
    account = account_claim_id(session, claim.id)
    root = session.get(Claim, account)
    assert root is not None
    carried = _sum(session, account, kind="charge")
    delta = root.total_charge - carried
    if delta:
        post_entry(
            session=session,
            claim_id=account,
            kind="charge",
            from_account="charge",
            to_account="insurance",
            amount=delta,
            effective_date=effective_date,
            source_key=f"charge:{account}:v{root.version}:{root.total_charge}",
            source_claim_id=root.id,
        )


def _sum(
    session: Session,
    account: int,
    *,
    kind: str | None = None,
    to_account: str | None = None,
    from_account: str | None = None,
    payer: bool | None = None,
    as_of: date | None = None,
) -> Decimal:
    query = select(type_coerce(func.sum(LedgerEntry.amount), Money)).where(
        LedgerEntry.claim_id == account
    )
    if kind is not None:
        query = query.where(LedgerEntry.kind == kind)
    if to_account is not None:
        query = query.where(LedgerEntry.to_account == to_account)
    if from_account is not None:
        query = query.where(LedgerEntry.from_account == from_account)
    if payer is True:
        query = query.where(col(LedgerEntry.payer_id).is_not(None))
    if as_of is not None:
        query = query.where(LedgerEntry.effective_date <= as_of)
    return session.exec(query).one() or ZERO


def claim_balance(session: Session, claim_id: int, *, as_of: date | None = None) -> ClaimBalance:
    """The encounter's balance (``claim_id`` may be a COB claim: its primary's account is read).

    A claim nothing was posted to yet (no charge entry) owes its whole charge to insurance.
    """
    account = account_claim_id(session, claim_id)
    query = (
        select(
            LedgerEntry.kind,
            LedgerEntry.from_account,
            LedgerEntry.to_account,
            type_coerce(func.sum(LedgerEntry.amount), Money),
        )
        .where(LedgerEntry.claim_id == account)
        .group_by(LedgerEntry.kind, LedgerEntry.from_account, LedgerEntry.to_account)
    )
    if as_of is not None:
        query = query.where(LedgerEntry.effective_date <= as_of)
    rows = session.exec(query).all()
    charge = payers = patient_paid = contractual = written_off = ZERO
    accounts = {"insurance": ZERO, "patient": ZERO}
    for kind, source, target, total in rows:
        amount = total or ZERO
        if source in accounts:
            accounts[source] -= amount
        if target in accounts:
            accounts[target] += amount
        if kind == "charge":
            charge += amount
        elif kind == "payment":
            payers += amount
        elif kind == "patient_payment":
            patient_paid += amount
        elif kind == "adjustment":
            contractual += amount
        elif kind == "write_off":
            written_off += amount
    if not any(kind == "charge" for kind, *_ in rows):
        root = session.get(Claim, account)
        assert root is not None
        if as_of is None or root.service_from <= as_of:
            charge += root.total_charge
            accounts["insurance"] += root.total_charge
    return ClaimBalance(
        claim_id=account,
        charge=charge,
        paid_by_payers=payers,
        paid_by_patient=patient_paid,
        contractual=contractual,
        written_off=written_off,
        insurance_balance=accounts["insurance"],
        patient_balance=accounts["patient"],
    )


def check_ledger_identity(session: Session, claim_id: int) -> bool:
    """True when the identity holds and the ledger agrees with the claim and its 835s.

    A claim that was never posted (no entries) holds trivially.
    """
    account = account_claim_id(session, claim_id)
    balance = claim_balance(session, account)
    if not session.exec(select(LedgerEntry.id).where(LedgerEntry.claim_id == account)).first():
        return True
    root = session.get(Claim, account)
    assert root is not None
    if not balance.identity_holds() or balance.charge != root.total_charge:
        return False
    encounter = [account, *_cob_claim_ids(session, account)]
    posted = session.exec(
        select(type_coerce(func.sum(ClaimPayment.paid), Money)).where(
            col(ClaimPayment.claim_id).in_(encounter),
            col(ClaimPayment.id).in_(
                select(LedgerEntry.claim_payment_id).where(
                    LedgerEntry.claim_id == account, LedgerEntry.kind == "payment"
                )
            ),
        )
    ).one()
    # Money sent back to a payer (a refund of an overpayment) is on the ledger, not in any 835.
    refunded = session.exec(
        select(type_coerce(func.sum(LedgerEntry.amount), Money)).where(
            LedgerEntry.claim_id == account,
            LedgerEntry.kind == "payment",
            col(LedgerEntry.source_key).startswith("refund:"),
        )
    ).one()
    return (posted or ZERO) + (refunded or ZERO) == balance.paid_by_payers


def _cob_claim_ids(session: Session, account: int) -> list[int]:
    found: list[int] = []
    frontier = [account]
    while frontier:
        children = session.exec(
            select(Claim.id).where(col(Claim.primary_claim_id).in_(frontier))
        ).all()
        frontier = [c for c in children if c is not None and c not in found]
        found.extend(frontier)
    return found


def check_all_ledger_identities(session: Session) -> list[int]:
    """Accounts whose identity does not hold (an empty list is a healthy ledger)."""
    accounts = session.exec(select(LedgerEntry.claim_id).distinct()).all()
    return [a for a in sorted(accounts) if not check_ledger_identity(session, a)]
