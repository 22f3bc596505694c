"""Payer-specific scrub settings: the shipped table, overridden by the payer's own config.

``claimdesk/data/payer_rules.json`` holds settings keyed by payer EDI id; a payer
row may override them key by key in ``connectivity["scrub_rules"]`` (same shape),
so an office can add a payer's quirk without a release.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from pydantic import ValidationError

from claimdesk.errors import ConfigError
from claimdesk.rules.snapshot import PayerRuleSettings

# The key under Payer.connectivity that holds a payer's own scrub settings.
CONNECTIVITY_KEY = "scrub_rules"


@cache
def _shipped_table() -> dict[str, dict[str, Any]]:
    text = resources.files("claimdesk").joinpath("data/payer_rules.json").read_text("utf-8")
    payers = json.loads(text).get("payers", {})
    if not isinstance(payers, dict):
        raise ConfigError("claimdesk/data/payer_rules.json: 'payers' must be an object.")
    return payers


def read_payer_rule_settings(payer_id: str, connectivity: Mapping[str, Any]) -> PayerRuleSettings:
    """The scrub settings for the payer with EDI id ``payer_id``."""
    merged = dict(_shipped_table().get(payer_id, {}))
    own = connectivity.get(CONNECTIVITY_KEY) or {}
    if not isinstance(own, Mapping):
        raise ConfigError(
            f"payer {payer_id!r}: connectivity.{CONNECTIVITY_KEY} must be an object; "
            "fix the payer's configuration."
        )
    merged.update(own)
    try:
        return PayerRuleSettings.model_validate(merged)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise ConfigError(
            f"payer {payer_id!r}: scrub setting {where!r} is invalid "
            f"({exc.errors()[0]['msg']}); fix payer_rules.json or connectivity.{CONNECTIVITY_KEY}."
        ) from None
