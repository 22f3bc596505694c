"""Text for the wire: any Unicode value → the X12 basic/extended character set.

X12 5010 carries printable ASCII only, while names and addresses are stored as
people write them ("Nuñez", "Łukasz Wiśniewski", "王小明"). ``to_x12_text``
transliterates (anyascii: "Nunez", "Lukasz Wisniewski", "WangXiaoMing"), turns
control characters and runs of white space into one space and trims the ends;
printable ASCII without outer blanks comes back unchanged. ``carry_problem``
says why a value still cannot go: nothing left, or nothing but the characters an
interchange uses as delimiters (it would say nothing a payer could match).
"""

from __future__ import annotations

import re
from typing import Literal

from anyascii import anyascii

CarryProblem = Literal["empty", "delimiter"]

# Preferred delimiters first; then the alternatives real trading partners use. Letters,
# digits and space are never candidates: they occur in nearly every value.
DEFAULT_DELIMITERS = ("*", ":", "^", "~")
ALTERNATIVE_DELIMITERS = "|><{}!`\\#$%&;=?@[]"
DELIMITER_CANDIDATES = frozenset(DEFAULT_DELIMITERS) | frozenset(ALTERNATIVE_DELIMITERS)
_NOT_PRINTABLE_ASCII = re.compile(r"[^!-~]+")  # anything but printable ASCII (space included)


def is_x12_text(value: str) -> bool:
    """Printable ASCII without leading or trailing blanks: what the models accept as is."""
    return (
        value.isascii()
        and value.isprintable()
        and not value.startswith(" ")
        and not value.endswith(" ")
    )


def to_x12_text(value: str) -> str:
    """``value`` as the X12 character set can carry it (possibly empty)."""
    if is_x12_text(value):
        return value
    ascii_text = anyascii(value) if not value.isascii() else value
    return _NOT_PRINTABLE_ASCII.sub(" ", ascii_text).strip()


def carry_problem(value: str) -> CarryProblem | None:
    """Why ``value`` (a source value, any Unicode) cannot go on the wire; None if it can."""
    wire = to_x12_text(value)
    if not wire:
        return "empty"
    if set(wire) <= DELIMITER_CANDIDATES | {" "}:
        return "delimiter"
    return None
