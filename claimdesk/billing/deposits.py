"""Deposits: the bank's lines imported from CSV and reassociated with the 835s they pay.

The bank file (CSV, UTF-8, a header row, these columns in any order; others refused):

    date          the bank (value) date, YYYY-MM-DD
    amount        the deposit, a decimal with at most two places (e.g. 1234.56)
    trace_number  the check or EFT trace number: the 835's TRN02
    payer_name    who sent it, as the bank shows it (may be empty)
    reference     the bank's own reference (may be empty)

A malformed file is refused whole, with its row and column named: nothing is
imported. A line imported before (same date, trace, amount and reference) is skipped,
so re-importing a file or an overlapping export adds nothing.

Matching: a deposit and an 835 (``Remittance``) match when the trace number
(TRN02) is the same and the deposit equals BPR02. Each side matches at most once
(unique constraints on ``deposit_match``). Same trace, different amount: a
``deposit`` review task with the difference. A deposit with no 835, or an 835 with
no deposit, ``grace_days`` after its date: a ``deposit`` / ``deposit_missing`` task
(no claim; the task's ``step`` is the deposit or remittance id).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from claimdesk.access.permissions import ServiceIdentity
from claimdesk.billing.roles import DEPOSITS_SERVICE, require_billing
from claimdesk.errors import NotFound, ReviewConflict, ValidationFailed
from claimdesk.review.decisions import DepositDecision
from claimdesk.review.tasks import cancel_open_task, ensure_review_task
from claimdesk.states import StateMachine
from models import Deposit, DepositMatch, Remittance, ReviewTask, User, append_audit_event
from models.types import Money

# A bank deposit: matched to its 835, or set aside for a person (amounts differ), or
# dismissed by one; a mismatch seen again on the next run stays a mismatch.
DEPOSIT = StateMachine(
    "deposit",
    initial=frozenset({"unmatched"}),
    moves={
        "unmatched": frozenset({"matched", "mismatch", "dismissed"}),
        "mismatch": frozenset({"matched", "mismatch", "dismissed"}),
        "matched": frozenset(),
        "dismissed": frozenset(),
    },
)

COLUMNS = ("date", "amount", "trace_number", "payer_name", "reference")
REQUIRED = ("date", "amount", "trace_number")
DEFAULT_GRACE_DAYS = 3  # an EFT settles a day or two after its 835 (and the reverse)
MAX_ROWS = 50_000  # a year of a busy practice's bank lines; more is not a bank export
_NO_MONEY = ("NON",)  # BPR04 NON: an 835 that moves no money needs no deposit


@dataclass(frozen=True)
class ImportResult:
    created_ids: tuple[int, ...]
    skipped_rows: tuple[int, ...]  # already imported
    source_sha256: str


@dataclass(frozen=True)
class MatchResult:
    matched: tuple[tuple[int, int], ...]  # (deposit id, remittance id)
    task_ids: tuple[int, ...]
    cancelled_task_ids: tuple[int, ...]


@dataclass(frozen=True)
class DepositRow:
    deposit_id: int
    bank_date: date
    amount: Decimal
    trace_number: str
    payer_name: str
    status: str
    remittance_id: int | None
    difference: Decimal | None


def _refuse(row: int, column: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"row {row}, column {column!r}: {message}; nothing was imported.", field=column
    )


def parse_bank_csv(data: bytes) -> list[dict[str, object]]:
    """Every row checked; the first problem raises ``ValidationFailed`` naming row and column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"file: not UTF-8 text (byte {exc.start}); export the bank file as CSV.", field="file"
        ) from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise _refuse(1, "header", "the file is empty")
    names = [h.strip().lower() for h in header]
    for name in names:
        if name not in COLUMNS:
            raise _refuse(1, name, f"unknown column; the columns are {', '.join(COLUMNS)}")
    for name in REQUIRED:
        if name not in names:
            raise _refuse(1, name, "required column is missing")
    if len(set(names)) != len(names):
        raise _refuse(1, "header", "a column appears twice")
    rows: list[dict[str, object]] = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if number > MAX_ROWS + 1:
            raise _refuse(number, "file", f"more than {MAX_ROWS} rows; split the file")
        if len(values) != len(names):
            raise _refuse(number, "row", f"{len(values)} fields where the header has {len(names)}")
        cells = {n: v.strip() for n, v in zip(names, values, strict=True)}
        try:
            day = date.fromisoformat(cells["date"])
        except ValueError:
            raise _refuse(number, "date", f"{cells['date']!r} is not a date (YYYY-MM-DD)") from None
        try:
            amount = Decimal(cells["amount"].replace(",", ""))
        except InvalidOperation:
            raise _refuse(number, "amount", f"{cells['amount']!r} is not an amount") from None
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
            raise _refuse(number, "amount", f"{cells['amount']!r} has more than two decimals")
        if amount <= 0:
            raise _refuse(number, "amount", f"{cells['amount']!r} is not a deposit (must be > 0)")
        trace = cells["trace_number"]
        if not trace or len(trace) > 50:
            raise _refuse(number, "trace_number", "must be 1-50 characters (the 835's TRN02)")
        payer_name, reference = cells.get("payer_name", ""), cells.get("reference", "")
        if len(payer_name) > 60:
            raise _refuse(number, "payer_name", "longer than 60 characters")
        if len(reference) > 80:
            raise _refuse(number, "reference", "longer than 80 characters")
        rows.append(
            {
                "row": number,
                "bank_date": day,
                "amount": amount,
                "trace_number": trace,
                "payer_name": payer_name,
                "reference": reference,
            }
        )
    return rows


