"""Contract rates learned from posted 835s, underpayments against them, and rate cuts.

The allowed amount per unit of each paid line (paid + patient share + sequestration),
per payer × procedure × modifiers. Where the office loaded no fee schedule for a line
(``claimdesk.claims.fees.expected_allowed`` is None), one allowed below the others'
median by more than the margin is an underpayment: a ``remittance`` review task like the
fee schedule's (``claimdesk.remittance.claim_posting``). A payer whose allowed amounts
for a code all fall below the previous month's median has cut its rate: flagged once as
a cut (for the dashboard), and from that month on the new rate is the one learned.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.claims.fees import expected_allowed
from claimdesk.db import session_scope
from claimdesk.learning.history import LineOutcome, line_outcomes
from claimdesk.review.tasks import ensure_review_task
from claimdesk.settings import Settings
from models import Claim, ReviewTask

CENT = Decimal("0.01")
# A month's lines must number this many on both sides before a cut is read from them.
MIN_MONTH_LINES = 3
MIN_CUT = 0.02  # smaller moves are rounding and sequestration, not a new contract


@dataclass(frozen=True)
class RateKey:
    payer_code: str
    procedure_code: str
    modifiers: tuple[str, ...]

    @property
    def code(self) -> str:
        return "-".join((self.procedure_code, *self.modifiers))


@dataclass(frozen=True)
class LearnedRate:
    key: RateKey
    lines: int
    median: Decimal
    low: Decimal
    high: Decimal
    since: date | None  # the cut it is learned from, if any


@dataclass(frozen=True)
class RateCut:
    key: RateKey
    since: date  # the first day of the month the lower amounts start
    before: Decimal  # the previous month's median per unit
    after: Decimal
    lines: int  # the new month's lines

    @property
    def percent(self) -> int:
        return round((1 - self.after / self.before) * 100)

    @property
    def words(self) -> str:
        return f"{self.key.payer_code} cut {self.key.code} by {self.percent}% since {self.since}"


@dataclass(frozen=True)
class Underpayment:
    line: LineOutcome
    allowed_per_unit: Decimal
    learned: Decimal  # the other lines' median per unit
    shortfall: Decimal


def per_unit(line: LineOutcome) -> Decimal:
    units = line.units if line.units > 0 else Decimal(1)
    return (line.allowed / units).quantize(CENT)


def _key(line: LineOutcome) -> RateKey:
    return RateKey(line.payer_code, line.procedure_code, line.modifiers)


def _paid_by_key(lines: Iterable[LineOutcome]) -> dict[RateKey, list[LineOutcome]]:
    found: dict[RateKey, list[LineOutcome]] = defaultdict(list)
    for line in lines:
        if line.was_paid:
            found[_key(line)].append(line)
    return found


def _median(values: list[Decimal]) -> Decimal:
    return Decimal(statistics.median(values)).quantize(CENT)


def rate_cuts(lines: Iterable[LineOutcome], *, min_cut: float = MIN_CUT) -> list[RateCut]:
    """Month-over-month drops (by date of service) where every line of the later month is
    below the earlier month's median by at least ``min_cut``, oldest first."""
    cuts: list[RateCut] = []
    for key, paid in sorted(_paid_by_key(lines).items(), key=lambda kv: kv[0].code):
        months: dict[date, list[Decimal]] = defaultdict(list)
        for line in paid:
            months[line.service_date.replace(day=1)].append(per_unit(line))
        ordered = sorted(months)
        for earlier, later in itertools.pairwise(ordered):
            before, after = months[earlier], months[later]
            if len(before) < MIN_MONTH_LINES or len(after) < MIN_MONTH_LINES:
                continue
            ceiling = _median(before) * Decimal(str(1 - min_cut))
            if max(after) <= ceiling:
                cuts.append(RateCut(key, later, _median(before), _median(after), len(after)))
    return sorted(cuts, key=lambda c: (c.since, c.key.code))


def learned_rates(
    lines: Iterable[LineOutcome], *, min_lines: int = MIN_MONTH_LINES
) -> dict[RateKey, LearnedRate]:
    """The learned rate of each key with ``min_lines`` paid lines since its latest cut."""
    lines = list(lines)
    latest_cut = {cut.key: cut.since for cut in rate_cuts(lines)}
    rates: dict[RateKey, LearnedRate] = {}
    for key, paid in _paid_by_key(lines).items():
        since = latest_cut.get(key)
        amounts = [per_unit(ln) for ln in paid if since is None or ln.service_date >= since]
        if len(amounts) >= min_lines:
            rates[key] = LearnedRate(
                key, len(amounts), _median(amounts), min(amounts), max(amounts), since
            )
    return rates


