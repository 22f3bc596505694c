"""The plain data the X12 writers take and the 837 reader returns.

Frozen pydantic models, one per TR3 loop or group of elements, with ``Decimal``
money, ``datetime.date`` dates and ``str`` codes. No database: services map
their rows onto these. ``parse_837(write_837(batch)) == batch`` holds for
every valid ``ClaimBatch837``, so every field here is something the wire carries.

Loop map (837P 005010X222A1 / 837I 005010X223A2):

    ClaimBatch837           ISA/GS/ST, BHT, 1000A (submitter), 1000B (receiver)
    └── Claim837            2300 CLM …; grouped on the wire under
        ├── billing_provider    2000A/2010AA   (HL 20)
        ├── subscriber          2000B/2010BA   (HL 22, SBR)
        ├── payer               2010BB
        ├── patient             2000C/2010CA   (HL 23, only when not the subscriber)
        ├── rendering_provider  2310B (837P) / attending_provider 2310A (837I)
        ├── other_payers        2320 / 2330A / 2330B
        └── lines               2400 (LX, SV1/SV2, DTP*472, REF*6R)
            └── adjudications   2430 (SVD, CAS, DTP*573)

Consecutive claims that share billing provider, subscriber, payer and patient
are written under the same HL loops; the reader gives every claim its own copy.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from claimdesk.x12.charset import to_x12_text
from claimdesk.x12.institutional import InstitutionalData
from claimdesk.x12.npi import is_valid_npi

# Printable ASCII without leading/trailing blanks: X12 basic/extended character set,
# and a reader that trims padding could not give the same value back otherwise.
# Text elements (names, addresses, references) are transliterated to it first (``_WIRE``).
_TEXT_PATTERN = r"^[!-~]([ -~]*[!-~])?$"


def _check_npi(value: str) -> str:
    if not is_valid_npi(value):
        raise ValueError(f"NPI {value!r} is not ten digits with a valid check digit")
    return value


def _check_money(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError(f"amount {value!r} is not a finite number")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(f"amount {value!r} has more than two decimal places")
    return value


def _check_quantity(value: Decimal) -> Decimal:
    if not value.is_finite() or value <= 0:
        raise ValueError(f"quantity {value!r} must be a positive number")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -3:
        raise ValueError(f"quantity {value!r} has more than three decimal places")
    return value


def _text(max_length: int) -> object:
    return Field(min_length=1, max_length=max_length, pattern=_TEXT_PATTERN)


def _wire_text(value: object) -> object:
    return to_x12_text(value) if isinstance(value, str) else value


# Every text element is transliterated before it is checked, so each writer (837, 270,
# 276) carries "Nuñez" as "Nunez"; claimdesk.claims.wire_data records which fields were.
_WIRE = BeforeValidator(_wire_text)


Npi = Annotated[str, AfterValidator(_check_npi)]
Money = Annotated[Decimal, AfterValidator(_check_money)]
Quantity = Annotated[Decimal, AfterValidator(_check_quantity)]
Name60 = Annotated[str, _WIRE, _text(60)]
Name35 = Annotated[str, _WIRE, _text(35)]
Name25 = Annotated[str, _WIRE, _text(25)]
Suffix = Annotated[str, _WIRE, _text(10)]
Ref50 = Annotated[str, _WIRE, _text(50)]
Identifier80 = Annotated[str, _WIRE, _text(80)]
Code = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[A-Z0-9]+$")]
Gender = Literal["M", "F", "U"]
EntityType = Literal["1", "2"]  # NM102: 1 person, 2 non-person entity
AdjustmentGroup = Literal["CO", "CR", "OA", "PI", "PR"]
IcdCode = Annotated[str, Field(pattern=r"^[A-Z][0-9][0-9A-Z]{1,5}$")]  # ICD-10-CM, no dot


class X12Model(BaseModel):
    """Base of the claim data models: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(X12Model):
    """N3/N4."""

    line1: Annotated[str, _WIRE, _text(55)]
    line2: Annotated[str, _WIRE, _text(55)] | None = None
    city: Annotated[str, _WIRE, _text(30)]
    state: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    postal_code: Annotated[str, Field(pattern=r"^[0-9]{5}([0-9]{4})?$")]


