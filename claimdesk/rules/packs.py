"""Versioned rule packs. Raise the version whenever a rule is added, removed or changed,
so a scrub recorded as ``claimdesk-core@<version>`` says exactly which rules ran."""

from __future__ import annotations

from claimdesk.rules.core_claim import (
    AMOUNT_RULES,
    DATE_AND_COVERAGE_RULES,
    NPI_RULES,
    REQUIRED_FIELD_RULES,
)
from claimdesk.rules.core_codes import DIAGNOSIS_RULES, PROCEDURE_RULES
from claimdesk.rules.core_edits import EDIT_FILE_RULES, SEX_AGE_RULES
from claimdesk.rules.core_payer import AUTHORIZATION_RULES, DUPLICATE_RULES, PAYER_SPECIFIC_RULES
from claimdesk.rules.core_text import WIRE_TEXT_RULES
from claimdesk.rules.engine import RulePack

CORE_PACK = RulePack(
    name="claimdesk-core",
    version="2026.12.1",
    rules=(
        *REQUIRED_FIELD_RULES,
        *NPI_RULES,
        *DIAGNOSIS_RULES,
        *PROCEDURE_RULES,
        *EDIT_FILE_RULES,
        *SEX_AGE_RULES,
        *DATE_AND_COVERAGE_RULES,
        *AMOUNT_RULES,
        *AUTHORIZATION_RULES,
        *DUPLICATE_RULES,
        *PAYER_SPECIFIC_RULES,
        *WIRE_TEXT_RULES,
    ),
)
# The pack scrubs run with unless a caller names another.
DEFAULT_PACK = CORE_PACK

_PACKS = {CORE_PACK.name: CORE_PACK}


def read_rule_pack(name: str = DEFAULT_PACK.name) -> RulePack:
    """The current version of the pack called ``name``."""
    try:
        return _PACKS[name]
    except KeyError:
        raise KeyError(f"no rule pack {name!r}; known: {', '.join(sorted(_PACKS))}") from None
