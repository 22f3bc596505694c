"""Errors of the X12 reader.

    ClaimdeskError
    └── X12Error              unreadable or invalid X12 (position, segment, element)
        ├── X12SyntaxError    bytes that do not tokenize or a value of the wrong form
        └── EnvelopeMismatch  ISA/IEA, GS/GE or ST/SE control numbers or counts disagree

``str()`` names positions, segment ids, element names and codes only. The
offending value (possibly PHI) goes in ``detail``.
"""

from __future__ import annotations

import re

from claimdesk.errors import ClaimdeskError

# A segment id is 2-3 upper-case letters/digits; anything else might be data (PHI) from a
# broken file, so it is not put in the message.
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


class X12Error(ClaimdeskError):
    """Unreadable or invalid X12; fields say where."""

    def __init__(
        self,
        message: str,
        *,
        segment_index: int | None = None,
        segment_id: str | None = None,
        element: str | None = None,
        expected: str | None = None,
        detail: str | None = None,
    ) -> None:
        where = []
        if segment_index is not None:
            where.append(f"segment {segment_index}")
        if segment_id is not None:
            if not _SEGMENT_ID.fullmatch(segment_id):
                segment_id = "(unreadable segment id)"
            where.append(segment_id)
        if element:
            where.append(element)
        text = f"{' '.join(where)}: {message}" if where else message
        if expected:
            text = f"{text} (expected {expected})"
        super().__init__(text, detail=detail)
        self.segment_index = segment_index
        self.segment_id = segment_id
        self.element = element
        self.expected = expected


class X12SyntaxError(X12Error):
    """The bytes do not form X12 segments, or an element has the wrong form."""


class EnvelopeMismatch(X12Error):
    """Envelope trailers disagree with their headers (control numbers, counts)."""
