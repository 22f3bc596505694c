"""Denial patterns in the office's own 835s, and the scrub rules they suggest.

A pattern is the denied lines sharing payer × procedure × modifiers × place of service ×
diagnosis family × CARC/RARC. A suggestion needs a clear split within one payer ×
procedure: lines *without* a modifier (or billed beside a code, for a bundled pair) are
mostly denied while the others are mostly paid, each side with enough lines.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from claimdesk.learning.history import DEFAULT_WINDOW_DAYS, ZERO, LineOutcome
from claimdesk.rules.learned import LearnedRuleSpec, fix_for

DEFAULT_MIN_LINES = 5
# Denied share at or above which the bad side counts as denied, at or below which the
# good side counts as paid: "≥80% denied without GP, ≤10% with GP".
DEFAULT_DENIED_SHARE = 0.8
DEFAULT_CLEAN_SHARE = 0.1


@dataclass(frozen=True)
class PatternKey:
    payer_code: str
    procedure_code: str
    modifiers: tuple[str, ...]
    place_of_service: str
    diagnosis_family: str
    carc: str
    rarcs: tuple[str, ...]


@dataclass(frozen=True)
class DenialPattern:
    key: PatternKey
    lines: int
    claims: int
    dollars: Decimal
    # The same payer × procedure's paid lines, split by whether they carry each of this
    # pattern's modifiers (none: the lines without any modifier).
    paid_same_modifiers: int
    paid_other_modifiers: int


class Suggestion(BaseModel):
    """A suggested scrub rule with the figures behind it."""

    model_config = ConfigDict(frozen=True)

    rule: LearnedRuleSpec
    carc: str
    bad_denied: int  # denied lines on the side the rule holds
    bad_total: int
    good_denied: int  # denied lines on the other side
    good_total: int
    claims: int
    dollars: Decimal
    window_days: int

    @property
    def words(self) -> str:
        return self.rule.words


def denial_patterns(lines: Iterable[LineOutcome]) -> list[DenialPattern]:
    """The denied lines grouped by their pattern key, most dollars first."""
    lines = list(lines)
    groups: dict[PatternKey, list[LineOutcome]] = defaultdict(list)
    for line in lines:
        if line.denied:
            key = PatternKey(
                line.payer_code,
                line.procedure_code,
                line.modifiers,
                line.place_of_service,
                line.diagnosis_family,
                line.carc or "",
                line.rarcs,
            )
            groups[key].append(line)
    paid: dict[tuple[str, str], list[LineOutcome]] = defaultdict(list)
    for line in lines:
        if line.was_paid:
            paid[(line.payer_code, line.procedure_code)].append(line)
    found = []
    for key, denied in groups.items():
        same = [
            p for p in paid[(key.payer_code, key.procedure_code)] if p.modifiers == key.modifiers
        ]
        found.append(
            DenialPattern(
                key=key,
                lines=len(denied),
                claims=len({d.claim_id for d in denied}),
                dollars=sum((d.denied_amount for d in denied), ZERO),
                paid_same_modifiers=len(same),
                paid_other_modifiers=len(paid[(key.payer_code, key.procedure_code)]) - len(same),
            )
        )
    return sorted(found, key=lambda p: (-p.dollars, -p.lines, str(p.key)))


def suggest_rules(
    lines: Iterable[LineOutcome],
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    min_lines: int = DEFAULT_MIN_LINES,
    denied_share: float = DEFAULT_DENIED_SHARE,
    clean_share: float = DEFAULT_CLEAN_SHARE,
) -> list[Suggestion]:
    """Rules the history supports: a missing modifier, or a code billed beside another."""
    by_code: dict[tuple[str, str], list[LineOutcome]] = defaultdict(list)
    for line in lines:
        by_code[(line.payer_code, line.procedure_code)].append(line)
    found: list[Suggestion] = []
    for (payer, code), group in sorted(by_code.items()):
        if not any(line.denied for line in group):
            continue
        for modifier in sorted({m for line in group for m in line.modifiers}):
            spec = LearnedRuleSpec(
                payer_id=payer, kind="required_modifier", procedure_code=code, modifier=modifier
            )
            found.extend(
                _split(
                    spec,
                    group,
                    window_days,
                    min_lines,
                    denied_share,
                    clean_share,
                )
            )
        for other in sorted({c for line in group for c in line.same_day_codes}):
            spec = LearnedRuleSpec(
                payer_id=payer, kind="bundled_pair", procedure_code=code, other_code=other
            )
            found.extend(
                _split(
                    spec,
                    group,
                    window_days,
                    min_lines,
                    denied_share,
                    clean_share,
                )
            )
    return sorted(found, key=lambda s: (-s.dollars, s.rule.payer_id, s.rule.procedure_code))


def _held(spec: LearnedRuleSpec, line: LineOutcome) -> bool:
    """Whether ``spec`` would hold ``line`` (``claimdesk.rules.learned.lines_held``'s test)."""
    if spec.kind == "required_modifier":
        return spec.modifier not in line.modifiers
    return spec.other_code in line.same_day_codes and spec.modifier not in line.modifiers


def _split(
    spec: LearnedRuleSpec,
    group: list[LineOutcome],
    window_days: int,
    min_lines: int,
    denied_share: float,
    clean_share: float,
) -> list[Suggestion]:
    bad = [line for line in group if _held(spec, line)]
    good = [line for line in group if not _held(spec, line)]
    if len(bad) < min_lines or len(good) < min_lines:
        return []
    bad_denied = [line for line in bad if line.denied]
    good_denied = sum(1 for line in good if line.denied)
    if len(bad_denied) < denied_share * len(bad) or good_denied > clean_share * len(good):
        return []
    carc = Counter(line.carc for line in bad_denied).most_common(1)[0][0] or ""
    dollars = sum((line.denied_amount for line in bad_denied), ZERO)
    if spec.kind == "required_modifier":
        condition, other_side = f"without {spec.modifier}", f"with {spec.modifier}"
    else:
        condition, other_side = f"with {spec.other_code} same day", f"without {spec.other_code}"
    words = (
        f"{spec.payer_id}: {spec.procedure_code} {condition} → hold; {carc}, "
        f"{len(bad_denied)} of {len(bad)} denied, {good_denied} of {len(good)} "
        f"{other_side} denied; ${dollars:,.0f} in {window_days} days"
    )
    return [
        Suggestion(
            rule=spec.model_copy(update={"words": words, "fix": fix_for(spec)}),
            carc=carc,
            bad_denied=len(bad_denied),
            bad_total=len(bad),
            good_denied=good_denied,
            good_total=len(good),
            claims=len({line.claim_id for line in bad_denied}),
            dollars=dollars,
            window_days=window_days,
        )
    ]
