"""835 health care claim payment/advice (005010X221A1) into ``Remittance835``, balanced.

Models are built without validation (``fast_constructor``): every value is
typed here (Decimal via ``to_decimal``, dates via ``to_date``), so pydantic's
validation would only repeat the work; the bench measures the difference.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from claimdesk.x12._envelope import SetContext, register_parser
from claimdesk.x12._errors import X12SyntaxError
from claimdesk.x12._tokenize import (
    Segment,
    get,
    require,
    to_amount,
    to_date,
    to_decimal,
)
from claimdesk.x12.models import (
    Adjustment,
    BalanceError,
    ClaimPayment,
    InpatientAdjudication,
    Member,
    OutpatientAdjudication,
    Party,
    Payment,
    ProviderAdjustment,
    Remark,
    Remittance835,
    ServicePayment,
    fast_constructor,
)

_ZERO = Decimal(0)
# Validation-free builders: every value below is typed by the _tokenize readers.
_new_Adjustment = fast_constructor(Adjustment)
_new_ProviderAdjustment = fast_constructor(ProviderAdjustment)
_new_Party = fast_constructor(Party)
_new_ServicePayment = fast_constructor(ServicePayment)
_new_ClaimPayment = fast_constructor(ClaimPayment)
_new_Remark = fast_constructor(Remark)
_new_Member = fast_constructor(Member)
_new_InpatientAdjudication = fast_constructor(InpatientAdjudication)
_new_OutpatientAdjudication = fast_constructor(OutpatientAdjudication)
_new_Payment = fast_constructor(Payment)
_new_Remittance835 = fast_constructor(Remittance835)
# CAS holds at most six reason/amount/quantity triplets (CAS02-CAS19).
_CAS_TRIPLETS = tuple(range(2, 20, 3))
# PLB holds at most six reason/amount pairs (PLB03-PLB14).
_PLB_PAIRS = tuple(range(3, 15, 2))


def _padded(elements: list[str], size: int) -> list[str]:
    """``elements`` with '' up to index ``size - 1`` (no copy when long enough)."""
    missing = size - len(elements)
    return elements + [""] * missing if missing > 0 else elements


def _outside(segment: Segment, where: str) -> X12SyntaxError:
    return X12SyntaxError(
        f"segment outside {where}", segment_index=segment[0], segment_id=segment[1][0]
    )


def _read_cas(segment: Segment) -> list[Adjustment]:
    elements = segment[1]
    group = require(segment, 1)
    adjustments = []
    for i in _CAS_TRIPLETS:
        if len(elements) <= i:
            break
        if not elements[i]:
            continue
        adjustments.append(
            _new_Adjustment(
                group=group,
                reason=elements[i],
                amount=to_amount(segment, i + 1),
                quantity=to_decimal(segment, i + 2),
            )
        )
    if not adjustments:
        raise X12SyntaxError(
            "CAS has no reason code", segment_index=segment[0], segment_id="CAS", element="CAS02"
        )
    return adjustments


def _read_plb(segment: Segment, component: str) -> list[ProviderAdjustment]:
    elements = segment[1]
    provider_id = require(segment, 1)
    period = to_date(segment, 2)
    result = []
    for i in _PLB_PAIRS:
        if len(elements) <= i or not elements[i]:
            continue
        reason, _, reference = elements[i].partition(component)
        result.append(
            _new_ProviderAdjustment(
                provider_id=provider_id,
                fiscal_period_date=period,
                reason=reason,
                reference=reference,
                amount=to_amount(segment, i + 1),
            )
        )
    return result


def _party(elements: list[str]) -> Party:
    return _new_Party(
        entity_code=get(elements, 1),
        name=get(elements, 2),
        id_qualifier=get(elements, 3),
        id=get(elements, 4),
    )


class _Service:
    __slots__ = ("adjustments", "allowed", "dates", "line_control_number", "remarks", "segment")

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self.adjustments: list[Adjustment] = []
        self.remarks: list[Remark] = []
        self.dates: dict[str, Any] = {}
        self.line_control_number = ""
        self.allowed: Decimal | None = None

    def build(self, component: str) -> ServicePayment:
        segment = self.segment
        parts = require(segment, 1).split(component)
        if len(parts) < 2 or not parts[1]:
            raise X12SyntaxError(
                "composite has no procedure code",
                segment_index=segment[0],
                segment_id="SVC",
                element="SVC01-2",
                expected="qualifier, the ISA16 separator, then the code",
            )
        dates = self.dates
        single = dates.get("472")
        return _new_ServicePayment(
            procedure_qualifier=parts[0],
            procedure=parts[1],
            modifiers=tuple(m for m in parts[2:6] if m) if len(parts) > 2 else (),
            charge=to_amount(segment, 2),
            paid=to_amount(segment, 3),
            revenue_code=get(segment[1], 4),
            units=to_decimal(segment, 5),
            line_control_number=self.line_control_number,
            service_from=dates.get("150", single),
            service_to=dates.get("151", single),
            allowed=self.allowed,
            adjustments=tuple(self.adjustments),
            remarks=tuple(self.remarks),
        )


class _Claim:
    __slots__ = (
        "adjustments",
        "dates",
        "inpatient",
        "outpatient",
        "patient",
        "segment",
        "services",
    )

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self.adjustments: list[Adjustment] = []
        self.services: list[ServicePayment] = []
        self.dates: dict[str, Any] = {}
        self.patient: Member | None = None
        self.inpatient: InpatientAdjudication | None = None
        self.outpatient: OutpatientAdjudication | None = None

    def build(self) -> ClaimPayment:
        segment = self.segment
        elements = _padded(segment[1], 10)
        if not elements[1] or not elements[2]:
            require(segment, 1)
            require(segment, 2)
        dates = self.dates
        return _new_ClaimPayment(
            patient_control_number=elements[1],
            status_code=elements[2],
            charge=to_amount(segment, 3),
            paid=to_amount(segment, 4),
            patient_responsibility=to_decimal(segment, 5),
            filing_indicator=elements[6],
            payer_claim_control_number=elements[7],
            facility_code=elements[8],
            frequency_code=elements[9],
            patient=self.patient,
            statement_from=dates.get("232"),
            statement_to=dates.get("233"),
            received=dates.get("050"),
            inpatient=self.inpatient,
            outpatient=self.outpatient,
            adjustments=tuple(self.adjustments),
            services=tuple(self.services),
        )


def parse_835(segments: list[Segment], context: SetContext) -> Remittance835:
    """Read one 835 set (ST..SE) and check that its sums balance."""
    component = context.delimiters.component
    payment_segment: Segment | None = None
    trace: list[str] = []
    payer = payee = None
    production_date = None
    claims: list[ClaimPayment] = []
    provider_adjustments: list[ProviderAdjustment] = []
    claim: _Claim | None = None
    service: _Service | None = None
    for segment in segments:
        elements = segment[1]
        segment_id = elements[0]
        if segment_id == "CAS":
            if service is not None:
                service.adjustments.extend(_read_cas(segment))
            elif claim is not None:
                claim.adjustments.extend(_read_cas(segment))
            else:
                raise _outside(segment, "a claim (no CLP before it)")
        elif segment_id == "SVC":
            if claim is None:
                raise _outside(segment, "a claim (no CLP before it)")
            if service is not None:
                claim.services.append(service.build(component))
            service = _Service(segment)
        elif segment_id == "CLP":
            if claim is not None:
                if service is not None:
                    claim.services.append(service.build(component))
                claims.append(claim.build())
            claim, service = _Claim(segment), None
        elif segment_id == "DTM":
            target = service or claim
            if target is not None:
                target.dates[get(elements, 1)] = to_date(segment, 2)
            elif get(elements, 1) == "405":
                production_date = to_date(segment, 2)
        elif segment_id == "REF":
            if service is not None and get(elements, 1) == "6R":
                service.line_control_number = get(elements, 2)
        elif segment_id == "AMT":
            if service is not None and get(elements, 1) == "B6":
                service.allowed = to_decimal(segment, 2)
        elif segment_id == "LQ":
            if service is None:
                raise _outside(segment, "a service line (no SVC before it)")
            service.remarks.append(
                _new_Remark(qualifier=get(elements, 1), code=require(segment, 2))
            )
        elif segment_id == "NM1":
            if claim is not None and service is None and get(elements, 1) == "QC":
                name = _padded(elements, 10)
                claim.patient = _new_Member(
                    last_name=name[3],
                    first_name=name[4],
                    middle_name=name[5],
                    member_id=name[9],
                    birth_date=None,
                    gender="",
                )
        elif segment_id == "MIA":
            if claim is None:
                raise _outside(segment, "a claim (no CLP before it)")
            claim.inpatient = _new_InpatientAdjudication(
                covered_days=to_decimal(segment, 1),
                drg_amount=to_decimal(segment, 4),
                remarks=tuple(r for r in (get(elements, i) for i in (5, 20, 21, 22, 23)) if r),
            )
        elif segment_id == "MOA":
            if claim is None:
                raise _outside(segment, "a claim (no CLP before it)")
            claim.outpatient = _new_OutpatientAdjudication(
                reimbursement_rate=to_decimal(segment, 1),
                payable_amount=to_decimal(segment, 2),
                remarks=tuple(r for r in (get(elements, i) for i in range(3, 8)) if r),
            )
        elif segment_id == "PLB":
            if claim is not None:
                if service is not None:
                    claim.services.append(service.build(component))
                claims.append(claim.build())
                claim = service = None
            provider_adjustments.extend(_read_plb(segment, component))
        elif segment_id == "BPR":
            payment_segment = segment
        elif segment_id == "TRN":
            if not trace:
                trace = elements
        elif segment_id == "N1":
            if get(elements, 1) == "PR":
                payer = _party(elements)
            elif get(elements, 1) == "PE":
                payee = _party(elements)
        elif segment_id == "SE" and claim is not None:
            if service is not None:
                claim.services.append(service.build(component))
            claims.append(claim.build())
            claim = service = None
    if payment_segment is None:
        raise X12SyntaxError(
            "835 has no BPR segment", segment_index=segments[0][0], segment_id="ST", expected="BPR"
        )
    payment = _new_Payment(
        handling_code=get(payment_segment[1], 1),
        total=to_amount(payment_segment, 2),
        credit_debit=get(payment_segment[1], 3),
        method=get(payment_segment[1], 4),
        date=to_date(payment_segment, 16),
        trace_number=get(trace, 2),
        originator_id=get(trace, 3),
    )
    errors = check_balance(payment, claims, provider_adjustments)
    st = segments[0][1]
    return _new_Remittance835(
        kind="835",
        set_id=st[1],
        control_number=st[2],
        implementation=context.version,
        payment=payment,
        payer=payer,
        payee=payee,
        production_date=production_date,
        claims=tuple(claims),
        provider_adjustments=tuple(provider_adjustments),
        balanced=not errors,
        balance_errors=tuple(errors),
    )


def check_balance(
    payment: Payment, claims: list[ClaimPayment], provider_adjustments: list[ProviderAdjustment]
) -> list[BalanceError]:
    """The three 835 balancing rules; each miss is a BalanceError with both figures."""
    errors: list[BalanceError] = []
    for claim_index, claim in enumerate(claims, 1):
        line_total = _ZERO
        for service_index, service in enumerate(claim.services, 1):
            service_cas = sum((a.amount for a in service.adjustments), _ZERO)
            line_total += service_cas
            if service.charge - service.paid != service_cas:
                errors.append(
                    BalanceError(
                        rule="service",
                        claim_index=claim_index,
                        service_index=service_index,
                        patient_control_number=claim.patient_control_number,
                        expected=service.charge - service.paid,
                        actual=service_cas,
                        message="SVC02 - SVC03 differs from the sum of the line's CAS amounts",
                    )
                )
        claim_cas = sum((a.amount for a in claim.adjustments), _ZERO) + line_total
        if claim.charge - claim.paid != claim_cas:
            errors.append(
                BalanceError(
                    rule="claim",
                    claim_index=claim_index,
                    service_index=None,
                    patient_control_number=claim.patient_control_number,
                    expected=claim.charge - claim.paid,
                    actual=claim_cas,
                    message="CLP03 - CLP04 differs from the sum of claim and line CAS amounts",
                )
            )
    paid = sum((c.paid for c in claims), _ZERO)
    provider = sum((p.amount for p in provider_adjustments), _ZERO)
    total = -payment.total if payment.credit_debit == "D" else payment.total
    if paid - provider != total:
        errors.append(
            BalanceError(
                rule="payment",
                claim_index=None,
                service_index=None,
                patient_control_number="",
                expected=total,
                actual=paid - provider,
                message="BPR02 differs from the sum of CLP04 less the sum of PLB amounts",
            )
        )
    return errors


register_parser("835", parse_835)
