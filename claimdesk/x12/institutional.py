"""837I (005010X223A2) claim depth: UB-04 codes, the admission hour, the admitting diagnosis.

``InstitutionalData`` rides on ``Claim837.institutional``; ``_write_837`` writes its 2300 HI
segments in the TR3's order: HI*ABK, HI*ABJ, HI*ABF … then HI*BI (occurrence spans),
HI*BH (occurrences), HI*BE (values), HI*BG (conditions).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

# An HI segment carries at most twelve code composites; each code list fits two of them.
_HI_CODES = 12
_UB_CODE = r"^[0-9A-Z]{2}$"  # NUBC condition, occurrence, occurrence span and value codes


class X12Model(BaseModel):
    """As ``claim_data.X12Model`` (which imports this module): immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Occurrence(X12Model):
    """HI*BH: an occurrence code and its date."""

    code: Annotated[str, Field(pattern=_UB_CODE)]
    on: date


class OccurrenceSpan(X12Model):
    """HI*BI: an occurrence span code and its from-through dates."""

    code: Annotated[str, Field(pattern=_UB_CODE)]
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> OccurrenceSpan:
        if self.end < self.start:
            raise ValueError(f"occurrence span {self.code}: end is before start")
        return self


class ValueCode(X12Model):
    """HI*BE: a value code and its amount."""

    code: Annotated[str, Field(pattern=_UB_CODE)]
    amount: Decimal

    @model_validator(mode="after")
    def _amount(self) -> ValueCode:
        exponent = self.amount.as_tuple().exponent
        if not self.amount.is_finite() or (isinstance(exponent, int) and exponent < -2):
            raise ValueError(f"value code {self.code}: amount has more than two decimals")
        return self


# Each code list fits two HI segments.
_AT_MOST = Field(max_length=2 * _HI_CODES)


class InstitutionalData(X12Model):
    """What an 837I claim carries beyond the 837P's: UB-04 form locators 14-39, 69-79."""

    admission_hour: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3])[0-5][0-9]$")] | None = None
    admitting_diagnosis: Annotated[str, Field(pattern=r"^[A-Z][0-9][0-9A-Z]{1,5}$")] | None = None
    condition_codes: Annotated[tuple[Annotated[str, Field(pattern=_UB_CODE)], ...], _AT_MOST] = ()
    occurrences: Annotated[tuple[Occurrence, ...], _AT_MOST] = ()
    occurrence_spans: Annotated[tuple[OccurrenceSpan, ...], _AT_MOST] = ()
    value_codes: Annotated[tuple[ValueCode, ...], _AT_MOST] = ()