def underpayments(
    lines: Iterable[LineOutcome], *, margin: float = 0.10, min_lines: int = 5
) -> list[Underpayment]:
    """Paid lines allowed below the median of the key's *other* lines of the same rate
    period (between its cuts) by more than ``margin``; ``min_lines`` others to be judged."""
    lines = list(lines)
    cut_dates: dict[RateKey, list[date]] = defaultdict(list)
    for cut in rate_cuts(lines):
        cut_dates[cut.key].append(cut.since)
    found: list[Underpayment] = []
    for key, paid in _paid_by_key(lines).items():
        periods: dict[date | None, list[LineOutcome]] = defaultdict(list)
        for line in paid:
            started = [d for d in cut_dates[key] if d <= line.service_date]
            periods[max(started) if started else None].append(line)
        for period in periods.values():
            for line in period:
                others = [per_unit(o) for o in period if o is not line]
                if len(others) < min_lines:
                    continue
                learned = _median(others)
                amount = per_unit(line)
                if amount < learned * Decimal(str(1 - margin)):
                    units = line.units if line.units > 0 else Decimal(1)
                    shortfall = ((learned - amount) * units).quantize(CENT)
                    found.append(Underpayment(line, amount, learned, shortfall))
    return sorted(found, key=lambda u: u.line.service_payment_id)


def file_learned_underpayments(session: Session, settings: Settings, *, today: date) -> list[int]:
    """A ``remittance`` review task per claim payment with a line underpaid against the
    learned rate where no fee schedule is loaded; returns the tasks' ids."""
    history = line_outcomes(session, today=today, days=settings.learning_window_days)
    by_payment: dict[int, list[Underpayment]] = defaultdict(list)
    for found in underpayments(
        history, margin=settings.learned_rate_margin, min_lines=settings.learning_min_lines
    ):
        line = found.line
        loaded = expected_allowed(
            session,
            payer_id=line.payer_row_id,
            code=line.procedure_code,
            modifier=line.modifiers[0] if line.modifiers else None,
            on=line.service_date,
        )
        if loaded is None:  # with a fee schedule the posting already judged the line
            by_payment[line.claim_payment_id].append(found)
    task_ids: list[int] = []
    for payment_id, flagged in sorted(by_payment.items()):
        first = flagged[0].line
        claim = session.get(Claim, first.claim_id)
        assert claim is not None
        shortfall = sum((u.shortfall for u in flagged), Decimal(0))
        task = ensure_review_task(
            session=session,
            kind="remittance",
            claim_id=claim.id,
            claim_version=claim.version,
            step=first.remittance_id,
            payer_id=first.payer_row_id,
            priority=min(1000, int(shortfall)),
            context={
                "reasons": ["underpayment"],
                "basis": "learned_rate",
                "remittance_id": first.remittance_id,
                "claim_payment_id": payment_id,
                "service_payment_ids": [u.line.service_payment_id for u in flagged],
                "learned_per_unit": {
                    str(u.line.service_payment_id): str(u.learned) for u in flagged
                },
                "shortfall": str(shortfall),
            },
        )
        assert task.id is not None
        task_ids.append(task.id)
    return task_ids


def rate_cut_flags(session: Session, settings: Settings, *, today: date) -> list[str]:
    """The dashboard's words for each rate cut in the window, newest first."""
    history = line_outcomes(session, today=today, days=settings.learning_window_days)
    return [cut.words for cut in reversed(rate_cuts(history))]


def file_new_learned_underpayments(engine: Engine, settings: Settings, *, today: date) -> list[int]:
    """After 835s are posted (the remittance pickup): file the learned-rate underpayments
    and return only the tasks this call created (the others already have their run)."""
    with session_scope(engine) as session:
        before = set(
            session.exec(select(ReviewTask.id).where(ReviewTask.kind == "remittance")).all()
        )
        filed = file_learned_underpayments(session, settings, today=today)
    return [task_id for task_id in filed if task_id not in before]
