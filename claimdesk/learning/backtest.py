"""Replay a learned rule over the window's adjudications: what would it have held?

Each claim payment (one CLP: one adjudication of one claim) is replayed as a scrub
snapshot of the lines the payer adjudicated, through ``claimdesk.rules.learned.lines_held``,
the same check the scrubber runs once the rule is approved. A held claim whose held
lines were all paid is a *false hold*: work the rule would have made for nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from claimdesk.learning.history import ZERO, LineOutcome
from claimdesk.rules.learned import LearnedRuleSpec, lines_held
from claimdesk.rules.snapshot import ClaimSnapshot, LineSnapshot, PayerSnapshot


class Counts(BaseModel):
    model_config = ConfigDict(frozen=True)

    claims_replayed: int
    claims_held: int
    lines_held: int
    denials_caught: int  # held lines the payer denied
    claims_caught: int  # held claims with at least one denied held line
    dollars_caught: Decimal
    false_holds: int  # held claims whose held lines were all paid
    denials_missed: int  # denied lines of the rules' payer × procedure they would not hold

    @property
    def words(self) -> str:
        return (
            f"would have held {self.claims_held} of {self.claims_replayed} claims: "
            f"{self.denials_caught} denied lines caught (${self.dollars_caught:,.2f}), "
            f"{self.false_holds} paid claims held, {self.denials_missed} denials missed"
        )


class Backtest(Counts):
    rule: LearnedRuleSpec


class PackBacktest(Counts):
    """A candidate pack: a claim is held when any of its rules holds one of its lines."""

    rules: tuple[LearnedRuleSpec, ...]


def adjudication_snapshot(lines: list[LineOutcome]) -> ClaimSnapshot:
    """The scrub snapshot of one claim payment's lines, as the rules see a claim."""
    first = lines[0]
    return ClaimSnapshot(
        claim_id=first.claim_id,
        place_of_service=first.place_of_service,
        service_from=min(line.service_date for line in lines),
        service_to=max(line.service_date for line in lines),
        total_charge=sum((line.charge for line in lines), ZERO),
        lines=tuple(
            LineSnapshot(
                number=line.line_number,
                procedure_code=line.procedure_code,
                modifiers=line.modifiers,
                charge=line.charge,
                units=line.units if line.units > 0 else Decimal(1),
                service_date=line.service_date,
            )
            for line in sorted(lines, key=lambda ln: ln.line_number)
        ),
        payer=PayerSnapshot(row_id=first.payer_row_id, payer_id=first.payer_code),
        today=first.paid_on,
    )


def backtest(rule: LearnedRuleSpec, history: Iterable[LineOutcome]) -> Backtest:
    return Backtest(rule=rule, **_replay((rule,), history))


def backtest_pack(rules: Sequence[LearnedRuleSpec], history: Iterable[LineOutcome]) -> PackBacktest:
    if not rules:
        raise ValueError("a candidate pack needs at least one rule")
    return PackBacktest(rules=tuple(rules), **_replay(rules, history))


def _replay(rules: Sequence[LearnedRuleSpec], history: Iterable[LineOutcome]) -> dict[str, Any]:
    by_payment: dict[int, list[LineOutcome]] = defaultdict(list)
    for line in history:
        by_payment[line.claim_payment_id].append(line)
    covered = {(rule.payer_id, rule.procedure_code) for rule in rules}
    held_claims = held_lines = caught = caught_claims = false_holds = missed = 0
    dollars = ZERO
    for payment_lines in by_payment.values():
        snapshot = adjudication_snapshot(payment_lines)
        numbers = {n for rule in rules for n in lines_held(rule, snapshot)}
        held = [line for line in payment_lines if line.line_number in numbers]
        missed += sum(
            1
            for line in payment_lines
            if line.denied
            and line.line_number not in numbers
            and (line.payer_code, line.procedure_code) in covered
        )
        if not held:
            continue
        held_claims += 1
        held_lines += len(held)
        denied = [line for line in held if line.denied]
        caught += len(denied)
        dollars += sum((line.denied_amount for line in denied), ZERO)
        if denied:
            caught_claims += 1
        else:
            false_holds += 1
    return {
        "claims_replayed": len(by_payment),
        "claims_held": held_claims,
        "lines_held": held_lines,
        "denials_caught": caught,
        "claims_caught": caught_claims,
        "dollars_caught": dollars,
        "false_holds": false_holds,
        "denials_missed": missed,
    }
