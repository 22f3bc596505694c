"""Typed, immutable results of reading X12: envelopes, TA1, 271, 277/277CA, 835, 999.

Money and other R-type numbers are ``Decimal``; dates are ``datetime.date``.
Field names are the names of the JSON the CLI prints (see docs/x12-json.md).
The 837 reader returns the writer's ``claim_data`` models instead.
"""

from __future__ import annotations

from datetime import date as Date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class X12Model(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- envelope -----------------------------------------------------------------


class InterchangeAck(X12Model):
    """TA1: the receiver's verdict on an interchange envelope."""

    control_number: str
    date: Date | None
    time: str
    ack_code: str  # A accepted, E accepted with errors, R rejected
    note_code: str


class Party(X12Model):
    """An NM1/N1 entity: payer, payee, provider, receiver."""

    entity_code: str
    name: str
    id_qualifier: str = ""
    id: str = ""


class Member(X12Model):
    """A subscriber or patient (NM1*IL, NM1*QC, NM1*03)."""

    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    member_id: str = ""
    birth_date: Date | None = None
    gender: str = ""


class OtherTransaction(X12Model):
    """A set claimdesk reads only the envelope of (270, 276, ...)."""

    kind: Literal["other"] = "other"
    set_id: str
    control_number: str
    implementation: str
    segment_count: int


# --- 999 ------------------------------------------------------------------------


class ElementError(X12Model):
    """IK4: an element in error."""

    position: int | None
    component: int | None
    reference: str
    code: str
    # IK404 may copy the bad value (PHI); kept here, never in error messages.
    bad_value: str


class SegmentError(X12Model):
    """IK3 (+ its IK4s): a segment in error."""

    segment_id: str
    position: int | None
    loop: str
    code: str
    element_errors: tuple[ElementError, ...] = ()


class SetAck(X12Model):
    """AK2 ... IK5: the verdict on one transaction set."""

    set_id: str
    control_number: str
    implementation: str
    status: str  # IK501: A, E, M, P, R, W, X
    error_codes: tuple[str, ...] = ()
    segment_errors: tuple[SegmentError, ...] = ()


class Ack999(X12Model):
    kind: Literal["999"] = "999"
    set_id: str
    control_number: str
    implementation: str
    functional_id: str
    group_control_number: str
    group_version: str
    acks: tuple[SetAck, ...]
    group_status: str  # AK901
    sets_included: int | None
    sets_received: int | None
    sets_accepted: int | None
    group_error_codes: tuple[str, ...] = ()


# --- 277 / 277CA -------------------------------------------------------------------


class StatusCode(X12Model):
    """STC01/STC10/STC11: category:status[:entity]."""

    category: str
    status: str
    entity: str = ""


class Status(X12Model):
    """One STC segment."""

    codes: tuple[StatusCode, ...]
    date: Date | None = None
    action_code: str = ""
    charge: Decimal | None = None
    paid: Decimal | None = None
    adjudication_date: Date | None = None
    check_date: Date | None = None
    check_number: str = ""
    message: str = ""


class LineStatus(X12Model):
    """2220D/E: a service line's status (SVC + STC)."""

    procedure_qualifier: str
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal | None
    paid: Decimal | None
    revenue_code: str
    units: Decimal | None
    line_control_number: str
    service_date: Date | None
    statuses: tuple[Status, ...]


class ClaimStatus(X12Model):
    """2200D/E: one claim's status."""

    patient_control_number: str
    payer_claim_control_number: str
    patient: Member | None
    provider: Party | None
    bill_type: str
    clearinghouse_trace: str
    service_from: Date | None
    service_to: Date | None
    statuses: tuple[Status, ...]
    lines: tuple[LineStatus, ...]
    # 277CA only: False when a status category says the claim was rejected (A3, A4, A6-A8).
    accepted: bool | None


class LevelStatus(X12Model):
    """STC at the source, receiver or provider level (not about one claim)."""

    level: str  # HL03
    entity: Party | None
    statuses: tuple[Status, ...]


class ClaimStatus277(X12Model):
    kind: Literal["277", "277CA"]
    set_id: str
    control_number: str
    implementation: str
    reference: str
    date: Date | None
    payer: Party | None
    receiver: Party | None
    level_statuses: tuple[LevelStatus, ...]
    claims: tuple[ClaimStatus, ...]


# --- 271 ---------------------------------------------------------------------------


class Rejection(X12Model):
    """AAA: the request could not be answered at this level."""

    level: str  # source, receiver, subscriber, dependent, benefit
    valid: str  # AAA01 Y/N
    reason_code: str  # AAA03
    follow_up_code: str  # AAA04


class Period(X12Model):
    """DTP in a 271: a qualified date or date range."""

    qualifier: str
    start: Date | None
    end: Date | None


class Benefit(X12Model):
    """EB (+ its DTP, MSG, LS/LE entities): one benefit statement."""

    member: Literal["subscriber", "dependent"]
    info_code: str  # EB01
    coverage_level: str  # EB02
    service_types: tuple[str, ...]  # EB03 repeats
    insurance_type: str  # EB04
    plan_description: str  # EB05
    time_period: str  # EB06
    amount: Decimal | None  # EB07
    percent: Decimal | None  # EB08
    quantity_qualifier: str  # EB09
    quantity: Decimal | None  # EB10
    authorization_required: str  # EB11
    in_network: str  # EB12: Y, N, U, W
    periods: tuple[Period, ...] = ()
    messages: tuple[str, ...] = ()
    related_entities: tuple[Party, ...] = ()


class Eligibility271(X12Model):
    kind: Literal["271"] = "271"
    set_id: str
    control_number: str
    implementation: str
    reference: str
    source: Party | None
    receiver: Party | None
    subscriber: Member | None
    subscriber_periods: tuple[Period, ...]
    dependent: Member | None
    dependent_periods: tuple[Period, ...]
    trace_numbers: tuple[str, ...]
    benefits: tuple[Benefit, ...]
    rejections: tuple[Rejection, ...]


# --- 835 -----------------------------------------------------------------------------


class Payment(X12Model):
    """BPR + TRN: the money and how it moved."""

    handling_code: str  # BPR01
    total: Decimal  # BPR02
    credit_debit: str  # BPR03
    method: str  # BPR04: ACH, CHK, NON, ...
    date: Date | None  # BPR16
    trace_number: str  # TRN02
    originator_id: str  # TRN03


class Adjustment(X12Model):
    """One reason/amount/quantity triplet of a CAS."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None


class Remark(X12Model):
    """LQ: a remark code (HE = RARC, RX = NCPDP reject)."""

    qualifier: str
    code: str


class ServicePayment(X12Model):
    """2110: SVC with its dates, CAS, REF*6R, AMT and LQ."""

    procedure_qualifier: str
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    revenue_code: str
    units: Decimal | None
    line_control_number: str
    service_from: Date | None
    service_to: Date | None
    allowed: Decimal | None
    adjustments: tuple[Adjustment, ...]
    remarks: tuple[Remark, ...]


class InpatientAdjudication(X12Model):
    """MIA."""

    covered_days: Decimal | None
    drg_amount: Decimal | None
    remarks: tuple[str, ...]


class OutpatientAdjudication(X12Model):
    """MOA."""

    reimbursement_rate: Decimal | None
    payable_amount: Decimal | None
    remarks: tuple[str, ...]


class ClaimPayment(X12Model):
    """2100: CLP with everything under it."""

    patient_control_number: str  # CLP01
    status_code: str  # CLP02
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal | None  # CLP05
    filing_indicator: str  # CLP06
    payer_claim_control_number: str  # CLP07
    facility_code: str  # CLP08
    frequency_code: str  # CLP09
    patient: Member | None
    statement_from: Date | None
    statement_to: Date | None
    received: Date | None
    inpatient: InpatientAdjudication | None
    outpatient: OutpatientAdjudication | None
    adjustments: tuple[Adjustment, ...]
    services: tuple[ServicePayment, ...]


class ProviderAdjustment(X12Model):
    """One reason/amount pair of a PLB."""

    provider_id: str
    fiscal_period_date: Date | None
    reason: str  # PLB03-1
    reference: str  # PLB03-2
    amount: Decimal


class BalanceError(X12Model):
    """An 835 sum that does not add up; the figures, not a raised error."""

    rule: Literal["payment", "claim", "service"]
    claim_index: int | None  # 1-based among the set's claims
    service_index: int | None  # 1-based among the claim's services
    patient_control_number: str
    expected: Decimal
    actual: Decimal
    message: str


class Remittance835(X12Model):
    kind: Literal["835"] = "835"
    set_id: str
    control_number: str
    implementation: str
    payment: Payment
    payer: Party | None
    payee: Party | None
    production_date: Date | None
    claims: tuple[ClaimPayment, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...]
    balanced: bool
    balance_errors: tuple[BalanceError, ...]


# --- interchange ----------------------------------------------------------------------


class FunctionalGroup(X12Model):
    functional_id: str  # GS01
    sender_code: str
    receiver_code: str
    date: Date | None
    control_number: str  # GS06
    version: str  # GS08
    # Parsed sets: the models above, an 837's ``claim_data`` model, or OtherTransaction.
    transactions: tuple[Any, ...] = ()


class Interchange(X12Model):
    control_number: str  # ISA13
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: Date | None
    time: str
    version: str  # ISA12
    usage: str  # ISA15: P production, T test
    acknowledgments: tuple[InterchangeAck, ...] = ()
    groups: tuple[FunctionalGroup, ...] = ()


class RemittanceStart(X12Model):
    """A streamed 835 set's header (ST, BPR, TRN, DTM*405, N1*PR, N1*PE), before its claims."""

    kind: Literal["835_start"] = "835_start"
    set_id: str
    control_number: str
    implementation: str
    payment: Payment
    payer: Party | None
    payee: Party | None
    production_date: Date | None
    interchange: Interchange  # headers only
    group: FunctionalGroup  # headers only


class RemittanceEnd(X12Model):
    """A streamed 835 set's end: its PLBs and balance, after SE was checked."""

    kind: Literal["835_end"] = "835_end"
    claim_count: int
    paid: Decimal  # Σ CLP04
    provider_adjustments: tuple[ProviderAdjustment, ...]
    balanced: bool
    balance_errors: tuple[BalanceError, ...]


def fast_constructor(cls: type[X12Model]) -> Any:
    """A builder for ``cls`` that skips validation, for values a parser already typed.

    The same as ``cls.model_construct(**values)`` when every field is given, about
    ten times faster (the 835 reader builds tens of thousands of models per second).
    Callers pass every field; a missing one would be missing from the model.
    """
    new = cls.__new__
    set_attribute = object.__setattr__
    field_names = set(cls.model_fields)

    def construct(**values: Any) -> Any:
        model = new(cls)
        set_attribute(model, "__dict__", values)
        set_attribute(model, "__pydantic_fields_set__", field_names)
        set_attribute(model, "__pydantic_extra__", None)
        set_attribute(model, "__pydantic_private__", None)
        return model

    return construct
