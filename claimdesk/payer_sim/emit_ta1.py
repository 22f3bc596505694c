"""TA1 interchange acknowledgments: the envelope of a received interchange is refused.

TA105 codes used: 001 ISA13/IEA02 mismatch, 017 bad ISA12 version, 018 bad ISA13,
020 bad ISA15, 021 IEA01 group count, 022 invalid control structure (unreadable),
023 no IEA, 024 invalid interchange content, 025 duplicate ISA13 from this sender,
026 more than one interchange in a payload.
"""

from __future__ import annotations

from datetime import datetime

from claimdesk.payer_sim._x12 import Outbound, ta1_interchange

TA1_NOTES = {
    "000": "no error",
    "001": "ISA13 and IEA02 do not match",
    "017": "invalid interchange version (ISA12)",
    "018": "invalid interchange control number (ISA13)",
    "020": "invalid test indicator (ISA15)",
    "021": "IEA01 does not count the functional groups",
    "022": "invalid control structure",
    "023": "improper end of interchange (no IEA)",
    "024": "invalid interchange content",
    "025": "duplicate interchange control number",
    "026": "invalid data element separator or more than one interchange",
}


def emit_ta1(out: Outbound, acked_control: str, acked_at: datetime, code: str) -> bytes:
    """A TA1 for interchange ``acked_control`` with note code ``code`` (R unless 000)."""
    return ta1_interchange(out, acked_control, acked_at, code)
