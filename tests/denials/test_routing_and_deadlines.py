"""The shipped CARC routing table and the appeal deadline arithmetic (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claimdesk.denials import (
    AppealLevel,
    appeal_deadline,
    appeal_levels,
    due_date,
    load_routing_table,
    parse_routing_table,
)
from claimdesk.errors import ConfigError
from claimdesk.review.priority import value_priority

REQUIRED = [("CO", c) for c in "4 11 16 18 22 26 27 29 31 45 50 96 97 109 167 197 252 253".split()]
REQUIRED += [("PR", c) for c in ("1", "2", "3", "204")]


@pytest.mark.parametrize(("group", "carc"), REQUIRED)
def test_routing_table_covers_required_code(group: str, carc: str) -> None:
    table = load_routing_table()
    route = table.route(group, carc)
    assert route is not table.default_route
    assert (
        route.explanation
        and table.carc_description(carc) != f"Claim adjustment reason code {carc}."
    )


def test_routing_table_classifies_contractual_patient_and_prior_payer() -> None:
    table = load_routing_table()
    assert table.route("CO", "45").category == "contractual"
    assert table.route("CO", "253").category == "contractual"
    assert table.route("OA", "23").category == "prior_payer"
    assert {table.route("PR", c).category for c in "123"} == {"patient"}
    assert table.route("CO", "50").category == "denial"


def test_routing_table_narrows_by_rarc_and_payer_kind() -> None:
    table = load_routing_table()
    assert table.route("CO", "16").appealable
    assert not table.route("CO", "16", ["N290", "MA130"]).appealable
    assert table.route("CO", "29").action == "appeal"
    medicare = table.route("CO", "29", payer_kind="medicare")
    assert (medicare.action, medicare.appealable) == ("write_off", False)


def test_routing_table_routes_an_unknown_code_to_triage() -> None:
    table = load_routing_table()
    route = table.route("CO", "Z99")  # B7 is in the CARC list now; Z99 is in none
    assert (route.category, route.queue, route.action) == ("denial", "triage", "none")


def test_parse_routing_table_names_the_bad_field() -> None:
    with pytest.raises(ConfigError, match=r"routes\.0\.category"):
        parse_routing_table(
            '{"version": "x", "routes": [{"carc": "1", "category": "nope", "queue": "q",'
            ' "action": "none", "explanation": "e"}], "default_route": {"category": "denial",'
            ' "queue": "q", "action": "appeal", "explanation": "e"}}'
        )


def test_medicare_levels_count_from_notice_plus_five_days() -> None:
    levels = appeal_levels([], payer_kind="medicare")
    assert [(lv.level, lv.window_days) for lv in levels] == [
        (1, 120),
        (2, 180),
        (3, 60),
        (4, 60),
        (5, 60),
    ]
    notice = date(2026, 11, 2)
    assert appeal_deadline(notice, levels[0]) == date(2027, 3, 7)  # 2 Nov + 5 + 120 days
    assert appeal_deadline(notice, levels[1]) == date(2027, 5, 6)  # + 5 + 180


def test_payer_levels_come_from_its_appeal_levels_json() -> None:
    levels = appeal_levels(
        [
            {"level": 2, "window_days": 60, "clock_starts": "notice"},
            {"level": 1, "window_days": 90, "clock_starts": "notice+3"},
        ],
        payer_kind="commercial",
    )
    assert [lv.level for lv in levels] == [1, 2]
    assert appeal_deadline(date(2026, 1, 1), levels[0]) == date(2026, 4, 4)


def test_commercial_payer_without_levels_gets_one_default_level() -> None:
    [level] = appeal_levels([], payer_kind="commercial", default_window_days=180)
    assert appeal_deadline(date(2026, 1, 1), level) == date(2026, 6, 30)


def test_bad_clock_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="clock_starts"):
        appeal_levels(
            [{"level": 1, "window_days": 30, "clock_starts": "whenever"}], payer_kind="commercial"
        )


def test_due_date_is_the_deadline_less_the_buffer() -> None:
    assert due_date(date(2027, 3, 7), 14) == date(2027, 2, 21)


def test_denial_priority_weighs_amount_by_days_left() -> None:
    today = date(2026, 11, 1)
    assert value_priority(Decimal("300"), date(2026, 12, 1), today) == 100  # 30 days left
    assert value_priority(Decimal("300"), date(2026, 11, 4), today) == 1000  # 3 days: capped
    assert value_priority(Decimal("50"), date(2027, 3, 1), today) == 4
    assert value_priority(Decimal("1"), date(2026, 10, 1), today) == 1000  # past the deadline
    assert AppealLevel(level=1, window_days=1).mailing_days() == 0