class PersonName(X12Model):
    """NM103-NM107 for a person or (entity_type "2") an organisation in ``last_name``."""

    entity_type: EntityType = "1"
    last_name: Name60
    first_name: Name35 | None = None
    middle_name: Name25 | None = None
    name_suffix: Suffix | None = None

    @model_validator(mode="after")
    def _organisation_has_one_name(self) -> PersonName:
        if self.entity_type == "2" and (self.first_name or self.middle_name or self.name_suffix):
            raise ValueError("an organisation (entity_type '2') has only last_name")
        return self


class Provider(PersonName):
    """A provider named by NPI (2310A/B, 2420A, 2100B of 270/276)."""

    npi: Npi
    taxonomy: Annotated[str, Field(pattern=r"^[0-9A-Z]{9}X$")] | None = None  # PRV03


class EnvelopeParties(X12Model):
    """ISA05-08, GS02/03 and ISA15."""

    sender_qualifier: Annotated[str, Field(pattern=r"^[0-9A-Z]{2}$")] = "ZZ"
    sender_id: Annotated[str, Field(min_length=1, max_length=15, pattern=r"^[!-~]+$")]
    receiver_qualifier: Annotated[str, Field(pattern=r"^[0-9A-Z]{2}$")] = "ZZ"
    receiver_id: Annotated[str, Field(min_length=1, max_length=15, pattern=r"^[!-~]+$")]
    application_sender_code: Annotated[str, _WIRE, _text(15)]  # GS02
    application_receiver_code: Annotated[str, _WIRE, _text(15)]  # GS03
    usage_indicator: Literal["T", "P"] = "T"


class ControlNumbers(X12Model):
    """ISA13, GS06 and ST02: the caller's database owns the sequences."""

    interchange: Annotated[int, Field(ge=1, le=999_999_999)]
    group: Annotated[int, Field(ge=1, le=999_999_999)]
    transaction_set: Annotated[int, Field(ge=1, le=999_999_999)]


def _to_minute(value: datetime) -> datetime:
    # ISA10 carries HHMM only; keep what the wire can carry back.
    return value.replace(second=0, microsecond=0, tzinfo=None)


Timestamp = Annotated[datetime, AfterValidator(_to_minute)]


class TransactionHeader(X12Model):
    """Envelope, control numbers and BHT03/04/05 shared by every transaction we write."""

    envelope: EnvelopeParties
    control: ControlNumbers
    created_at: Timestamp
    reference_id: Ref50  # BHT03


class Submitter(X12Model):
    """1000A NM1*41 with PER*IC."""

    name: PersonName
    identifier: Identifier80  # NM109 (46: electronic transmitter id)
    contact_name: Name60
    phone: Annotated[str, Field(pattern=r"^[0-9]{10}$")] | None = None
    email: Annotated[str, _WIRE, _text(80)] | None = None

    @model_validator(mode="after")
    def _has_a_contact_number(self) -> Submitter:
        if self.phone is None and self.email is None:
            raise ValueError("the submitter needs a phone or an email (PER*IC)")
        return self


class Receiver(X12Model):
    """1000B NM1*40."""

    name: Name60
    identifier: Identifier80


class BillingProvider(PersonName):
    """2000A/2010AA: PRV*BI, NM1*85, N3/N4, REF*EI/SY."""

    npi: Npi
    tax_id: Annotated[str, Field(pattern=r"^[0-9]{9}$")]
    tax_id_qualifier: Literal["EI", "SY"] = "EI"
    taxonomy: Annotated[str, Field(pattern=r"^[0-9A-Z]{9}X$")] | None = None
    address: Address  # street address: a PO box is not allowed in 2010AA

    @model_validator(mode="after")
    def _nine_digit_zip(self) -> BillingProvider:
        if len(self.address.postal_code) != 9:
            raise ValueError("the billing provider's ZIP code must have nine digits (2010AA N403)")
        return self


class PayerRef(X12Model):
    """2010BB NM1*PR (837), 2100A (270/276)."""

    name: Name60
    payer_id: Identifier80  # NM109 with qualifier PI
    address: Address | None = None


