"""835 health care claim payment/advice (005010X221A1) into ``Remittance835``, balanced.

Models are built without validation (``fast_constructor``): every value is
typed here (Decimal via ``to_decimal``, dates via ``to_date``), so pydantic's
validation would only repeat the work; the bench measures the difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import Any

from claimdesk.x12._balance_835 import claim_balance_errors, payment_balance_error
from claimdesk.x12._envelope import SetContext, register_parser, register_stream_parser
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
    RemittanceEnd,
    RemittanceStart,
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
_new_RemittanceStart = fast_constructor(RemittanceStart)
_new_RemittanceEnd = fast_constructor(RemittanceEnd)
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


def stream_835(
    st: Segment, segments: Iterable[Segment], context: SetContext
) -> Iterator[RemittanceStart | ClaimPayment | RemittanceEnd]:
    """Read one 835 set: its start, then each claim payment as it closes, then its end.

    ``segments`` follow the ``st`` segment and run through the SE (the caller
    checks the SE count and control number). The header (BPR, TRN, DTM*405, N1
    loops) comes before the first CLP, so it is yielded there; a header segment
    after a claim is an error, as it cannot change what was already yielded.
    Each claim's service and claim balance is checked as it closes, the payment
    rule (BPR02 = Σ CLP04 − Σ PLB) at the end; only running totals are kept.
    """
    component = context.delimiters.component
    payment_segment: Segment | None = None
    trace: list[str] = []
    payer = payee = None
    production_date = None
    started = False
    claim_count = 0
    paid = _ZERO
    errors: list[BalanceError] = []
    provider_adjustments: list[ProviderAdjustment] = []
    claim: _Claim | None = None
    service: _Service | None = None
    for segment in segments:
        elements = segment[1]
        segment_id = elements[0]
        # Ordered by how often each segment comes (four DTMs a claim in the bench).
        if segment_id == "DTM":
            target = service or claim
            if target is not None:
                target.dates[get(elements, 1)] = to_date(segment, 2)
            elif get(elements, 1) == "405":
                if started:
                    raise _after_claims(segment)
                production_date = to_date(segment, 2)
        elif segment_id == "CAS":
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
        elif segment_id in ("CLP", "PLB", "SE"):
            if claim is not None:
                if service is not None:
                    claim.services.append(service.build(component))
                built = claim.build()
                claim = service = None
                claim_count += 1
                paid += built.paid
                errors += claim_balance_errors(claim_count, built)
                yield built
            if not started:
                started = True
                if payment_segment is None:
                    raise X12SyntaxError(
                        "835 has no BPR segment", segment_index=st[0], segment_id="ST",
                        expected="BPR",
                    )  # fmt: skip
                payment = _payment(payment_segment, trace)
                yield _new_RemittanceStart(
                    kind="835_start",
                    set_id=st[1][1],
                    control_number=st[1][2],
                    implementation=context.version,
                    payment=payment,
                    payer=payer,
                    payee=payee,
                    production_date=production_date,
                    interchange=context.interchange,
                    group=context.group,
                )
            if segment_id == "CLP":
                claim = _Claim(segment)
            elif segment_id == "PLB":
                provider_adjustments.extend(_read_plb(segment, component))
            else:
                break
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
        elif segment_id == "BPR":
            if started:
                raise _after_claims(segment)
            payment_segment = segment
        elif segment_id == "TRN":
            if started:
                raise _after_claims(segment)
            if not trace:
                trace = elements
        elif segment_id == "N1":
            role = get(elements, 1)
            if role in ("PR", "PE") and started:
                raise _after_claims(segment)
            if role == "PR":
                payer = _party(elements)
            elif role == "PE":
                payee = _party(elements)
    if not started:
        raise X12SyntaxError(
            "data ends inside a transaction set", segment_index=st[0], expected="SE"
        )
    payment_error = payment_balance_error(payment, paid, provider_adjustments)
    if payment_error is not None:
        errors.append(payment_error)
    yield _new_RemittanceEnd(
        kind="835_end",
        claim_count=claim_count,
        paid=paid,
        provider_adjustments=tuple(provider_adjustments),
        balanced=not errors,
        balance_errors=tuple(errors),
    )


def _after_claims(segment: Segment) -> X12SyntaxError:
    return X12SyntaxError(
        "header segment after the first claim payment or PLB",
        segment_index=segment[0],
        segment_id=segment[1][0],
        expected="the header (BPR, TRN, DTM*405, N1) before the first CLP",
    )


def _payment(segment: Segment, trace: list[str]) -> Payment:
    elements = segment[1]
    return _new_Payment(
        handling_code=get(elements, 1),
        total=to_amount(segment, 2),
        credit_debit=get(elements, 3),
        method=get(elements, 4),
        date=to_date(segment, 16),
        trace_number=get(trace, 2),
        originator_id=get(trace, 3),
    )


def remittance_from_stream(
    start: RemittanceStart, claims: Iterable[ClaimPayment], end: RemittanceEnd
) -> Remittance835:
    """The whole-set model from a stream's start, its claims and its end."""
    return _new_Remittance835(
        kind="835",
        set_id=start.set_id,
        control_number=start.control_number,
        implementation=start.implementation,
        payment=start.payment,
        payer=start.payer,
        payee=start.payee,
        production_date=start.production_date,
        claims=tuple(claims),
        provider_adjustments=end.provider_adjustments,
        balanced=end.balanced,
        balance_errors=end.balance_errors,
    )


def parse_835(segments: list[Segment], context: SetContext) -> Remittance835:
    """Read one 835 set (ST..SE, already checked) into one model: the stream, collected."""
    start: RemittanceStart | None = None
    end: RemittanceEnd | None = None
    claims: list[ClaimPayment] = []
    for item in stream_835(segments[0], islice(segments, 1, None), context):
        if isinstance(item, ClaimPayment):
            claims.append(item)
        elif isinstance(item, RemittanceStart):
            start = item
        else:
            end = item
    assert start is not None and end is not None  # stream_835 yields both or raises
    return remittance_from_stream(start, claims, end)


register_parser("835", parse_835)
register_stream_parser("835", stream_835)
