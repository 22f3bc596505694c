"""Everything a scrub rule may know about one claim, as plain frozen values.

``claimdesk.claims.snapshot.build_claim_snapshot`` reads the tables and
builds a ``ClaimSnapshot``; the rules only ever see this model, so they stay pure
and testable without a database. The snapshot deliberately leaves out names,
member ids and birth dates: a rule cannot leak what it was never given.

Positions are the ones a specialist sees on the claim: ``LineSnapshot.number`` is
the line number (LX01, from 1) and ``DiagnosisSnapshot.position`` the diagnosis
position (from 1) that the lines' pointers refer to.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from claimdesk.rules.edit_data import EditData, diagnosis_date

PayerKind = Literal["medicare", "medicaid", "commercial"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LineSnapshot(_Frozen):
    number: int
    procedure_code: str
    modifiers: tuple[str, ...] = ()
    diagnosis_pointers: tuple[int, ...] = ()
    revenue_code: str | None = None
    units: Decimal = Decimal(1)
    charge: Decimal
    service_date: date
    service_date_to: date | None = None

    @property
    def last_date(self) -> date:
        """The line's Through date (its From date for a one-day service)."""
        return self.service_date_to or self.service_date


class DiagnosisSnapshot(_Frozen):
    position: int
    # ICD-10-CM without the dot, upper case (E119).
    code: str


class CoverageSnapshot(_Frozen):
    effective_from: date
    effective_to: date | None = None
    # The member id itself is PHI and stays in the database; rules need only its presence.
    has_member_id: bool
    # Database id of the coverage's payer, to catch a claim billed to another payer.
    payer_row_id: int | None = None
    coverage_order: int = 1


class PayerRuleSettings(_Frozen):
    """Payer-specific scrub settings (``claimdesk/data/payer_rules.json`` + the payer's config).

    - ``required_modifiers``: code → modifiers of which a line with that code must carry one.
    - ``max_units``: code → most units the payer pays for that code on one date of service.
    - ``not_covered``: codes the payer does not cover at all.
    """

    required_modifiers: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    max_units: dict[str, Decimal] = Field(default_factory=dict)
    not_covered: frozenset[str] = frozenset()


class PayerSnapshot(_Frozen):
    row_id: int | None = None
    # The payer's EDI id (NM109), not PHI.
    payer_id: str
    kind: PayerKind = "commercial"
    timely_filing_days: int = 365
    prior_auth_codes: frozenset[str] = frozenset()
    rules: PayerRuleSettings = PayerRuleSettings()


class ProviderSnapshot(_Frozen):
    npi: str | None
    role: str = "billing"


class AuthorizationSnapshot(_Frozen):
    kind: Literal["prior_auth", "referral"] = "prior_auth"
    number: str
    codes: frozenset[str] = frozenset()
    valid_from: date
    valid_to: date
    # None: the authorization does not limit units.
    units: int | None = None

    def covers(self, code: str, on: date) -> bool:
        """Whether this is a prior authorization for ``code`` valid on ``on``."""
        return (
            self.kind == "prior_auth"
            and code in self.codes
            and self.valid_from <= on <= self.valid_to
        )


class ServiceFingerprint(_Frozen):
    """One service line of another claim of the same patient, for duplicate detection."""

    claim_id: int
    service_date: date
    procedure_code: str
    # Sorted, so the order the modifiers were keyed in does not matter.
    modifiers: tuple[str, ...] = ()


class WireTextProblem(_Frozen):
    """A text of the claim X12 cannot carry even transliterated: the field, never the value."""

    field: str  # e.g. "patient.last_name", "subscriber.address.line1"
    problem: Literal["empty", "delimiter"]


class PatientFacts(_Frozen):
    """What the sex and age edits need: the recorded sex and the age, never the birth date."""

    sex: Literal["F", "M", "U"] = "U"
    # Whole years on the date the diagnoses are coded for (``ClaimSnapshot.diagnosis_date``).
    age: int


class ClaimSnapshot(_Frozen):
    claim_id: int
    version: int = 1
    # P professional (837P), I institutional (837I).
    kind: Literal["P", "I"] = "P"
    status: str = "draft"
    # 1 original, 7 replacement, 8 void.
    frequency_code: str = "1"
    has_patient_control_number: bool = True
    has_original_payer_claim_number: bool = False
    place_of_service: str | None = "11"
    facility_type_code: str | None = None
    service_from: date
    service_to: date
    total_charge: Decimal
    lines: tuple[LineSnapshot, ...] = ()
    diagnoses: tuple[DiagnosisSnapshot, ...] = ()
    coverage: CoverageSnapshot | None = None
    payer: PayerSnapshot
    billing_provider: ProviderSnapshot | None = None
    rendering_provider: ProviderSnapshot | None = None
    # Authorizations on file for this patient with this claim's payer.
    authorizations: tuple[AuthorizationSnapshot, ...] = ()
    # Lines of the patient's other live claims (not voided, not replaced by this one).
    other_services: tuple[ServiceFingerprint, ...] = ()
    # Names and addresses that cannot go on the wire (claimdesk.x12.charset), by field.
    wire_text_problems: tuple[WireTextProblem, ...] = ()
    # None: no patient row (the sex and age edits do not run).
    patient: PatientFacts | None = None
    # CMS edit files in force on the dates of service (claimdesk.cms_edits), this claim's codes.
    edit_data: EditData = EditData()
    # claimdesk's clock at scrub time: timely filing and "in the future" count from it.
    today: date

    def diagnosis_at(self, position: int) -> DiagnosisSnapshot | None:
        return next((d for d in self.diagnoses if d.position == position), None)

    @property
    def diagnosis_date(self) -> date:
        """The date whose ICD-10-CM fiscal year the diagnoses are judged in."""
        return diagnosis_date(self.kind, self.service_from, self.service_to)

    @property
    def principal_diagnosis(self) -> DiagnosisSnapshot | None:
        return min(self.diagnoses, key=lambda d: d.position, default=None)
