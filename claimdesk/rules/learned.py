"""Scrub rules learned from the office's own denials, as pure values and checks.

``claimdesk.learning`` finds and backtests them; a lead approves them; the submission
stage reads the approved ones (``claimdesk.submission.learned``) and scrubs with
``with_learned(pack, specs, version)``. The backtest and the scrubber both decide with
``lines_held``, so what a backtest counted is what the scrubber will hold.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from claimdesk.rules.engine import Hit, Rule, RulePack, hit
from claimdesk.rules.snapshot import ClaimSnapshot

LearnedKind = Literal["required_modifier", "bundled_pair"]


class LearnedRuleSpec(BaseModel):
    """One learned rule.

    - ``required_modifier``: a ``procedure_code`` line for this payer without ``modifier``.
    - ``bundled_pair``: a ``procedure_code`` line on the same date as an ``other_code`` line
      (the payer bundles it into that code); a line carrying ``modifier`` (say 59) passes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = "draft"
    payer_id: str
    kind: LearnedKind
    procedure_code: str
    modifier: str | None = None
    other_code: str | None = None
    words: str = ""
    fix: str = ""

    @model_validator(mode="after")
    def _complete(self) -> LearnedRuleSpec:
        if self.kind == "required_modifier" and not self.modifier:
            raise ValueError("a required_modifier rule names its modifier")
        if self.kind == "bundled_pair" and not self.other_code:
            raise ValueError("a bundled_pair rule names other_code (the code it bundles into)")
        return self


def lines_held(spec: LearnedRuleSpec, snapshot: ClaimSnapshot) -> tuple[int, ...]:
    """Numbers of the claim's lines ``spec`` holds (none for another payer)."""
    if snapshot.payer.payer_id != spec.payer_id:
        return ()
    held: list[int] = []
    for line in snapshot.lines:
        if line.procedure_code != spec.procedure_code:
            continue
        has_modifier = spec.modifier is not None and spec.modifier in line.modifiers
        if spec.kind == "required_modifier":
            if not has_modifier:
                held.append(line.number)
        elif not has_modifier and any(
            other.procedure_code == spec.other_code and other.service_date == line.service_date
            for other in snapshot.lines
            if other.number != line.number
        ):
            held.append(line.number)
    return tuple(held)


def fix_for(spec: LearnedRuleSpec) -> str:
    """The suggested fix a held claim shows, in words."""
    if spec.kind == "required_modifier":
        return f"add modifier {spec.modifier}"
    return f"do not bill {spec.procedure_code} with {spec.other_code}, or mark it distinct (59)"


def learned_rule(spec: LearnedRuleSpec) -> Rule:
    def check(snapshot: ClaimSnapshot) -> Iterator[Hit]:
        for number in lines_held(spec, snapshot):
            yield hit(f"lines[{number}].modifiers", words=spec.words, fix=spec.fix)

    return Rule(
        id=f"CD-LEARN-{spec.id}",
        severity="error",
        field="lines[*].modifiers",
        # The words and fix are values, not templates: braces in them stay as written.
        message="{words}; suggested fix: {fix}",
        check=check,
    )


def with_learned(pack: RulePack, specs: Sequence[LearnedRuleSpec], version: int) -> RulePack:
    """``pack`` plus the approved learned rules, labelled ``<version>+learned.<n>``."""
    if version <= 0 and not specs:
        return pack
    rules = (*pack.rules, *(learned_rule(s) for s in specs))
    return RulePack(pack.name, f"{pack.version}+learned.{version}", rules)
