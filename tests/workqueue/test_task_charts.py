"""The task page's pictures as data: the timeline's lanes and the money's steps."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from claimdesk.claims.ledger import ClaimBalance
from claimdesk.workqueue import task_charts, task_view
from tests.workqueue.test_forms import _world


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dict[str, Any]]]:
    from claimdesk.settings import Settings

    engine, data = _world(Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("charts")))
    yield engine, data
    engine.dispose()


def test_the_timeline_puts_each_step_on_its_lane_in_order(
    story: tuple[Engine, dict[str, Any]],
) -> None:
    engine, data = story
    view = task_view.read_task_view(engine, username="spec1", task_id=data["denial_task"])
    points = task_charts.timeline_points(view)
    lanes = {p.lane for p in points}
    assert {"Sent", "Acknowledged", "Paid / denied", "People"} <= lanes
    assert lanes <= set(task_charts.LANES)
    assert [p.at for p in points] == sorted(p.at for p in points)
    moves = [(p.lane, p.label) for p in points if p.label.startswith("claim.status_changed")]
    assert [lane for lane, _ in moves] == ["Sent", "Acknowledged", "Paid / denied"]
    comment = next(p for p in points if p.label == "Asked the payer for the policy.")
    assert comment.lane == "People" and comment.who == "spec1"


def test_the_money_walks_from_the_charge_to_what_insurance_still_owes(
    story: tuple[Engine, dict[str, Any]],
) -> None:
    engine, data = story
    view = task_view.read_task_view(engine, username="spec1", task_id=data["denial_task"])
    steps = task_charts.task_money(view)
    assert [(s.label, s.amount) for s in steps] == [
        ("Charge", Decimal("200.00")),
        ("Contractual adjustments", Decimal("-50.00")),
        ("Allowed", Decimal("150.00")),
        ("Written off", Decimal("0.00")),
        ("Paid by payers", Decimal("-100.00")),
        ("Paid by the patient", Decimal("-5.00")),
        ("Patient owes", Decimal("-15.00")),
        ("Insurance still owes", Decimal("30.00")),  # the CO-50 denied amount
    ]
    for before, after in itertools.pairwise(steps):
        if not after.total and not before.total:
            assert after.start == before.end  # each change starts where the last ended


def test_a_balance_that_does_not_add_up_says_so() -> None:
    z = Decimal(0)
    odd = ClaimBalance(1, Decimal(100), Decimal(10), z, z, z, Decimal(80), z)
    steps = task_charts.money_steps(odd)
    assert [(s.label, s.amount) for s in steps[-2:]] == [
        ("Not explained", Decimal(-10)),
        ("Insurance still owes", Decimal(80)),
    ]
