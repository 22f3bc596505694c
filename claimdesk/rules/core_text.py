"""Core rules on the claim's texts: a name or address X12 cannot carry, even transliterated.

Names and addresses are kept as people write them and transliterated on the wire
("Nuñez" goes as "Nunez"); what is left after that may still be nothing ("\u200b",
a name written only in signs anyascii drops) or only delimiter characters ("*").
The snapshot names such fields (``patient.last_name``), never their values.
"""

from __future__ import annotations

from collections.abc import Iterator

from claimdesk.rules.engine import Hit, Rule, hit
from claimdesk.rules.snapshot import ClaimSnapshot


def _nothing_left(s: ClaimSnapshot) -> Iterator[Hit]:
    for problem in s.wire_text_problems:
        if problem.problem == "empty":
            yield hit(problem.field, where=problem.field)


def _only_delimiters(s: ClaimSnapshot) -> Iterator[Hit]:
    for problem in s.wire_text_problems:
        if problem.problem == "delimiter":
            yield hit(problem.field, where=problem.field)


WIRE_TEXT_RULES: tuple[Rule, ...] = (
    Rule(
        "CD-TXT-001",
        "error",
        "patient",
        "{where}: nothing of it is left in the X12 character set, even transliterated; "
        "add the name or address in Latin letters",
        _nothing_left,
    ),
    Rule(
        "CD-TXT-002",
        "error",
        "patient",
        "{where}: only characters X12 uses as delimiters; correct the name or address",
        _only_delimiters,
    ),
)
