"""The manager's trends and a patient's history as data, on a real migrated database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from claimdesk.billing import views as billing
from claimdesk.billing.views import ClaimLine, LedgerLine, PatientDetail
from claimdesk.claims.ledger import ClaimBalance
from claimdesk.errors import PermissionDenied
from claimdesk.reporting import patient_history, trends
from models.types import utcnow
from tests.conftest import DB_BACKENDS
from tests.workqueue.task_story import PRIMARY
from tests.workqueue.test_forms import _world


@pytest.fixture(scope="module", params=DB_BACKENDS)
def story(
    request: pytest.FixtureRequest, databases: Any
) -> Iterator[tuple[Engine, dict[str, Any]]]:
    engine, data = _world(databases.settings(request.param))
    yield engine, data
    engine.dispose()


def test_kpi_trends_are_the_kpis_of_each_month_with_their_definitions(
    story: tuple[Engine, dict[str, Any]],
) -> None:
    engine, data = story
    t = trends.read_trends(engine, username="mgr1", months=3)
    months = sorted({p.month for p in t.kpis})
    assert len(months) == 3 and all(m.day == 1 for m in months)
    served = date.fromisoformat(data["served"]).replace(day=1)
    denial = {p.month: p for p in t.kpis if p.kpi == "denial_rate"}
    assert denial[served].value == 1.0  # the one adjudicated claim of that month was denied
    assert "HFMA" in denial[served].definition
    assert {p.kpi for p in t.kpis} == set(trends.KPI_DEFINITIONS)


def test_denial_rate_by_payer_and_carc_class(story: tuple[Engine, dict[str, Any]]) -> None:
    engine, _ = story
    t = trends.read_trends(engine, username="mgr1", months=3)
    cells = {(c.payer, c.carc_class): c for c in t.heatmap}
    cell = cells[(PRIMARY[0], trends.carc_class("50"))]
    assert (cell.denied, cell.adjudicated, cell.rate) == (1, 1, 1.0)
    assert trends.carc_class("50") == "medical_necessity"
    assert trends.carc_class("Z99") == trends.UNKNOWN_CLASS


def test_dollars_at_risk_by_week_count_a_denial_at_its_denied_amount(
    story: tuple[Engine, dict[str, Any]],
) -> None:
    engine, _ = story
    t = trends.read_trends(engine, username="mgr1")
    by_week = {w.week: w for w in t.at_risk}
    # The seed's scrub tasks (125.00 each) were due a day ago, just now, then daily; the
    # eligibility task (125.00) tomorrow; the denial (30.00 denied of 200.00) in ten days.
    overdue = by_week[trends.OVERDUE]
    assert (overdue.tasks, overdue.dollars) == (2, Decimal("250.00"))
    assert sum(w.dollars for w in t.at_risk) == Decimal("905.00")
    assert sum(w.tasks for w in t.at_risk) == 8
    weeks = [w.week for w in t.at_risk if w.week != trends.OVERDUE]
    assert weeks == sorted(weeks) and all(date.fromisoformat(w).weekday() == 0 for w in weeks)


def test_trends_are_for_the_dashboard_s_roles(story: tuple[Engine, dict[str, Any]]) -> None:
    engine, _ = story
    with pytest.raises(PermissionDenied):
        trends.read_trends(engine, username="spec1")


def test_a_patient_s_balance_and_ageing_over_time(story: tuple[Engine, dict[str, Any]]) -> None:
    engine, data = story
    today = utcnow().date()
    detail = billing.read_patient_detail(
        engine, username="spec1", patient_id=data["patient"], as_of=today
    )
    history = patient_history.balance_history(detail, as_of=today)
    assert history[-1] == patient_history.BalancePoint(today, Decimal("15.00"), Decimal("30.00"))
    assert [p.day for p in history] == sorted(p.day for p in history)
    served = date.fromisoformat(data["served"])
    assert history[0] == patient_history.BalancePoint(served, Decimal("0.00"), Decimal("200.00"))
    ageing = patient_history.ageing_history(detail, as_of=today)
    last = {p.bucket: p.dollars for p in ageing if p.month_end == today}
    assert last["0-30"] == Decimal("15.00") and sum(last.values()) == Decimal("15.00")


def _balance(charge: str) -> ClaimBalance:
    z = Decimal("0.00")
    return ClaimBalance(1, Decimal(charge), z, z, z, z, Decimal(charge), z)


def test_ageing_moves_a_balance_through_the_buckets_month_by_month() -> None:
    arose = date(2026, 1, 10)
    detail = PatientDetail(
        patient_id=1, name="x", birth_date=date(1970, 1, 1), account_number="A", address="",
        member_ids=(), payments=(), plans=(), statements=(),
        claims=(
            ClaimLine(1, "PCN1", date(2026, 1, 2), "P", "paid", _balance("100.00")),
            ClaimLine(2, "PCN2", date(2026, 3, 1), "P", "sent", _balance("60.00")),  # not posted
        ),
        ledger=(
            LedgerLine(1, 1, date(2026, 1, 2), "charge", "charge", "insurance", Decimal("100"), ""),
            LedgerLine(2, 1, arose, "transfer", "insurance", "patient", Decimal("40"), "PR-1"),
            LedgerLine(3, 1, arose, "payment", "insurance", "paid", Decimal("60"), ""),
        ),
    )  # fmt: skip
    ageing = patient_history.ageing_history(detail, as_of=date(2026, 5, 20))
    where = {p.month_end: p.bucket for p in ageing if p.dollars}
    assert where == {
        date(2026, 1, 31): "0-30",
        date(2026, 2, 28): "31-60",
        date(2026, 3, 31): "61-90",
        date(2026, 4, 30): "91-120",
        date(2026, 5, 20): "120+",
    }
    history = patient_history.balance_history(detail, as_of=date(2026, 5, 20))
    assert history[-1].insurance == Decimal("60") and history[-1].patient == Decimal("40")
    assert date(2026, 3, 1) in {p.day for p in history}  # the unposted claim's charge, implied