class Subscriber(PersonName):
    """2000B SBR and 2010BA NM1*IL/DMG."""

    member_id: Identifier80
    birth_date: date | None = None
    gender: Gender | None = None
    address: Address | None = None
    payer_responsibility: Literal["P", "S", "T", "A", "B", "C", "D", "E", "F", "G", "H", "U"] = "P"
    group_number: Ref50 | None = None  # SBR03
    group_name: Name60 | None = None  # SBR04
    claim_filing_indicator: Code = "CI"  # SBR09

    @model_validator(mode="after")
    def _demographics_together(self) -> Subscriber:
        if (self.birth_date is None) != (self.gender is None):
            raise ValueError("birth_date and gender go together (DMG)")
        return self


class Patient(PersonName):
    """2000C PAT and 2010CA NM1*QC: the patient when not the subscriber."""

    relationship: Literal["01", "19", "20", "21", "39", "40", "53", "G8"]  # PAT01
    birth_date: date
    gender: Gender
    address: Address


class Adjustment(X12Model):
    """One CAS reason: group, CARC, amount, optional quantity."""

    group_code: AdjustmentGroup
    reason_code: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,5}$")]
    amount: Money
    quantity: Quantity | None = None


class LineAdjudication(X12Model):
    """2430: SVD, CAS, DTP*573 for one line from one other payer."""

    other_payer_id: Identifier80  # SVD01 = the 2330B NM109 of that payer
    paid_amount: Money
    procedure_qualifier: Literal["HC", "ER", "IV", "WK", "HP"] = "HC"
    procedure_code: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,48}$")]
    modifiers: Annotated[
        tuple[Annotated[str, Field(pattern=r"^[A-Z0-9]{2}$")], ...], Field(max_length=4)
    ] = ()
    revenue_code: Annotated[str, Field(pattern=r"^[0-9]{4}$")] | None = None  # SVD04 (837I)
    paid_units: Quantity
    adjustments: tuple[Adjustment, ...] = ()
    adjudication_date: date


class OtherPayer(X12Model):
    """2320 (SBR, CAS, AMT*D, OI) with 2330A (other subscriber) and 2330B (other payer)."""

    payer_responsibility: Literal["P", "S", "T", "A", "B", "C", "D", "E", "F", "G", "H", "U"]
    relationship: Literal["01", "18", "19", "20", "21", "39", "40", "53", "G8"] = "18"
    group_number: Ref50 | None = None
    group_name: Name60 | None = None
    claim_filing_indicator: Code = "CI"
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    paid_amount: Money | None = None  # AMT*D
    remaining_patient_liability: Money | None = None  # AMT*EAF
    subscriber: PersonName  # 2330A NM1*IL
    member_id: Identifier80  # 2330A NM109 (MI)
    payer_name: Name60  # 2330B NM1*PR
    payer_id: Identifier80  # 2330B NM109 (PI)
    adjudication_date: date | None = None  # 2330B DTP*573, when no 2430 is sent
    claim_control_number: Ref50 | None = None  # 2330B REF*F8: that payer's claim number


