"""A paper EOB as a specialist enters it: the figures of the payer's paper, field by field.

Pure data with its own checks (amounts with two decimals, codes' shapes); the
service (``claimdesk.remittance.paper_eob``) checks them against the
database and the CARC routing table, balances them like an 835 and posts them.

JSON shape (``claimdesk paper post-eob FILE.json``; amounts as strings)::

    {"payer_id": 3, "check_number": "CHK20261120", "payment_method": "CHK",
     "payment_date": "2026-11-20", "total": "140.00",
     "claims": [{"claim_id": 42, "payer_claim_number": "PCLM77",
                 "paid": "140.00", "patient_responsibility": "30.00",
                 "adjustments": [], "remark_codes": [],
                 "lines": [{"line_number": 1, "paid": "100.00", "allowed": "130.00",
                            "adjustments": [{"group": "CO", "carc": "45", "amount": "20.00"},
                                            {"group": "PR", "carc": "2", "amount": "30.00"}],
                            "remark_codes": ["N130"]}]}]}

``payer_id`` is the payer's database id; ``payment_method`` CHK (paper check) or
ACH (EFT); ``status_code`` per claim (CLP02) defaults to 1, 2 or 3 by the
claim's coverage order; ``patient_responsibility`` defaults to the PR sum.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from claimdesk.errors import ValidationFailed

__all__ = ["EobAdjustment", "EobClaim", "EobLine", "PaperEob", "parse_paper_eob"]

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
RemarkCode = Annotated[str, Field(pattern=r"^[A-Z]{1,2}[0-9]{1,4}$")]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class EobAdjustment(_Entry):
    group: str = Field(min_length=2, max_length=2)
    carc: str = Field(min_length=1, max_length=5)
    amount: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]


class EobLine(_Entry):
    line_number: int = Field(ge=1, le=999)
    paid: Money
    allowed: Money | None = None
    adjustments: tuple[EobAdjustment, ...] = ()
    remark_codes: tuple[RemarkCode, ...] = ()


class EobClaim(_Entry):
    claim_id: int = Field(ge=1)
    paid: Money
    patient_responsibility: Money | None = None
    status_code: Literal["1", "2", "3", "4"] | None = None
    payer_claim_number: str = Field(default="", max_length=50)
    adjustments: tuple[EobAdjustment, ...] = ()  # claim level (rare on paper)
    remark_codes: tuple[RemarkCode, ...] = ()
    lines: tuple[EobLine, ...] = ()


class PaperEob(_Entry):
    payer_id: int = Field(ge=1)
    check_number: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9-]+$")
    payment_method: Literal["CHK", "ACH"] = "CHK"
    payment_date: date
    total: Money
    claims: tuple[EobClaim, ...] = Field(min_length=1)


def parse_paper_eob(data: str | bytes) -> PaperEob:
    """The entry from JSON; the first problem is refused with its field's path."""
    try:
        return PaperEob.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _path(first["loc"])
        raise ValidationFailed(f"{where}: {first['msg']}.", field=where) from exc


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "entry"
