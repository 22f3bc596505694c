"""Plain-English meanings of the payer's codes (CARC, RARC, 277 category/status).

The words come from the shipped code sets (``claimdesk.codes.loader``); a code
no list knows is shown as-is with "see the published code list". For a CARC the
denials routing table's plain-English explanation (``claimdesk/data/carc_*.json``
``routes``) takes precedence over the list's wording.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from claimdesk.codes import loader

_DATA_DIR = Path(__file__).resolve().parents[1] / "data"
UNKNOWN = "not in claimdesk's table; see the published code list"

# Shorter than the list's wording, and says what the office does with it.
GROUP = {
    "CO": "Contractual obligation (write off; do not bill the patient)",
    "PR": "Patient responsibility",
    "OA": "Other adjustment",
    "PI": "Payer initiated reduction",
    "CR": "Correction and reversal",
}


@lru_cache
def _routing_descriptions() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(_DATA_DIR.glob("carc*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        entries = (
            data.get("routes") or data.get("codes") or data if isinstance(data, dict) else data
        )
        items = entries.items() if isinstance(entries, dict) else enumerate(entries)
        for key, value in items:
            if isinstance(value, dict):
                code = str(value.get("carc") or value.get("code") or key)
                text = value.get("explanation") or value.get("description") or value.get("meaning")
                if text and code not in found:
                    found[code] = str(text)
    return found


def carc_meaning(code: str) -> str:
    return _routing_descriptions().get(code) or loader.words("carc", code) or UNKNOWN


def rarc_meaning(code: str) -> str:
    return loader.words("rarc", code) or UNKNOWN


def group_meaning(code: str) -> str:
    return GROUP.get(code) or loader.words("cas_group", code) or UNKNOWN


def status_meaning(category: str | None, status: str | None) -> str:
    parts = []
    if category:
        parts.append(loader.words("cscc", category) or f"category {category}: {UNKNOWN}")
    if status:
        parts.append(loader.words("csc", status) or f"status {status}: {UNKNOWN}")
    return " ".join(parts)


def stc_meaning(stc: str) -> str:
    """'A7:21' or 'A7:21:PR' (category:status[:entity]) in words."""
    parts = stc.replace("*", ":").split(":")
    return status_meaning(parts[0] or None, parts[1] if len(parts) > 1 else None)
