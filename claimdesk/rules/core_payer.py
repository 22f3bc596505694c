"""Core rules that need the payer's configuration or the patient's other claims:
prior authorization, duplicates, and payer-specific settings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from claimdesk.rules.engine import Hit, Rule, hit
from claimdesk.rules.snapshot import AuthorizationSnapshot, ClaimSnapshot, LineSnapshot


def _authorizations_for(s: ClaimSnapshot, line: LineSnapshot) -> list[AuthorizationSnapshot]:
    return [a for a in s.authorizations if a.covers(line.procedure_code, line.service_date)]


def _prior_auth_missing(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        if line.procedure_code in s.payer.prior_auth_codes and not _authorizations_for(s, line):
            yield hit(
                f"lines[{line.number}].procedure_code",
                line=line.number,
                code=line.procedure_code,
                payer_id=s.payer.payer_id,
            )


def _prior_auth_units_exceeded(s: ClaimSnapshot) -> Iterator[Hit]:
    """The claim's units of a code exceed every authorization on file that covers them."""
    units: dict[str, Decimal] = defaultdict(Decimal)
    first_line: dict[str, LineSnapshot] = {}
    for line in s.lines:
        if line.procedure_code in s.payer.prior_auth_codes:
            units[line.procedure_code] += line.units
            first_line.setdefault(line.procedure_code, line)
    for code, billed in units.items():
        line = first_line[code]
        found = _authorizations_for(s, line)
        if found and all(a.units is not None and billed > a.units for a in found):
            allowed = max(a.units or 0 for a in found)
            yield hit(f"lines[{line.number}].units", code=code, units=billed, authorized=allowed)


def _fingerprint(line: LineSnapshot) -> tuple[date, str, tuple[str, ...]]:
    return line.service_date, line.procedure_code, tuple(sorted(line.modifiers))


def _duplicate_of_other_claim(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.frequency_code == "8":
        return  # a void repeats its original by definition
    others: dict[tuple[date, str, tuple[str, ...]], int] = {}
    for other in s.other_services:
        key = (other.service_date, other.procedure_code, tuple(sorted(other.modifiers)))
        others.setdefault(key, other.claim_id)
    for line in s.lines:
        other_claim = others.get(_fingerprint(line))
        if other_claim is not None:
            yield hit(
                f"lines[{line.number}].procedure_code",
                line=line.number,
                code=line.procedure_code,
                other_claim=other_claim,
            )


def _duplicate_line(s: ClaimSnapshot) -> Iterator[Hit]:
    seen: dict[tuple[date, str, tuple[str, ...]], int] = {}
    for line in s.lines:
        key = _fingerprint(line)
        if key in seen:
            yield hit(
                f"lines[{line.number}].procedure_code",
                line=line.number,
                code=line.procedure_code,
                first=seen[key],
            )
        else:
            seen[key] = line.number


def _not_covered(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        if line.procedure_code in s.payer.rules.not_covered:
            yield hit(
                f"lines[{line.number}].procedure_code",
                line=line.number,
                code=line.procedure_code,
                payer_id=s.payer.payer_id,
            )


def _required_modifier_missing(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        needed = s.payer.rules.required_modifiers.get(line.procedure_code)
        if needed and not set(needed) & set(line.modifiers):
            yield hit(
                f"lines[{line.number}].modifiers",
                line=line.number,
                code=line.procedure_code,
                needed=" or ".join(needed),
                payer_id=s.payer.payer_id,
            )


def _payer_max_units_exceeded(s: ClaimSnapshot) -> Iterator[Hit]:
    per_day: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    first_line: dict[tuple[str, date], LineSnapshot] = {}
    for line in s.lines:
        if line.procedure_code in s.payer.rules.max_units:
            key = (line.procedure_code, line.service_date)
            per_day[key] += line.units
            first_line.setdefault(key, line)
    for (code, _day), billed in per_day.items():
        limit = s.payer.rules.max_units[code]
        if billed > limit:
            line = first_line[(code, _day)]
            yield hit(
                f"lines[{line.number}].units",
                line=line.number,
                code=code,
                units=billed,
                limit=limit,
                payer_id=s.payer.payer_id,
            )


AUTHORIZATION_RULES: tuple[Rule, ...] = (
    Rule(
        "CD-AUTH-001",
        "error",
        "lines[*].procedure_code",
        "line {line}: payer {payer_id} requires a prior authorization for {code} "
        "and none on file covers the date of service",
        _prior_auth_missing,
    ),
    Rule(
        "CD-AUTH-002",
        "error",
        "lines[*].units",
        "{units} units of {code} exceed the {authorized} units authorized",
        _prior_auth_units_exceeded,
    ),
)

DUPLICATE_RULES: tuple[Rule, ...] = (
    Rule(
        "CD-DUP-001",
        "error",
        "lines[*].procedure_code",
        "line {line}: {code} on the same date with the same modifiers is already on "
        "claim {other_claim}",
        _duplicate_of_other_claim,
    ),
    Rule(
        "CD-DUP-002",
        "warning",
        "lines[*].procedure_code",
        "line {line}: repeats line {first} ({code}, same date and modifiers); "
        "combine the units or add a modifier",
        _duplicate_line,
    ),
)

PAYER_SPECIFIC_RULES: tuple[Rule, ...] = (
    Rule(
        "CD-PAY-001",
        "error",
        "lines[*].procedure_code",
        "line {line}: payer {payer_id} does not cover {code}",
        _not_covered,
    ),
    Rule(
        "CD-PAY-002",
        "error",
        "lines[*].modifiers",
        "line {line}: payer {payer_id} requires modifier {needed} on {code}",
        _required_modifier_missing,
    ),
    Rule(
        "CD-PAY-003",
        "error",
        "lines[*].units",
        "line {line}: {units} units of {code} on one date exceed payer {payer_id}'s "
        "limit of {limit}",
        _payer_max_units_exceeded,
    ),
)
