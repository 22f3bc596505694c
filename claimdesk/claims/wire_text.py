"""What happens to a claim's text on its way to the wire, by field name, never by value.

``WireText`` turns each stored value into what X12 can carry (``to_x12_text``) and
notes which fields it had to transliterate and which it cannot carry at all, so the
claim's timeline can say so and the scrub can hold the claim. ``WireDataError``
names the field and the rule a claim's rows break when its wire data cannot be
built; both carry field names and rule codes only: names, member ids and dates are
PHI and stay in the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from claimdesk.x12.charset import CarryProblem, carry_problem, to_x12_text

T = TypeVar("T")
# What a probe puts where a value cannot be carried, so the build goes on to the next field.
_PROBE_STAND_IN = "X"


class WireDataError(ValueError):
    """A claim's wire data cannot be built: ``field`` (a path) breaks ``rule`` (a code)."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class WireText:
    """Stored text → wire text, remembering which fields changed or cannot be carried.

    A value that cannot be carried raises ``WireDataError`` (rule ``x12_text_empty`` or
    ``x12_text_delimiter``): it never goes on the wire. With ``probe`` (the scrub's look
    ahead) it becomes a stand-in instead, so every such field is found in one pass.
    """

    def __init__(self, *, probe: bool = False) -> None:
        self.probe = probe
        self.transliterated: list[str] = []
        self.problems: list[tuple[str, CarryProblem]] = []

    def __call__(self, field: str, value: str) -> str:
        wire = to_x12_text(value)
        if wire != value and field not in self.transliterated:
            self.transliterated.append(field)
        problem = carry_problem(value) if value else None
        if problem is not None:
            self.problems.append((field, problem))
            if not self.probe:
                raise WireDataError(field, f"x12_text_{problem}")
            return _PROBE_STAND_IN
        return wire

    def optional(self, field: str, value: str | None) -> str | None:
        """``None`` for a value that is not there; else as ``__call__``."""
        return self(field, value) if value else None


def section(field: str, build: Callable[[], T]) -> T:
    """``build()``; a model's refusal becomes a ``WireDataError`` under ``field``."""
    try:
        return build()
    except ValidationError as exc:
        error = exc.errors()[0]  # the first is enough to send a person to the field
        raise WireDataError(_path(field, error["loc"]), error["type"]) from None


def _path(prefix: str, loc: tuple[int | str, ...]) -> str:
    path = prefix
    for part in loc:
        # Positions as a person counts them (line 1 is the first), like the scrub's fields.
        path += f"[{part + 1}]" if isinstance(part, int) else f".{part}"
    return path
