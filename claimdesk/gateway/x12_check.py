"""A quick structural check of an X12 payload from a payer, before anyone parses it.

The gateway does not interpret X12 (that is the codec's job, in the service
layer); it only refuses what is plainly not a whole interchange of the expected
kind, so a truncated or garbage answer becomes a ``PayerProtocolError`` at the
boundary instead of a parse error somewhere later. It checks the envelope's
counts and control numbers (SE01/SE02, GE01/GE02, IEA01/IEA02), which a segment
lost or altered on the way breaks, and nothing inside a transaction set.
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
    texts = [s.strip() for s in payload.split(terminator)]
    segments = [s.split(element) for s in texts if s]
    if not segments or segments[-1][0] != b"IEA":
        return "the interchange has no closing IEA segment (truncated?)"
    if st01 == "TA1":
        found = any(s[0] == b"TA1" for s in segments)
    else:
        found = any(s[0] == b"ST" and s[1:2] == [st01.encode("ascii")] for s in segments)
    if not found:
        return f"the interchange carries no {st01} transaction"
    return _check_counts(segments)


def _el(segment: list[bytes], index: int) -> bytes:
    return segment[index].strip() if len(segment) > index else b""


def _check_counts(segments: list[list[bytes]]) -> str | None:
    """Why the trailers do not match what they close, or ``None``."""
    groups = 0
    sets_in_group = 0
    set_start: int | None = None
    set_control = group_control = b""
    for position, seg in enumerate(segments, start=1):
        tag = seg[0]
        if tag == b"GS":
            groups, sets_in_group, group_control = groups + 1, 0, _el(seg, 6)
        elif tag == b"ST":
            set_start, set_control = position, _el(seg, 2)
            sets_in_group += 1
        elif tag == b"SE":
            if set_start is None:
                return f"segment {position}: SE without ST"
            if _el(seg, 1) != str(position - set_start + 1).encode() or _el(seg, 2) != set_control:
                return f"segment {position}: SE01/SE02 do not match the transaction set it closes"
            set_start = None
        elif tag == b"GE" and (
            _el(seg, 1) != str(sets_in_group).encode() or _el(seg, 2) != group_control
        ):
            return f"segment {position}: GE01/GE02 do not match the group it closes"
    if set_start is not None:
        return "a transaction set is not closed by an SE"
    iea, isa13 = segments[-1], _el(segments[0], 13)
    if _el(iea, 1) != str(groups).encode() or _el(iea, 2) != isa13:
        return "IEA01/IEA02 do not match the interchange's groups and ISA13"
    return None