def import_bank_csv(session: Session, *, user: User, data: bytes, source_file: str) -> ImportResult:
    """Import a bank CSV (see the module docstring); all rows or none. Flushes only."""
    require_billing(user, "billing.post")
    rows = parse_bank_csv(data)
    digest = hashlib.sha256(data).hexdigest()
    created: list[int] = []
    skipped: list[int] = []
    for row in rows:
        key = f"{row['bank_date']}|{row['trace_number']}|{row['amount']}|{row['reference']}"
        if session.exec(select(Deposit.id).where(Deposit.dedupe_key == key)).first():
            skipped.append(int(str(row["row"])))
            continue
        deposit = Deposit(
            bank_date=row["bank_date"],  # type: ignore[arg-type]
            amount=row["amount"],  # type: ignore[arg-type]
            trace_number=str(row["trace_number"]),
            payer_name=str(row["payer_name"]),
            reference=str(row["reference"]),
            source_file=source_file[-200:],
            source_sha256=digest,
            source_row=int(str(row["row"])),
            dedupe_key=key[:200],
            imported_by=user.username,
        )
        try:
            with session.begin_nested():
                session.add(deposit)
                session.flush()
        except IntegrityError:  # a concurrent import took the same line
            skipped.append(int(str(row["row"])))
            continue
        created.append(deposit.id or 0)
    append_audit_event(
        session,
        actor=user.username,
        action="deposits.imported",
        entity_type="deposit",
        details={
            "file_sha256": digest,
            "created": len(created),
            "skipped": len(skipped),
        },
    )
    session.flush()
    return ImportResult(tuple(created), tuple(skipped), digest)


def _money_remittances(session: Session) -> list[Remittance]:
    matched = select(DepositMatch.remittance_id)
    return list(
        session.exec(
            select(Remittance)
            .where(
                col(Remittance.amount) > 0,
                col(Remittance.payment_method).not_in(_NO_MONEY),
                Remittance.status != "exception",
                col(Remittance.id).not_in(matched),
            )
            .order_by(col(Remittance.id))
        ).all()
    )


def _record_match(
    session: Session, deposit: Deposit, remittance: Remittance, *, actor: str
) -> DepositMatch:
    match = DepositMatch(
        deposit_id=deposit.id or 0,
        remittance_id=remittance.id or 0,
        difference=deposit.amount - remittance.amount,
        matched_by=actor,
    )
    try:
        with session.begin_nested():
            session.add(match)
            session.flush()
    except IntegrityError:
        raise ReviewConflict(
            f"deposit {deposit.id} or 835 {remittance.id} is already matched; "
            "a deposit is never matched twice."
        ) from None
    DEPOSIT.move(deposit, "matched")
    session.add(deposit)
    append_audit_event(
        session,
        actor=actor,
        action="deposit.matched",
        entity_type="deposit",
        entity_id=deposit.id,
        details={"remittance_id": remittance.id, "difference": str(match.difference)},
    )
    return match


