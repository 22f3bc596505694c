"""Denial patterns, suggested rules and their backtest on hand-made history: exact counts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from claimdesk.learning.backtest import backtest, backtest_pack
from claimdesk.learning.history import line_outcomes
from claimdesk.learning.patterns import PatternKey, denial_patterns, suggest_rules
from claimdesk.rules.learned import LearnedRuleSpec
from tests.learning.history import Line, office

TODAY = date(2026, 12, 1)
SERVED = date(2026, 10, 1)
PAID_ON = date(2026, 10, 20)


def _history(session: Session) -> None:
    """SIMBLU denies 97110 without GP (14 of 15), pays it with GP (31 of 31); SIMBLU
    bundles 97530 into 97140 on 3 of 4 claims; SIMACM pays 97110 without GP."""
    blu = office(session, "SIMBLU")
    for _ in range(14):
        blu.claim([Line("97110", denied="4", remarks=("N519",))], served=SERVED, paid_on=PAID_ON)
    blu.claim([Line("97110")], served=SERVED, paid_on=PAID_ON)
    for _ in range(31):
        blu.claim([Line("97110", modifiers=("GP",))], served=SERVED, paid_on=PAID_ON)
    for _ in range(3):
        blu.claim(
            [Line("97140", "60.00"), Line("97530", "50.00", denied="97")],
            served=SERVED,
            paid_on=PAID_ON,
        )
    blu.claim([Line("97140", "60.00"), Line("97530", "50.00")], served=SERVED, paid_on=PAID_ON)
    # Outside the 90-day window: never counted.
    old = TODAY - timedelta(days=120)
    for _ in range(3):
        blu.claim([Line("97110", denied="4")], served=old, paid_on=old)
    acm = office(session, "SIMACM")
    for _ in range(6):
        acm.claim([Line("97110")], served=SERVED, paid_on=PAID_ON)


@pytest.fixture
def history(session: Session) -> Session:
    _history(session)
    return session


def test_the_window_keeps_only_lines_paid_or_denied_in_it(history: Session) -> None:
    lines = line_outcomes(history, today=TODAY)
    assert len(lines) == 14 + 1 + 31 + 8 + 6
    assert sum(1 for line in lines if line.denied) == 14 + 3
    assert len(line_outcomes(history, today=TODAY, days=200)) == len(lines) + 3


def test_denied_lines_group_by_their_pattern_with_the_paid_lines_beside(history: Session) -> None:
    patterns = denial_patterns(line_outcomes(history, today=TODAY))
    assert [p.key for p in patterns] == [
        PatternKey("SIMBLU", "97110", (), "11", "M54", "CO-4", ("N519",)),
        PatternKey("SIMBLU", "97530", (), "11", "M54", "CO-97", ()),
    ]
    gp = patterns[0]
    assert (gp.lines, gp.claims, gp.dollars) == (14, 14, Decimal("1960.00"))
    assert (gp.paid_same_modifiers, gp.paid_other_modifiers) == (1, 31)
    bundled = patterns[1]
    assert (bundled.lines, bundled.claims, bundled.dollars) == (3, 3, Decimal("150.00"))


def test_a_clear_split_becomes_a_suggested_rule_in_words(history: Session) -> None:
    suggestions = suggest_rules(line_outcomes(history, today=TODAY))
    # The bundled pair has 4 claims beside 97140, under the 5 a suggestion needs.
    assert len(suggestions) == 1
    found = suggestions[0]
    assert found.rule.kind == "required_modifier"
    assert (found.rule.payer_id, found.rule.procedure_code, found.rule.modifier) == (
        "SIMBLU",
        "97110",
        "GP",
    )
    assert found.words == (
        "SIMBLU: 97110 without GP → hold; CO-4, 14 of 15 denied, 0 of 31 with GP denied; "
        "$1,960 in 90 days"
    )
    assert found.rule.fix == "add modifier GP"
    assert (found.claims, found.dollars) == (14, Decimal("1960.00"))


def test_support_and_split_thresholds_decide(history: Session) -> None:
    lines = line_outcomes(history, today=TODAY)
    assert suggest_rules(lines, min_lines=16) == []  # 15 lines without GP
    # With 4 lines enough, 97530 beside 97140 (3 of 4 denied, 75%) still needs 80%.
    assert [s.rule.kind for s in suggest_rules(lines, min_lines=4)] == ["required_modifier"]
    pair = suggest_rules(lines, min_lines=4, denied_share=0.75)
    assert [s.rule.kind for s in pair] == ["required_modifier"]  # the other side: 0 of 0


def test_backtest_of_the_suggestion_counts_exactly(history: Session) -> None:
    lines = line_outcomes(history, today=TODAY)
    result = backtest(suggest_rules(lines)[0].rule, lines)
    assert result.claims_replayed == 14 + 1 + 31 + 4 + 6
    assert (result.claims_held, result.lines_held) == (15, 15)
    assert (result.denials_caught, result.claims_caught) == (14, 14)
    assert result.dollars_caught == Decimal("1960.00")
    assert result.false_holds == 1  # the one 97110 paid without GP
    assert result.denials_missed == 0


def test_backtest_of_a_hand_written_bundled_pair(history: Session) -> None:
    rule = LearnedRuleSpec(
        payer_id="SIMBLU", kind="bundled_pair", procedure_code="97530", other_code="97140"
    )
    result = backtest(rule, line_outcomes(history, today=TODAY))
    assert (result.claims_held, result.denials_caught, result.false_holds) == (4, 3, 1)
    assert result.dollars_caught == Decimal("150.00")
    # Marked distinct (59) it holds nothing: no line carries 59, so the same 4.
    distinct = rule.model_copy(update={"modifier": "59"})
    assert backtest(distinct, line_outcomes(history, today=TODAY)).claims_held == 4
    other_payer = rule.model_copy(update={"payer_id": "SIMACM"})
    assert backtest(other_payer, line_outcomes(history, today=TODAY)).claims_held == 0


def test_a_rule_missing_its_modifier_is_refused() -> None:
    with pytest.raises(ValueError, match="names its modifier"):
        LearnedRuleSpec(payer_id="SIMBLU", kind="required_modifier", procedure_code="97110")


def test_backtest_of_a_candidate_pack_counts_each_claim_once(history: Session) -> None:
    lines = line_outcomes(history, today=TODAY)
    bundled = LearnedRuleSpec(
        payer_id="SIMBLU", kind="bundled_pair", procedure_code="97530", other_code="97140"
    )
    result = backtest_pack([suggest_rules(lines)[0].rule, bundled], lines)
    assert (result.claims_held, result.denials_caught, result.claims_caught) == (19, 17, 17)
    assert (result.false_holds, result.denials_missed) == (2, 0)
    assert result.dollars_caught == Decimal("2110.00")
    with pytest.raises(ValueError, match="at least one rule"):
        backtest_pack([], lines)
