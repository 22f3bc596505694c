"""Patients as a file gives them, before they are matched (``claimdesk.intake.patients``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CoverageIn:
    """One coverage as the file gives it; ``values`` holds the given Coverage fields."""

    where: str
    payer_id: str  # EDI id
    member_id: str
    values: dict[str, Any]


@dataclass
class AuthorizationIn:
    where: str
    payer_id: str  # EDI id
    number: str
    values: dict[str, Any]


@dataclass
class PatientIn:
    """One patient as the file gives it; ``values`` holds the given Patient fields."""

    where: str
    practice_npi: str | None  # None: the database's only practice
    account_number: str
    values: dict[str, Any]
    coverages: list[CoverageIn] = field(default_factory=list)
    authorizations: list[AuthorizationIn] = field(default_factory=list)
    # A model field → what the file calls it, for problems ("gender" → "sex").
    names: dict[str, str] = field(default_factory=dict)