def match_deposits(
    session: Session,
    *,
    as_of: date,
    grace_days: int = DEFAULT_GRACE_DAYS,
    user: User | ServiceIdentity = DEPOSITS_SERVICE,
) -> MatchResult:
    """Match open deposits to unmatched 835s by TRN02 and amount; the rest to review.

    ``user`` is whoever runs it: a person (the app), or the scheduled flow's identity.
    """
    require_billing(user, "billing.cycle", session=session)
    actor = user.username
    remittances = _money_remittances(session)
    by_trace: dict[str, list[Remittance]] = {}
    for r in remittances:
        by_trace.setdefault(r.trace_number.strip(), []).append(r)
    matched: list[tuple[int, int]] = []
    tasks: list[int] = []
    cancelled: list[int] = []
    disputed: set[int] = set()
    deposits = session.exec(
        select(Deposit)
        .where(col(Deposit.status).in_(DEPOSIT.sources("matched")))
        .order_by(col(Deposit.bank_date), col(Deposit.id))
    ).all()
    cutoff = as_of - timedelta(days=grace_days)
    for deposit in deposits:
        candidates = by_trace.get(deposit.trace_number.strip(), [])
        exact = next((r for r in candidates if r.amount == deposit.amount), None)
        if exact is not None:
            _record_match(session, deposit, exact, actor=actor)
            candidates.remove(exact)
            matched.append((deposit.id or 0, exact.id or 0))
            for kind, step in (("deposit", deposit.id), ("deposit_missing", exact.id)):
                done = cancel_open_task(
                    session, kind=kind, claim_id=None, step=step or 0, actor=actor, reason="matched"
                )
                if done is not None:
                    cancelled.append(done)
            continue
        if candidates:
            other = candidates[0]
            disputed.add(other.id or 0)
            DEPOSIT.move(deposit, "mismatch")
            session.add(deposit)
            context = {
                "issue": "amount_difference",
                "deposit_id": deposit.id,
                "remittance_id": other.id,
                "trace_number": deposit.trace_number,
                "deposit_amount": str(deposit.amount),
                "remittance_amount": str(other.amount),
                "difference": str(deposit.amount - other.amount),
            }
        elif deposit.bank_date <= cutoff:
            context = {
                "issue": "no_835",
                "deposit_id": deposit.id,
                "trace_number": deposit.trace_number,
                "deposit_amount": str(deposit.amount),
            }
        else:
            continue
        task = ensure_review_task(
            session=session,
            kind="deposit",
            claim_id=None,
            claim_version=None,
            step=deposit.id,
            priority=60,
            context=context,
        )
        tasks.append(task.id or 0)
    used = {r for _, r in matched} | disputed
    for remittance in remittances:
        day = remittance.payment_date or remittance.received_at.date()
        if remittance.id in used or day > cutoff:
            continue
        task = ensure_review_task(
            session=session,
            kind="deposit_missing",
            claim_id=None,
            claim_version=None,
            step=remittance.id,
            payer_id=remittance.payer_id,
            priority=55,
            context={
                "issue": "no_deposit",
                "remittance_id": remittance.id,
                "trace_number": remittance.trace_number,
                "remittance_amount": str(remittance.amount),
                "payment_date": day.isoformat(),
            },
        )
        tasks.append(task.id or 0)
    session.flush()
    return MatchResult(tuple(matched), tuple(dict.fromkeys(tasks)), tuple(cancelled))


def apply_deposit_decision(
    session: Session, task: ReviewTask, decision: DepositDecision, *, actor: str
) -> str:
    """``match`` links the task's deposit (or 835) with the one the person names."""
    if decision.action == "dismiss":
        if task.kind == "deposit":
            deposit = session.get(Deposit, int(task.context.get("deposit_id") or 0))
            if deposit is not None and deposit.status != "matched":
                DEPOSIT.move(deposit, "dismissed")
                session.add(deposit)
        return "deposit_dismissed"
    if task.kind == "deposit":
        deposit_id = int(task.context.get("deposit_id") or 0)
        remittance_id = decision.remittance_id or task.context.get("remittance_id")
    else:
        deposit_id = decision.deposit_id or 0
        remittance_id = task.context.get("remittance_id")
    deposit = session.get(Deposit, deposit_id)
    remittance = session.get(Remittance, int(remittance_id or 0))
    if deposit is None or remittance is None:
        raise NotFound(
            f"task {task.id}: match needs a deposit and an 835 "
            f"(deposit {deposit_id}, 835 {remittance_id})"
        )
    if deposit.amount != remittance.amount and not decision.accept_difference:
        raise ValidationFailed(
            f"accept_difference: deposit {deposit.id} ({deposit.amount}) and 835 "
            f"{remittance.id} ({remittance.amount}) differ; accept the difference with a reason.",
            field="accept_difference",
        )
    _record_match(session, deposit, remittance, actor=actor)
    return "deposit_matched"


def list_deposits(
    session: Session, *, user: User, status: str | None = None, limit: int = 500
) -> list[DepositRow]:
    """Bank lines with their match (no PHI: amounts, traces, payer names)."""
    require_billing(user, "billing.view")
    query = (
        select(Deposit, DepositMatch)
        .outerjoin(DepositMatch, col(DepositMatch.deposit_id) == col(Deposit.id))
        .order_by(col(Deposit.bank_date).desc(), col(Deposit.id).desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Deposit.status == status)
    return [
        DepositRow(
            d.id or 0,
            d.bank_date,
            d.amount,
            d.trace_number,
            d.payer_name,
            d.status,
            m.remittance_id if m else None,
            m.difference if m else None,
        )
        for d, m in session.exec(query).all()
    ]


def matched_totals(session: Session) -> tuple[Decimal, Decimal]:
    """Σ matched deposits and Σ BPR02 of the 835s they matched (equal unless accepted)."""
    deposits = session.exec(
        select(type_coerce(func.sum(Deposit.amount), Money)).join(
            DepositMatch, col(DepositMatch.deposit_id) == col(Deposit.id)
        )
    ).one()
    remits = session.exec(
        select(type_coerce(func.sum(Remittance.amount), Money)).join(
            DepositMatch, col(DepositMatch.remittance_id) == col(Remittance.id)
        )
    ).one()
    zero = Decimal("0.00")
    return deposits or zero, remits or zero
