"""The scrub engine: rules, versioned rule packs, findings and one pure ``run_rules``.

A rule's check reads a ``ClaimSnapshot`` and yields ``Hit``s (where, and the
codes to put in the message); ``Rule.evaluate`` turns them into ``Finding``s
with the rule's id, severity and message template, so a rule is a pure function
``ClaimSnapshot -> list[Finding]``. A broken claim produces findings; only a
broken rule raises, as ``RuleError`` naming the rule.

Findings' messages carry codes, positions, counts and field names, never PHI:
they end up in review tasks and may reach Prefect's logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from claimdesk.errors import ClaimdeskError
from claimdesk.rules.edit_data import describe_versions
from claimdesk.rules.snapshot import ClaimSnapshot

Severity = Literal["error", "warning"]
# Errors first: they are what stops a claim.
_SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1}


class RuleError(ClaimdeskError):
    """A rule itself failed (raised, or its message template did not fit its hit)."""

    def __init__(self, rule_id: str, claim_id: int, exc: BaseException) -> None:
        super().__init__(
            f"scrub rule {rule_id!r} failed on claim {claim_id} with "
            f"{type(exc).__name__}; fix or disable the rule in its pack.",
            # The exception text may quote claim values: shown to a person only.
            detail=str(exc)[:500],
        )
        self.rule_id = rule_id
        self.claim_id = claim_id


class Finding(BaseModel):
    """One problem found on a claim: ``field`` is a path such as ``lines[2].modifiers``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    severity: Severity
    field: str
    message: str


@dataclass(frozen=True)
class Hit:
    """Where a check found a problem (``None``: the rule's own field) and the message values."""

    field: str | None = None
    params: dict[str, object] = dataclass_field(default_factory=dict)


def hit(field: str | None = None, **params: object) -> Hit:
    """A hit at ``field`` (default: the rule's field) with values for the message template."""
    return Hit(field=field, params=params)


Check = Callable[[ClaimSnapshot], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A scrub rule: ``id`` like ``CD-NPI-001``; ``field`` the path it concerns
    (``lines[*]`` where it is per line); ``message`` a ``str.format`` template
    filled from each hit's params."""

    id: str
    severity: Severity
    field: str
    message: str
    check: Check

    def evaluate(self, snapshot: ClaimSnapshot) -> list[Finding]:
        """This rule's findings on ``snapshot``; raises ``RuleError`` if the rule is broken."""
        try:
            return [
                Finding(
                    rule_id=self.id,
                    severity=self.severity,
                    field=h.field or self.field,
                    message=self.message.format(**h.params),
                )
                for h in self.check(snapshot)
            ]
        except Exception as exc:
            raise RuleError(self.id, snapshot.claim_id, exc) from exc


@dataclass(frozen=True)
class RulePack:
    """A named, versioned set of rules; a scrub is recorded with ``label`` (name@version)."""

    name: str
    version: str
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule pack {self.name!r} lists rule {rule.id!r} twice")
            seen.add(rule.id)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def without(self, *rule_ids: str) -> RulePack:
        """This pack minus some rules, under a version marking the change."""
        kept = tuple(r for r in self.rules if r.id not in rule_ids)
        return RulePack(self.name, f"{self.version}-without-{'-'.join(sorted(rule_ids))}", kept)


class ScrubResult(BaseModel):
    """The findings of one scrub, sorted (errors first), the pack that produced them and
    the CMS data each edit kind read (``claimdesk.rules.edit_data.describe_versions``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int
    claim_version: int
    pack_name: str
    pack_version: str
    findings: tuple[Finding, ...]
    data_versions: dict[str, str] = {}

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Distinct rule ids that fired, in order: safe for logs and flow results."""
        return tuple(dict.fromkeys(f.rule_id for f in self.findings))


def sort_findings(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    return tuple(
        sorted(
            findings,
            key=lambda f: (_SEVERITY_ORDER[f.severity], _field_key(f.field), f.rule_id, f.message),
        )
    )


def _field_key(path: str) -> tuple[tuple[str, int], ...]:
    """Sort ``lines[10]`` after ``lines[2]``: numbers inside brackets compare as numbers."""
    parts: list[tuple[str, int]] = []
    for part in path.replace("]", "").split("."):
        name, _, index = part.partition("[")
        parts.append((name, int(index) if index.isdigit() else -1))
    return tuple(parts)


def run_rules(snapshot: ClaimSnapshot, pack: RulePack) -> ScrubResult:
    """Run every rule of ``pack`` on ``snapshot``; raises ``RuleError`` only for a broken rule."""
    findings: list[Finding] = []
    for rule in pack.rules:
        findings.extend(rule.evaluate(snapshot))
    return ScrubResult(
        claim_id=snapshot.claim_id,
        claim_version=snapshot.version,
        pack_name=pack.name,
        pack_version=pack.version,
        findings=sort_findings(findings),
        data_versions=describe_versions(snapshot.edit_data, snapshot.diagnosis_date),
    )
