"""One finding of a validator: where (segment position, id, element) and what."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class ValidationIssue(BaseModel):
    """A finding. ``position`` is the 1-based segment position in the interchange (ISA = 1)."""

    model_config = ConfigDict(frozen=True)

    source: Literal["pyx12", "tr3"]
    message: str
    position: int | None = None
    segment_id: str | None = None
    element: str | None = None  # e.g. "HL02", "CLM05-1"
    code: str | None = None

    def __str__(self) -> str:
        where = []
        if self.position is not None:
            where.append(f"segment {self.position}")
        if self.segment_id:
            where.append(self.segment_id)
        if self.element:
            where.append(self.element)
        prefix = " ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message
