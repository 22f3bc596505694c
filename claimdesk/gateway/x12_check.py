"""A quick structural check of an X12 payload from a payer, before anyone parses it.

The gateway does not interpret X12 (that is the codec's job, in the service
layer); it only refuses what is plainly not a whole interchange of the expected
kind, so a truncated or garbage answer becomes a ``PayerProtocolError`` at the
boundary instead of a parse error somewhere later.
"""

from __future__ import annotations

__all__ = ["check_x12"]

# ISA is a fixed-length segment: 106 characters including its terminator.
_ISA_LENGTH = 106


def check_x12(payload: bytes, st01: str) -> str | None:
    """``None`` if ``payload`` looks like a whole interchange carrying ``st01``, else why not.

    ``st01`` is the transaction set expected (``"271"``, ``"999"``…) or ``"TA1"``
    for an interchange acknowledgement (no functional group).
    """
    if len(payload) < _ISA_LENGTH or not payload.startswith(b"ISA"):
        return f"does not start with a {_ISA_LENGTH}-character ISA segment"
    element = payload[3:4]
    terminator = payload[_ISA_LENGTH - 1 : _ISA_LENGTH]
    if element.isalnum() or terminator.isalnum():
        return "the ISA segment does not define usable delimiters"
    segments = [s.strip() for s in payload.split(terminator)]
    segments = [s for s in segments if s]
    if not segments or not segments[-1].startswith(b"IEA" + element):
        return "the interchange has no closing IEA segment (truncated?)"
    if st01 == "TA1":
        found = any(s.startswith(b"TA1" + element) for s in segments)
    else:
        found = any(s.startswith(b"ST" + element + st01.encode("ascii")) for s in segments)
    if not found:
        return f"the interchange carries no {st01} transaction"
    return None
