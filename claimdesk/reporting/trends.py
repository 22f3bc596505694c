"""The manager's pictures as data: KPI trends by month, denial rate by payer × CARC class,
and dollars at risk by deadline week. Aggregates only (no PHI), so not audited as a view.

- **KPI trends**: ``compute_kpis`` for each calendar month of service (the current month
  to date), so a month's figure is exactly the KPI page's for that month.
- **Denial rate by payer × CARC class**: the cohort of ``denial_rate_by_payer`` (primary
  claims served in the period, not voided, adjudicated by an 835 other than a reversal);
  a cell is that payer's claims with a denial of that class ÷ that payer's adjudicated
  claims. The class is the CARC's routing class (``claimdesk.codes``: ``carc.csv``).
- **Dollars at risk by deadline week**: open or claimed tasks with a due date, by the
  Monday of the week they are due (anything past due is "overdue"); a denial task risks
  the denied amount, any other task its claim's charge.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.codes.loader import lookup
from claimdesk.db import session_scope
from claimdesk.reporting.kpis import compute_kpis
from models import Claim, ClaimPayment, Denial, Payer, ReviewTask
from models.types import utcnow

# The trend lines, with the definitions shown on hover (docs/kpis.md says the same).
KPI_DEFINITIONS: dict[str, tuple[str, str]] = {
    "clean_claim_rate": (
        "Clean-claim rate",
        "Claims submitted with no eligibility or scrub review and not rejected on their "
        "first submission ÷ claims submitted.",
    ),
    "first_pass_acceptance": (
        "First-pass acceptance",
        "Claims whose first submission the payer accepted (999/277CA) ÷ claims with an answer.",
    ),
    "denial_rate": (
        "Denial rate",
        "HFMA MAP Key Initial Denial Rate (claim count): claims with at least one denial ÷ "
        "claims the payer adjudicated.",
    ),
    "net_collection_rate": (
        "Net collection rate",
        "MGMA adjusted collection rate: payments (payers and patients) ÷ (charges − "
        "contractual adjustments).",
    ),
    "ar_over_90_share": (
        "A/R over 90 days",
        "HFMA MAP Key Aged A/R as a Percentage of Total Billed A/R: A/R of claims served "
        "more than 90 days before the month's end ÷ all A/R.",
    ),
    "days_in_ar": (
        "Days in A/R",
        "HFMA MAP Key Net Days in Revenue in A/R, gross version: A/R at the month's end ÷ "
        "(the month's gross charges ÷ its days).",
    ),
}
RATE_KPIS = tuple(k for k in KPI_DEFINITIONS if k != "days_in_ar")
OVERDUE = "overdue"
UNKNOWN_CLASS = "unknown"


@dataclass(frozen=True)
class KpiPoint:
    month: date  # the first day of the month
    kpi: str
    title: str
    value: float | None  # a fraction for rates, days for days_in_ar
    definition: str


@dataclass(frozen=True)
class HeatCell:
    payer: str
    carc_class: str
    denied: int
    adjudicated: int

    @property
    def rate(self) -> float:
        return self.denied / self.adjudicated if self.adjudicated else 0.0


@dataclass(frozen=True)
class WeekRisk:
    week: str  # ISO date of the week's Monday, or "overdue"
    dollars: Decimal
    tasks: int


def _months(today: date, count: int) -> list[tuple[date, date]]:
    first = today.replace(day=1)
    spans: list[tuple[date, date]] = []
    for _ in range(count):
        following = (first + timedelta(days=32)).replace(day=1)
        spans.append((first, min(following - timedelta(days=1), today)))
        first = (first - timedelta(days=1)).replace(day=1)
    return spans[::-1]


def kpi_trends(session: Session, *, today: date, months: int = 6) -> list[KpiPoint]:
    points: list[KpiPoint] = []
    for start, end in _months(today, months):
        kpis = compute_kpis(session, date_from=start, date_to=end)
        for name, (title, definition) in KPI_DEFINITIONS.items():
            raw = getattr(kpis, name)
            points.append(
                KpiPoint(start, name, title, None if raw is None else float(raw), definition)
            )
    return points


def carc_class(code: str) -> str:
    found = lookup("carc", code)
    return (found.code_class if found else None) or UNKNOWN_CLASS


def denial_heatmap(session: Session, *, date_from: date, date_to: date) -> list[HeatCell]:
    cohort = dict(
        session.exec(
            select(Claim.id, Claim.payer_id).where(
                Claim.coverage_order == 1,
                Claim.status != "voided",
                Claim.service_from >= date_from,
                Claim.service_from <= date_to,
            )
        ).all()
    )
    adjudicated = set(
        session.exec(
            select(ClaimPayment.claim_id).where(
                col(ClaimPayment.claim_id).in_(list(cohort)), ClaimPayment.status_code != "22"
            )
        ).all()
    )
    denied: dict[tuple[int, str], set[int]] = defaultdict(set)
    for claim_id, reason in session.exec(
        select(Denial.claim_id, Denial.reason_code).where(
            col(Denial.claim_id).in_(list(adjudicated)), Denial.status != "closed"
        )
    ).all():
        denied[(cohort[claim_id], carc_class(reason))].add(claim_id)
    names = {p.id: p.name for p in session.exec(select(Payer)).all()}
    per_payer: dict[int, int] = defaultdict(int)
    for adjudicated_id in adjudicated:
        per_payer[cohort[adjudicated_id]] += 1
    classes = sorted({c for _, c in denied})
    return [
        HeatCell(names.get(payer, str(payer)), klass, len(denied.get((payer, klass), ())), count)
        for payer, count in sorted(per_payer.items(), key=lambda p: names.get(p[0], ""))
        for klass in classes
    ]


def dollars_at_risk_by_week(session: Session, *, now: datetime, weeks: int = 12) -> list[WeekRisk]:
    rows = session.execute(
        sa_select(col(ReviewTask.due_at), col(ReviewTask.context), col(Claim.total_charge))
        .join(Claim, col(Claim.id) == col(ReviewTask.claim_id))
        .where(col(ReviewTask.status).in_(("open", "claimed")), col(ReviewTask.due_at).is_not(None))
    ).all()
    denial_ids = [int(c["denial_id"]) for _, c, _ in rows if c.get("denial_id") is not None]
    denied: dict[int, Decimal] = {
        int(i): amount
        for i, amount in session.execute(
            sa_select(col(Denial.id), col(Denial.amount)).where(col(Denial.id).in_(denial_ids))
        ).all()
    }
    this_week = now.date() - timedelta(days=now.date().weekday())
    last = this_week + timedelta(weeks=weeks - 1)
    totals: dict[str, tuple[Decimal, int]] = {}
    for due, context, charge in rows:
        assert due is not None
        denial = context.get("denial_id")
        amount = denied.get(int(denial), charge) if denial is not None else charge
        if due < now:
            week = OVERDUE
        else:
            monday = min(due.date() - timedelta(days=due.date().weekday()), last)
            week = monday.isoformat()
        dollars, count = totals.get(week, (Decimal(0), 0))
        totals[week] = (dollars + Decimal(amount), count + 1)
    order = sorted(totals, key=lambda w: "" if w == OVERDUE else w)
    return [WeekRisk(w, *totals[w]) for w in order]


@dataclass(frozen=True)
class Trends:
    kpis: list[KpiPoint]
    heatmap: list[HeatCell]
    at_risk: list[WeekRisk]


def read_trends(
    engine: Engine, *, username: str, today: date | None = None, months: int = 6
) -> Trends:
    """The dashboard's trend charts: the last ``months`` months of service."""
    now = utcnow()
    today = today or now.date()
    with session_scope(engine) as session:
        require(load_active_user(session, username), "dashboard.view")
        start = _months(today, months)[0][0]
        return Trends(
            kpis=kpi_trends(session, today=today, months=months),
            heatmap=denial_heatmap(session, date_from=start, date_to=today),
            at_risk=dollars_at_risk_by_week(session, now=now),
        )
