"""Segments to bytes: placeholder delimiters while building, real ones chosen at the end.

Writers build the body with the control characters below between elements,
components, repetitions and segments. Every data value is printable ASCII
(the claim_data models refuse anything else), so a placeholder can never be
data; once the body is complete, ``finish_interchange`` picks delimiters that
occur in no value and swaps them in with four ``str.replace`` calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from claimdesk.x12._errors import X12Error
from claimdesk.x12.charset import ALTERNATIVE_DELIMITERS, DEFAULT_DELIMITERS
from claimdesk.x12.claim_data import ControlNumbers, EnvelopeParties

# Placeholders: ASCII information separators, which no model value may contain.
E = "\x1d"  # element separator
C = "\x1f"  # component separator
R = "\x1c"  # repetition separator
S = "\x1e"  # segment terminator

# Preferred delimiters first, then the alternatives (claimdesk.x12.charset lists both).
_DEFAULTS = DEFAULT_DELIMITERS
_ALTERNATIVES = ALTERNATIVE_DELIMITERS


@dataclass(frozen=True)
class Delimiters:
    """The four X12 delimiters of one interchange."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"


def segment(*elements: str | None) -> str:
    """One segment (id first) with trailing empty elements dropped, ending in the terminator."""
    # E never occurs in data, so stripping it drops exactly the trailing empty elements.
    return E.join([element or "" for element in elements]).rstrip(E) + S


def composite(*components: str | None) -> str:
    """One composite element with trailing empty components dropped."""
    return C.join([component or "" for component in components]).rstrip(C)


@lru_cache(maxsize=4096)  # a batch repeats few distinct dates; formatting is hot
def format_date(value: date) -> str:
    """CCYYMMDD (D8)."""
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def format_period(start: date, end: date | None) -> tuple[str, str]:
    """(qualifier, value): D8 for one day, RD8 ``from-through`` otherwise."""
    if end is None:
        return "D8", format_date(start)
    return "RD8", f"{format_date(start)}-{format_date(end)}"


def format_amount(value: Decimal) -> str:
    """An R (decimal) element: plain notation, as given (``100.00`` stays ``100.00``)."""
    return format(value, "f")


def choose_delimiters(body: str) -> Delimiters:
    """Delimiters, defaults first, none of which occurs in ``body``; X12Error if impossible."""
    chosen: list[str] = []
    for default in _DEFAULTS:
        for candidate in (default, *_ALTERNATIVES):
            if candidate not in chosen and candidate not in body:
                chosen.append(candidate)
                break
        else:
            raise X12Error(
                "every candidate delimiter occurs in the data; "
                "remove punctuation such as * : ^ ~ | from names and identifiers."
            )
    return Delimiters(*chosen)


def _isa(envelope: EnvelopeParties, control: ControlNumbers, created_at: datetime) -> str:
    # ISA elements are fixed width; ISA11 and ISA16 are written once delimiters are known.
    return segment(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        envelope.sender_qualifier,
        envelope.sender_id.ljust(15),
        envelope.receiver_qualifier,
        envelope.receiver_id.ljust(15),
        created_at.strftime("%y%m%d"),
        created_at.strftime("%H%M"),
        R,
        "00501",
        f"{control.interchange:09d}",
        "0",
        envelope.usage_indicator,
        C,
    )


def finish_interchange(
    *,
    envelope: EnvelopeParties,
    control: ControlNumbers,
    created_at: datetime,
    functional_id: str,
    version: str,
    transaction_set: str,
    newline: bool = False,
) -> bytes:
    """Wrap ``transaction_set`` (ST…SE with placeholders) in ISA/GS…GE/IEA and encode it."""
    head = _isa(envelope, control, created_at) + segment(
        "GS",
        functional_id,
        envelope.application_sender_code,
        envelope.application_receiver_code,
        format_date(created_at.date()),
        created_at.strftime("%H%M"),
        str(control.group),
        "X",
        version,
    )
    tail = segment("GE", "1", str(control.group)) + segment(
        "IEA", "1", f"{control.interchange:09d}"
    )
    text = head + transaction_set + tail
    delimiters = choose_delimiters(text)
    text = (
        text.replace(E, delimiters.element)
        .replace(C, delimiters.component)
        .replace(R, delimiters.repetition)
        .replace(S, delimiters.segment + "\n" if newline else delimiters.segment)
    )
    return text.encode("ascii")


def transaction_set(header_id: str, control: ControlNumbers, version: str, body: list[str]) -> str:
    """ST + ``body`` + SE with the segment count (ST and SE included)."""
    number = f"{control.transaction_set:04d}"
    st = segment("ST", header_id, number, version)
    se = segment("SE", str(len(body) + 2), number)
    return st + "".join(body) + se
