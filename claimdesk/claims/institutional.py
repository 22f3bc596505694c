"""A claim's ``institutional`` JSON (837I / UB-04 data) → the codec's claim fields.

Keys (all optional): ``admission_date`` (ISO date), ``admission_hour`` (HHMM),
``admission_type`` (CL101, one digit), ``admission_source`` (CL102), ``patient_status``
(CL103, two digits; ``01`` home when the claim does not say), ``admitting_diagnosis``,
``condition_codes`` (["01", …]), ``occurrences`` ([{"code", "on"}]), ``occurrence_spans``
([{"code", "start", "end"}]), ``value_codes`` ([{"code", "amount"}]),
``operating_provider_id`` and ``other_provider_id`` (provider rows of people).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session

from claimdesk.claims.wire_parties import provider_for
from claimdesk.claims.wire_text import WireDataError, WireText
from claimdesk.x12 import claim_data as cd
from claimdesk.x12.institutional import InstitutionalData, Occurrence, OccurrenceSpan, ValueCode
from models import Claim, Provider

# CL103 when the claim names no patient status: 01, discharged to home or self care.
DEFAULT_PATIENT_STATUS = "01"


class ClaimInstitutional(BaseModel):
    """The stored JSON's shape; a key it does not know is refused, naming it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    admission_date: date | None = None
    admission_hour: str | None = None
    admission_type: str | None = Field(default=None, pattern=r"^[0-9]$")
    admission_source: str | None = Field(default=None, pattern=r"^[0-9A-Z]$")
    patient_status: str = Field(default=DEFAULT_PATIENT_STATUS, pattern=r"^[0-9]{2}$")
    admitting_diagnosis: str | None = None
    condition_codes: list[str] = Field(default_factory=list)
    occurrences: list[Occurrence] = Field(default_factory=list)
    occurrence_spans: list[OccurrenceSpan] = Field(default_factory=list)
    value_codes: list[ValueCode] = Field(default_factory=list)
    operating_provider_id: int | None = None
    other_provider_id: int | None = None


def institutional_fields(session: Session, claim: Claim, text: WireText) -> dict[str, Any]:
    """Claim837 keyword arguments for an 837I claim from its stored ``institutional`` data."""
    raw = claim.institutional or {}
    try:
        data = ClaimInstitutional.model_validate(raw)
        codes = InstitutionalData(
            admission_hour=data.admission_hour,
            admitting_diagnosis=data.admitting_diagnosis,
            condition_codes=tuple(data.condition_codes),
            occurrences=tuple(data.occurrences),
            occurrence_spans=tuple(data.occurrence_spans),
            value_codes=tuple(data.value_codes),
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise WireDataError(f"claim.institutional.{where}", error["type"]) from None
    if data.admission_hour is not None and data.admission_date is None:
        raise WireDataError("claim.institutional.admission_hour", "needs_admission_date")
    return {
        "admission_date": data.admission_date,
        "admission_type_code": data.admission_type,
        "admission_source_code": data.admission_source,
        "patient_status_code": data.patient_status,
        "institutional": None if codes == InstitutionalData() else codes,
        "operating_provider": _person(session, data.operating_provider_id, "operating", text),
        "other_provider": _person(session, data.other_provider_id, "other", text),
    }


def _person(
    session: Session, provider_id: int | None, role: str, text: WireText
) -> cd.Provider | None:
    if provider_id is None:
        return None
    field = f"claim.institutional.{role}_provider_id"
    row = session.get(Provider, provider_id)
    if row is None:
        raise WireDataError(field, "missing")
    if row.organization_name:
        # 2310B/C name a physician (NM102 = 1), never an organisation.
        raise WireDataError(field, "not_a_person")
    return provider_for(row, f"{role}_provider", text)
