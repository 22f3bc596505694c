"""Learned contract rates: an underpaid line is flagged where no fee schedule is loaded,
no line of a steady month is, and a rate cut is named once with its month."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from claimdesk.db import make_engine, session_scope
from claimdesk.errors import PermissionDenied
from claimdesk.learning.history import line_outcomes
from claimdesk.learning.rates import (
    RateKey,
    file_learned_underpayments,
    file_new_learned_underpayments,
    learned_rates,
    rate_cut_flags,
    rate_cuts,
    underpayments,
)
from claimdesk.migrate import upgrade_database
from claimdesk.reporting.rate_changes import read_rate_cuts
from claimdesk.settings import Settings
from models import FeeSchedule, ReviewTask, User
from tests.learning.history import Line, office

TODAY = date(2026, 12, 15)
KEY = RateKey("SIMACM", "99214", ())


def _visit(allowed: str) -> Line:
    # Allowed = paid + the patient's 20%; the rest of the $150 charge is written down.
    value = Decimal(allowed)
    return Line(
        "99214", "150.00", patient=str(value * Decimal("0.2")), contractual=str(150 - value)
    )


def _history(session: Session) -> int:
    """SIMACM allows 99214 at $120 in September and October (one October visit at $100),
    then at $112.80 from November: a 6% cut. SIMBLU allows 99213 at $80 throughout."""
    acm = office(session, "SIMACM")
    underpaid = 0
    for month, amount in ((9, "120.00"), (10, "120.00"), (11, "112.80")):
        for day in range(1, 7):
            served = date(2026, month, day + 10)
            value = "100.00" if (month, day) == (10, 3) else amount
            claim = acm.claim([_visit(value)], served=served, paid_on=served + timedelta(days=14))
            if value == "100.00":
                underpaid = claim.id or 0
    blu = office(session, "SIMBLU")
    for month in (9, 10, 11):
        for day in range(1, 7):
            served = date(2026, month, day + 10)
            blu.claim(
                [Line("99213", "100.00", patient="16", contractual="20")],
                served=served,
                paid_on=served + timedelta(days=14),
            )
    return underpaid


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path)


def test_a_rate_cut_is_named_with_its_month_and_a_steady_payer_is_not(session: Session) -> None:
    _history(session)
    history = line_outcomes(session, today=TODAY)
    [cut] = rate_cuts(history)
    assert (cut.key, cut.since, cut.before, cut.after, cut.lines) == (
        KEY,
        date(2026, 11, 1),
        Decimal("120.00"),
        Decimal("112.80"),
        6,
    )
    assert cut.words == "SIMACM cut 99214 by 6% since 2026-11-01"
    rates = learned_rates(history)
    assert (rates[KEY].median, rates[KEY].lines, rates[KEY].since) == (
        Decimal("112.80"),
        6,
        date(2026, 11, 1),
    )
    steady = rates[RateKey("SIMBLU", "99213", ())]
    assert (steady.median, steady.low, steady.high, steady.lines) == (
        Decimal("80.00"),
        Decimal("80.00"),
        Decimal("80.00"),
        18,
    )


def test_only_the_underpaid_line_is_flagged_not_the_cut_month(session: Session) -> None:
    underpaid_claim = _history(session)
    found = underpayments(line_outcomes(session, today=TODAY))
    assert [(u.line.claim_id, u.allowed_per_unit, u.learned) for u in found] == [
        (underpaid_claim, Decimal("100.00"), Decimal("120.00"))
    ]
    assert found[0].shortfall == Decimal("20.00")


def test_a_remittance_task_without_a_fee_schedule_and_none_with_one(
    session: Session, settings: Settings
) -> None:
    underpaid_claim = _history(session)
    [task_id] = file_learned_underpayments(session, settings, today=TODAY)
    task = session.get(ReviewTask, task_id)
    assert task is not None
    assert (task.kind, task.claim_id) == ("remittance", underpaid_claim)
    assert task.context["reasons"] == ["underpayment"]
    assert task.context["basis"] == "learned_rate"
    assert len(task.context["service_payment_ids"]) == 1
    # Filed again: the same task, not a second one.
    assert file_learned_underpayments(session, settings, today=TODAY) == [task_id]
    assert rate_cut_flags(session, settings, today=TODAY) == [
        "SIMACM cut 99214 by 6% since 2026-11-01"
    ]


def test_with_a_fee_schedule_loaded_the_learned_rate_stays_out(
    session: Session, settings: Settings
) -> None:
    _history(session)
    [row] = {
        line.payer_row_id
        for line in line_outcomes(session, today=TODAY)
        if line.payer_code == "SIMACM"
    }
    session.add(
        FeeSchedule(
            payer_id=row,
            code="99214",
            effective_from=date(2026, 1, 1),
            expected_allowed=Decimal("100.00"),
        )
    )
    session.flush()
    assert file_learned_underpayments(session, settings, today=TODAY) == []
    assert session.exec(select(ReviewTask).where(ReviewTask.kind == "remittance")).all() == []


def test_after_posting_only_new_learned_underpayments_are_returned(
    fresh_settings: Settings,
) -> None:
    """What the remittance pickup calls after posting: the new tasks, for their runs; the
    same history again files nothing new."""
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    try:
        with session_scope(engine) as session:
            underpaid_claim = _history(session)
        [task_id] = file_new_learned_underpayments(engine, fresh_settings, today=TODAY)
        with Session(engine) as session:
            task = session.get_one(ReviewTask, task_id)
            assert (task.claim_id, task.context["basis"]) == (underpaid_claim, "learned_rate")
        assert file_new_learned_underpayments(engine, fresh_settings, today=TODAY) == []
    finally:
        engine.dispose()


def test_the_dashboard_reads_the_rate_cut_a_specialist_may_not(fresh_settings: Settings) -> None:
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    try:
        with session_scope(engine) as session:
            _history(session)
            session.add(User(username="max", role="manager", password_hash="x"))
            session.add(User(username="sam", role="specialist", password_hash="x"))
        flags = read_rate_cuts(engine, fresh_settings, username="max", today=TODAY)
        assert flags == ["SIMACM cut 99214 by 6% since 2026-11-01"]
        with pytest.raises(PermissionDenied):
            read_rate_cuts(engine, fresh_settings, username="sam", today=TODAY)
    finally:
        engine.dispose()
