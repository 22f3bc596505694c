"""Problems found in a file an office brings in: where, which field, why; never the value."""

from __future__ import annotations

from dataclasses import dataclass

from claimdesk.errors import ValidationFailed

MAX_PROBLEMS_SHOWN = 200


@dataclass(frozen=True)
class ImportProblem:
    where: str  # "row 7", "segment 42", "file"
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.reason}"


class ImportRefused(ValidationFailed):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        lines = "\n".join(f"  {p}" for p in shown) + (f"\n  … and {more} more" if more else "")
        super().__init__(
            f"nothing was imported: {len(problems)} problem(s)\n{lines}",
            field=problems[0].field if problems else "file",
        )
        self.problems = problems