class ServiceLine(X12Model):
    """2400: LX, SV1 (837P) or SV2 (837I), DTP*472, REF*6R."""

    line_number: Annotated[int, Field(ge=1, le=999)]
    revenue_code: Annotated[str, Field(pattern=r"^[0-9]{4}$")] | None = None  # SV201, 837I
    procedure_qualifier: Literal["HC", "ER", "IV", "WK", "HP"] = "HC"
    procedure_code: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,48}$")] | None = None
    modifiers: Annotated[
        tuple[Annotated[str, Field(pattern=r"^[A-Z0-9]{2}$")], ...], Field(max_length=4)
    ] = ()
    charge: Money
    unit_code: Literal["UN", "MJ", "DA"] = "UN"
    units: Quantity
    place_of_service: Annotated[str, Field(pattern=r"^[0-9]{2}$")] | None = None  # SV105
    diagnosis_pointers: Annotated[
        tuple[Annotated[int, Field(ge=1, le=12)], ...], Field(max_length=4)
    ] = ()
    service_date: date
    service_date_end: date | None = None  # DTP*472 RD8 when set
    line_item_control_number: Ref50  # REF*6R: how 835 lines match back
    adjudications: tuple[LineAdjudication, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> ServiceLine:
        if self.charge < 0:
            raise ValueError("a line charge cannot be negative")
        if self.modifiers and self.procedure_code is None:
            raise ValueError("modifiers need a procedure code")
        if len(set(self.diagnosis_pointers)) != len(self.diagnosis_pointers):
            raise ValueError("diagnosis pointers must not repeat")
        if self.service_date_end is not None and self.service_date_end < self.service_date:
            raise ValueError("service_date_end is before service_date")
        return self


class Claim837(X12Model):
    """2300 with its place in the hierarchy (billing provider, subscriber, payer, patient)."""

    billing_provider: BillingProvider
    subscriber: Subscriber
    payer: PayerRef
    patient: Patient | None = None  # None: the subscriber is the patient
    patient_control_number: Annotated[str, _WIRE, _text(20)]  # CLM01
    total_charge: Money  # CLM02
    facility_code: Annotated[str, Field(pattern=r"^[0-9]{2}$")]  # CLM05-1: POS (P), TOB 1-2 (I)
    frequency_code: Literal["1", "7", "8"] = "1"  # CLM05-3
    provider_signature: Literal["Y", "N"] = "Y"  # CLM06
    assignment_code: Literal["A", "B", "C"] = "A"  # CLM07
    benefits_assigned: Literal["Y", "N", "W"] = "Y"  # CLM08
    release_of_information: Literal["I", "Y"] = "Y"  # CLM09
    statement_from: date | None = None  # 837I DTP*434
    statement_through: date | None = None
    admission_date: date | None = None  # 837I DTP*435
    admission_type_code: Annotated[str, Field(pattern=r"^[0-9]$")] | None = None  # CL101
    admission_source_code: Annotated[str, Field(pattern=r"^[0-9A-Z]$")] | None = None  # CL102
    patient_status_code: Annotated[str, Field(pattern=r"^[0-9]{2}$")] | None = None  # CL103
    original_claim_number: Ref50 | None = None  # REF*F8
    prior_authorization: Ref50 | None = None  # REF*G1
    referral_number: Ref50 | None = None  # REF*9F
    claim_id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.]+$")]
    claim_version: Annotated[int, Field(ge=1, le=999_999)]
    diagnoses: Annotated[tuple[IcdCode, ...], Field(min_length=1, max_length=12)]  # ABK, ABF…
    rendering_provider: Provider | None = None  # 837P 2310B
    attending_provider: Provider | None = None  # 837I 2310A
    operating_provider: Provider | None = None  # 837I 2310B NM1*72
    other_provider: Provider | None = None  # 837I 2310C NM1*ZZ (other operating physician)
    institutional: InstitutionalData | None = None  # 837I UB-04 codes, admission hour
    other_payers: Annotated[tuple[OtherPayer, ...], Field(max_length=10)] = ()
    lines: Annotated[tuple[ServiceLine, ...], Field(min_length=1, max_length=999)]

    @property
    def wire_claim_reference(self) -> str:
        """REF*D9: ``<claim id>-v<version>``, how 277CA/835 replies find this version."""
        return f"{self.claim_id}-v{self.claim_version}"

    @model_validator(mode="after")
    def _consistent(self) -> Claim837:
        if len(self.wire_claim_reference) > 50:
            raise ValueError("claim_id-v<version> exceeds the 50 characters of REF*D9")
        if self.frequency_code in ("7", "8") and self.original_claim_number is None:
            raise ValueError("a replacement or void (frequency 7/8) needs original_claim_number")
        if sum((line.charge for line in self.lines), Decimal(0)) != self.total_charge:
            raise ValueError("total_charge is not the sum of the line charges")
        numbers = [line.line_number for line in self.lines]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("line numbers must run 1, 2, 3 … in order")
        for line in self.lines:
            if any(p > len(self.diagnoses) for p in line.diagnosis_pointers):
                raise ValueError(f"line {line.line_number} points past the diagnoses")
        payer_ids = {other.payer_id for other in self.other_payers}
        if len(payer_ids) != len(self.other_payers):
            raise ValueError("other payers must have distinct payer ids")
        for line in self.lines:
            for adjudication in line.adjudications:
                if adjudication.other_payer_id not in payer_ids:
                    raise ValueError(
                        f"line {line.line_number} adjudication names an unknown other payer"
                    )
        return self


