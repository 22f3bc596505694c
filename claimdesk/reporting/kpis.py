"""Revenue-cycle KPIs over a period: what a billing manager watches.

Period ``P = [date_from, date_to]`` (dates inclusive). The *cohort* is the
primary claims (``coverage_order = 1``, not voided) whose date of service
(``service_from``) falls in P; ``payer_id`` narrows everything to one payer.
Rates are fractions rounded to 4 places, ``None`` when the denominator is 0.

- **Clean-claim rate** = cohort claims submitted with no eligibility or scrub
  review task and not rejected (999/277CA) on their first submission ÷ cohort
  claims submitted.
- **First-pass acceptance** = cohort claims whose first submission
  (lowest claim version sent) the payer accepted ÷ those with an answer
  (accepted or rejected).
- **Denial rate** (HFMA MAP Key *Initial Denial Rate*, by claim count) =
  cohort claims with at least one denial (true duplicates closed
  automatically excluded) ÷ cohort claims the payer adjudicated (an 835 CLP that
  is not a reversal). Also *by payer* (same ratio per payer) and *by CARC*
  (claims with a denial of that group-CARC ÷ all adjudicated cohort claims).
- **Days in A/R** (gross: HFMA's MAP Key *Net Days in Revenue in A/R* divides by
  net revenue; claimdesk knows charges) = A/R at ``date_to`` ÷ (gross charges of
  the cohort ÷ days in P), to one decimal.
  A/R at a date = Σ over billed primary claims (sent or later, not voided)
  served on or before it of charge − ledger payments − ledger write-offs
  effective on or before it.
- **A/R over 90 days** (HFMA MAP Key *Aged A/R as a Percentage of Total Billed
  A/R*, > 90 days from date of service) = A/R of claims served more than 90 days
  before ``date_to`` ÷ A/R.
- **Net collection rate** (MGMA) = payments (payers + patient) on the cohort
  effective by ``date_to`` ÷ (cohort charges − contractual adjustments on the
  cohort effective by ``date_to``).
- **Appeal overturn rate** = appeals decided in P overturned in full or in part
  ÷ appeals decided in P.
- **Timely-filing losses** = denials with CARC 29 written off in P: count and
  amount (the ledger's write-off entries effective in P).
- **Queue depth and ageing** = open review tasks (open or claimed) per kind at
  ``as_of`` (default now), with the oldest age in days and ages bucketed
  0-1, 2-7, 8-30, 31+ days; **past SLA** = open tasks whose ``due_at`` is
  before ``as_of``.

The same formulas, with a worked example, are in ``docs/kpis.md``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, type_coerce
from sqlmodel import Session, col, select

from models import (
    Appeal,
    Claim,
    ClaimPayment,
    Denial,
    ReviewTask,
    SubmissionClaim,
)
from models.ledger import LedgerEntry
from models.types import Money, utcnow

ZERO = Decimal("0.00")
_PLACES = Decimal("0.0001")
_UNBILLED = ("draft", "eligibility_hold", "ready", "scrub_hold", "queued", "voided")
_PRE_SUBMISSION_REVIEWS = ("eligibility", "scrub")
_AGE_BUCKETS = ((1, "0-1"), (7, "2-7"), (30, "8-30"))  # upper bound in days, label
_OVER_90 = 90  # days from date of service (HFMA aged A/R)


class QueueAgeing(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    open: int
    oldest_days: int
    buckets: dict[str, int]
    past_sla: int


class Kpis(BaseModel):
    model_config = ConfigDict(frozen=True)

    date_from: date
    date_to: date
    payer_id: int | None
    claims_in_cohort: int
    clean_claim_rate: Decimal | None
    first_pass_acceptance: Decimal | None
    denial_rate: Decimal | None
    denial_rate_by_payer: dict[str, Decimal | None]
    denial_rate_by_carc: dict[str, Decimal | None]
    ar_total: Decimal
    days_in_ar: Decimal | None
    ar_over_90_share: Decimal | None
    net_collection_rate: Decimal | None
    appeal_overturn_rate: Decimal | None
    timely_filing_losses_count: int
    timely_filing_losses_amount: Decimal
    queues: list[QueueAgeing]
    tasks_past_sla: int


def _rate(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(_PLACES)


def compute_kpis(
    session: Session,
    *,
    date_from: date,
    date_to: date,
    payer_id: int | None = None,
    as_of: datetime | None = None,
) -> Kpis:
    """Every KPI for the period; see the module docstring for each formula."""
    as_of = as_of or utcnow()
    cohort_query = select(Claim).where(
        Claim.coverage_order == 1,
        Claim.status != "voided",
        Claim.service_from >= date_from,
        Claim.service_from <= date_to,
    )
    if payer_id is not None:
        cohort_query = cohort_query.where(Claim.payer_id == payer_id)
    cohort = list(session.exec(cohort_query).all())
    ids = [c.id for c in cohort if c.id is not None]

    clean, first_pass = _submission_rates(session, ids)
    denial_rate, by_payer, by_carc = _denial_rates(session, cohort)
    ar_total, over_90 = _accounts_receivable(session, date_to, payer_id)
    days = (date_to - date_from).days + 1
    charges = sum((c.total_charge for c in cohort), ZERO)
    daily = charges / days if days > 0 else ZERO
    days_in_ar = (ar_total / daily).quantize(Decimal("0.1")) if daily else None
    count, amount = _timely_filing_losses(session, date_from, date_to, payer_id)
    queues = _queues(session, as_of, payer_id)
    return Kpis(
        date_from=date_from,
        date_to=date_to,
        payer_id=payer_id,
        claims_in_cohort=len(cohort),
        clean_claim_rate=clean,
        first_pass_acceptance=first_pass,
        denial_rate=denial_rate,
        denial_rate_by_payer=by_payer,
        denial_rate_by_carc=by_carc,
        ar_total=ar_total,
        days_in_ar=days_in_ar,
        ar_over_90_share=_rate(over_90, ar_total),
        net_collection_rate=_net_collection_rate(session, cohort, charges, date_to),
        appeal_overturn_rate=_overturn_rate(session, date_from, date_to, payer_id),
        timely_filing_losses_count=count,
        timely_filing_losses_amount=amount,
        queues=queues,
        tasks_past_sla=sum(q.past_sla for q in queues),
    )


def _submission_rates(session: Session, ids: list[int]) -> tuple[Decimal | None, Decimal | None]:
    rows = session.exec(
        select(SubmissionClaim.claim_id, SubmissionClaim.claim_version, SubmissionClaim.outcome)
        .where(col(SubmissionClaim.claim_id).in_(ids))
        .order_by(col(SubmissionClaim.claim_version))
    ).all()
    first: dict[int, str | None] = {}
    for claim_id, _, outcome in rows:
        first.setdefault(claim_id, outcome)
    touched = set(
        session.exec(
            select(ReviewTask.claim_id).where(
                col(ReviewTask.claim_id).in_(ids),
                col(ReviewTask.kind).in_(_PRE_SUBMISSION_REVIEWS),
            )
        ).all()
    )
    clean = sum(1 for c, outcome in first.items() if c not in touched and outcome != "rejected")
    answered = [o for o in first.values() if o in ("accepted", "rejected")]
    return _rate(clean, len(first)), _rate(answered.count("accepted"), len(answered))


def _denial_rates(
    session: Session, cohort: list[Claim]
) -> tuple[Decimal | None, dict[str, Decimal | None], dict[str, Decimal | None]]:
    ids = [c.id for c in cohort]
    adjudicated = set(
        session.exec(
            select(ClaimPayment.claim_id).where(
                col(ClaimPayment.claim_id).in_(ids), ClaimPayment.status_code != "22"
            )
        ).all()
    )
    denials = session.exec(
        select(Denial.claim_id, Denial.group_code, Denial.reason_code).where(
            col(Denial.claim_id).in_(ids), Denial.status != "closed"
        )
    ).all()
    denied = {claim_id for claim_id, _, _ in denials if claim_id in adjudicated}
    payer_of = {c.id: c.payer_id for c in cohort}
    by_payer: dict[str, Decimal | None] = {}
    for payer in sorted({payer_of[c] for c in adjudicated}):
        mine = {c for c in adjudicated if payer_of[c] == payer}
        by_payer[str(payer)] = _rate(len(mine & denied), len(mine))
    codes: dict[str, set[int]] = defaultdict(set)
    for claim_id, group, reason in denials:
        if claim_id in adjudicated:
            codes[f"{group}-{reason}"].add(claim_id)
    by_carc = {code: _rate(len(claims), len(adjudicated)) for code, claims in sorted(codes.items())}
    return _rate(len(denied), len(adjudicated)), by_payer, by_carc


def _accounts_receivable(
    session: Session, as_of: date, payer_id: int | None
) -> tuple[Decimal, Decimal]:
    query = select(Claim).where(
        Claim.coverage_order == 1,
        col(Claim.status).not_in(_UNBILLED),
        Claim.service_from <= as_of,
    )
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    claims = session.exec(query).all()
    settled = dict(
        session.exec(
            select(LedgerEntry.claim_id, type_coerce(func.sum(LedgerEntry.amount), Money))
            .where(
                col(LedgerEntry.to_account).in_(("paid", "written_off")),
                LedgerEntry.effective_date <= as_of,
            )
            .group_by(col(LedgerEntry.claim_id))
        ).all()
    )
    total = over = ZERO
    for claim in claims:
        open_amount = claim.total_charge - (settled.get(claim.id or 0) or ZERO)
        total += open_amount
        if (as_of - claim.service_from).days > _OVER_90:
            over += open_amount
    return total, over


def _net_collection_rate(
    session: Session, cohort: list[Claim], charges: Decimal, as_of: date
) -> Decimal | None:
    ids = [c.id for c in cohort]
    sums = dict(
        session.exec(
            select(LedgerEntry.kind, type_coerce(func.sum(LedgerEntry.amount), Money))
            .where(
                col(LedgerEntry.claim_id).in_(ids),
                col(LedgerEntry.kind).in_(("payment", "patient_payment", "adjustment")),
                LedgerEntry.effective_date <= as_of,
            )
            .group_by(col(LedgerEntry.kind))
        ).all()
    )
    payments = (sums.get("payment") or ZERO) + (sums.get("patient_payment") or ZERO)
    return _rate(payments, charges - (sums.get("adjustment") or ZERO))


def _overturn_rate(
    session: Session, date_from: date, date_to: date, payer_id: int | None
) -> Decimal | None:
    start = datetime.combine(date_from, time.min, tzinfo=UTC)
    end = datetime.combine(date_to, time.max, tzinfo=UTC)
    query = (
        select(Appeal.outcome)
        .join(Claim, col(Claim.id) == col(Appeal.claim_id))
        .where(col(Appeal.decided_at) >= start, col(Appeal.decided_at) <= end)
    )
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    outcomes = session.exec(query).all()
    won = sum(1 for o in outcomes if o in ("overturned", "partially_overturned"))
    return _rate(won, len(outcomes))


def _timely_filing_losses(
    session: Session, date_from: date, date_to: date, payer_id: int | None
) -> tuple[int, Decimal]:
    query = (
        select(col(LedgerEntry.denial_id), col(LedgerEntry.amount))
        .join(Claim, col(Claim.id) == col(LedgerEntry.claim_id))
        .where(
            LedgerEntry.kind == "write_off",
            LedgerEntry.reason_code == "29",
            LedgerEntry.effective_date >= date_from,
            LedgerEntry.effective_date <= date_to,
        )
    )
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    rows = session.exec(query).all()
    return len({d for d, _ in rows}), sum((a for _, a in rows), ZERO)


def _queues(session: Session, as_of: datetime, payer_id: int | None) -> list[QueueAgeing]:
    query = select(ReviewTask).where(col(ReviewTask.status).in_(("open", "claimed")))
    if payer_id is not None:
        query = query.where(ReviewTask.payer_id == payer_id)
    by_kind: dict[str, list[ReviewTask]] = defaultdict(list)
    for task in session.exec(query).all():
        by_kind[task.kind].append(task)
    out = []
    for kind, tasks in sorted(by_kind.items()):
        ages = [max(0, (as_of - t.created_at).days) for t in tasks]
        buckets: Counter[str] = Counter()
        for age in ages:
            buckets[next((label for limit, label in _AGE_BUCKETS if age <= limit), "31+")] += 1
        out.append(
            QueueAgeing(
                kind=kind,
                open=len(tasks),
                oldest_days=max(ages),
                buckets={label: buckets[label] for label in ("0-1", "2-7", "8-30", "31+")},
                past_sla=sum(1 for t in tasks if t.due_at is not None and t.due_at < as_of),
            )
        )
    return out


__all__ = ["Kpis", "QueueAgeing", "compute_kpis"]