class ClaimBatch837(TransactionHeader):
    """One interchange with one 837 transaction set carrying many claims."""

    kind: Literal["P", "I"]
    transaction_type: Literal["CH", "RP"] = "CH"  # BHT06: chargeable or reporting
    submitter: Submitter
    receiver: Receiver
    claims: Annotated[tuple[Claim837, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _kind_fits_claims(self) -> ClaimBatch837:
        for claim in self.claims:
            if self.kind == "P":
                if len(claim.lines) > 50:
                    raise ValueError(f"claim {claim.claim_id}: an 837P claim has at most 50 lines")
                if claim.attending_provider is not None:
                    raise ValueError(f"claim {claim.claim_id}: attending provider is 837I only")
                institutional = (
                    claim.statement_from,
                    claim.statement_through,
                    claim.admission_date,
                    claim.admission_type_code,
                    claim.admission_source_code,
                    claim.patient_status_code,
                    claim.institutional or claim.operating_provider or claim.other_provider,
                )
                if any(value is not None for value in institutional):
                    raise ValueError(
                        f"claim {claim.claim_id}: statement/admission data is 837I only"
                    )
                for line in claim.lines:
                    if line.revenue_code is not None or line.unit_code == "DA":
                        raise ValueError(
                            f"claim {claim.claim_id}: revenue codes and DA are 837I only"
                        )
                    if any(a.revenue_code is not None for a in line.adjudications):
                        raise ValueError(f"claim {claim.claim_id}: SVD04 revenue code is 837I only")
                    if not line.diagnosis_pointers or line.procedure_code is None:
                        raise ValueError(
                            f"claim {claim.claim_id}: an 837P line needs a procedure and a pointer"
                        )
            else:
                if claim.statement_from is None or claim.statement_through is None:
                    raise ValueError(f"claim {claim.claim_id}: 837I needs statement dates")
                if claim.patient_status_code is None:
                    raise ValueError(f"claim {claim.claim_id}: 837I needs patient_status_code")
                if claim.rendering_provider is not None:
                    raise ValueError(f"claim {claim.claim_id}: use attending_provider on 837I")
                if claim.provider_signature != "Y":
                    # CLM06 is not used on 837I: the wire cannot carry "N".
                    raise ValueError(f"claim {claim.claim_id}: provider_signature is 837P only")
                for line in claim.lines:
                    if line.revenue_code is None or line.unit_code == "MJ":
                        raise ValueError(
                            f"claim {claim.claim_id}: 837I lines need a revenue code, UN/DA"
                        )
                    if line.diagnosis_pointers or line.place_of_service is not None:
                        raise ValueError(
                            f"claim {claim.claim_id}: 837I lines take no pointers or POS"
                        )
        return self


class EligibilityInquiry(X12Model):
    """One 270 question: 2000A-2000D with EQ and DTP*291."""

    information_source: PayerRef  # 2100A
    information_receiver: Provider  # 2100B NM1*1P
    subscriber: Subscriber  # 2100C
    dependent: Patient | None = None  # 2100D
    trace_number: Ref50  # TRN02
    trace_originator: Annotated[
        str, Field(pattern=r"^[0-9A-Z]{10}$")
    ]  # TRN03: "1" + EIN, or "9" + id
    service_type_codes: Annotated[
        tuple[Annotated[str, Field(pattern=r"^[0-9A-Z]{1,2}$")], ...],
        Field(min_length=1, max_length=99),
    ] = ("30",)
    service_date: date | None = None  # DTP*291


class EligibilityBatch270(TransactionHeader):
    """One 270 transaction set; consecutive inquiries to the same source/receiver share HLs."""

    inquiries: Annotated[tuple[EligibilityInquiry, ...], Field(min_length=1)]


class StatusInquiry(X12Model):
    """One 276 question about one claim: 2000A-2000E with TRN, REF*EJ, AMT*T3, DTP*472."""

    information_source: PayerRef  # 2100A
    information_receiver: Receiver  # 2100B NM1*41 (46)
    service_provider: Provider  # 2100C NM1*1P
    subscriber: Subscriber  # 2100D
    dependent: Patient | None = None  # 2100E
    trace_number: Ref50  # TRN*1
    payer_claim_number: Ref50 | None = None  # REF*1K
    bill_type: Annotated[str, Field(pattern=r"^[0-9]{3}$")] | None = None  # REF*BLT (institutional)
    patient_control_number: Annotated[str, _WIRE, _text(20)] | None = None  # REF*EJ
    total_charge: Money | None = None  # AMT*T3
    service_from: date
    service_through: date | None = None


class StatusBatch276(TransactionHeader):
    """One 276 transaction set asking about many claims."""

    inquiries: Annotated[tuple[StatusInquiry, ...], Field(min_length=1)]
