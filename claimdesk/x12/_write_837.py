"""837P (005010X222A1) and 837I (005010X223A2) writers: one ST set, many claims.

Claims are written in the order given; consecutive claims with the same billing
provider share an HL 20, with the same subscriber and payer an HL 22, with the
same patient an HL 23. The models were validated when built, so this module
only joins strings (5,000 claims well under a second).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from claimdesk.x12._serialize import (
    C,
    E,
    S,
    composite,
    finish_interchange,
    format_amount,
    format_date,
    format_period,
    segment,
    transaction_set,
)
from claimdesk.x12.claim_data import (
    Address,
    Adjustment,
    BillingProvider,
    Claim837,
    ClaimBatch837,
    LineAdjudication,
    OtherPayer,
    Patient,
    PersonName,
    Provider,
    ServiceLine,
    Subscriber,
)
from claimdesk.x12.institutional import InstitutionalData

VERSION_837P = "005010X222A1"
VERSION_837I = "005010X223A2"
# CAS carries at most six reason/amount/quantity triples per group code.
_CAS_TRIPLES = 6
# An HI segment carries at most twelve code composites.
_HI_CODES = 12


def write_837p(batch: ClaimBatch837, *, newline: bool = False) -> bytes:
    """The 837P interchange for ``batch`` (kind "P")."""
    if batch.kind != "P":
        raise ValueError("write_837p takes a batch of kind 'P'")
    return write_837(batch, newline=newline)


def write_837i(batch: ClaimBatch837, *, newline: bool = False) -> bytes:
    """The 837I interchange for ``batch`` (kind "I")."""
    if batch.kind != "I":
        raise ValueError("write_837i takes a batch of kind 'I'")
    return write_837(batch, newline=newline)


def write_837(batch: ClaimBatch837, *, newline: bool = False) -> bytes:
    """The 837P or 837I interchange for ``batch``, by its kind."""
    version = VERSION_837P if batch.kind == "P" else VERSION_837I
    body = _header(batch)
    body.extend(_hierarchy(batch))
    st_set = transaction_set("837", batch.control, version, body)
    return finish_interchange(
        envelope=batch.envelope,
        control=batch.control,
        created_at=batch.created_at,
        functional_id="HC",
        version=version,
        transaction_set=st_set,
        newline=newline,
    )


def _header(batch: ClaimBatch837) -> list[str]:
    created = batch.created_at
    submitter = batch.submitter
    contact: list[str | None] = ["PER", "IC", submitter.contact_name]
    if submitter.phone is not None:
        contact += ["TE", submitter.phone]
    if submitter.email is not None:
        contact += ["EM", submitter.email]
    return [
        segment(
            "BHT",
            "0019",
            "00",
            batch.reference_id,
            format_date(created.date()),
            created.strftime("%H%M"),
            batch.transaction_type,
        ),
        _nm1("41", submitter.name, "46", submitter.identifier),
        segment(*contact),
        segment("NM1", "40", "2", batch.receiver.name, None, None, None, None, "46",
                batch.receiver.identifier),
    ]  # fmt: skip


def _nm1(code: str, name: PersonName, qualifier: str | None, identifier: str | None) -> str:
    return segment(
        "NM1",
        code,
        name.entity_type,
        name.last_name,
        name.first_name,
        name.middle_name,
        None,
        name.name_suffix,
        qualifier,
        identifier,
    )


def _address(address: Address | None) -> list[str]:
    if address is None:
        return []
    return [
        segment("N3", address.line1, address.line2),
        segment("N4", address.city, address.state, address.postal_code),
    ]


def _hierarchy(batch: ClaimBatch837) -> list[str]:
    """HL 20/22/23 loops with the claims under them."""
    institutional = batch.kind == "I"
    claims = batch.claims
    out: list[str] = []
    hl = 0
    billing_hl = subscriber_hl = 0
    billing: BillingProvider | None = None
    subscriber_key: tuple[object, object] | None = None
    patient: Patient | None = None
    for claim in claims:
        # Identity first: batches built from shared objects skip pydantic's field comparison.
        new_billing = not _same(claim.billing_provider, billing)
        new_subscriber = (
            new_billing
            or subscriber_key is None
            or not _same(claim.subscriber, subscriber_key[0])
            or not _same(claim.payer, subscriber_key[1])
            # An HL 22 carries either the subscriber's own claims or HL 23 children, never
            # both: pyx12's 837I map (and many payers) cannot return from 2000C to 2000B.
            or (claim.patient is None) != (patient is None)
        )
        if new_billing:
            hl += 1
            billing_hl = hl
            billing = claim.billing_provider
            out.append(segment("HL", str(hl), None, "20", "1"))
            out.extend(_billing_provider(billing, institutional))
        if new_subscriber:
            hl += 1
            subscriber_hl = hl
            subscriber_key = (claim.subscriber, claim.payer)
            patient = None
            has_patients = claim.patient is not None
            out.append(segment("HL", str(hl), str(billing_hl), "22", "1" if has_patients else "0"))
            out.extend(_subscriber(claim, institutional))
        if claim.patient is not None and (new_subscriber or not _same(claim.patient, patient)):
            hl += 1
            patient = claim.patient
            out.append(segment("HL", str(hl), str(subscriber_hl), "23", "0"))
            out.extend(_patient(patient))
        out.extend(_claim(claim, institutional))
    return out


def _same(a: object, b: object) -> bool:
    return a is b or a == b


def _billing_provider(provider: BillingProvider, institutional: bool) -> list[str]:
    out = []
    if provider.taxonomy is not None:
        out.append(segment("PRV", "BI", "PXC", provider.taxonomy))
    out.append(_nm1("85", provider, "XX", provider.npi))
    out.extend(_address(provider.address))
    out.append(segment("REF", provider.tax_id_qualifier, provider.tax_id))
    return out


def _subscriber(claim: Claim837, institutional: bool) -> list[str]:
    subscriber: Subscriber = claim.subscriber
    out = [
        segment(
            "SBR",
            subscriber.payer_responsibility,
            "18" if claim.patient is None else None,
            subscriber.group_number,
            subscriber.group_name,
            None,
            None,
            None,
            None,
            subscriber.claim_filing_indicator,
        ),
        _nm1("IL", subscriber, "MI", subscriber.member_id),
    ]
    out.extend(_address(subscriber.address))
    if subscriber.birth_date is not None:
        out.append(segment("DMG", "D8", format_date(subscriber.birth_date), subscriber.gender))
    payer = claim.payer
    out.append(segment("NM1", "PR", "2", payer.name, None, None, None, None, "PI", payer.payer_id))
    out.extend(_address(payer.address))
    return out


def _patient(patient: Patient) -> list[str]:
    out = [segment("PAT", patient.relationship), _nm1("QC", patient, None, None)]
    out.extend(_address(patient.address))
    out.append(segment("DMG", "D8", format_date(patient.birth_date), patient.gender))
    return out


def _claim(claim: Claim837, institutional: bool) -> list[str]:
    out = [
        segment(
            "CLM",
            claim.patient_control_number,
            format_amount(claim.total_charge),
            None,
            None,
            composite(claim.facility_code, "A" if institutional else "B", claim.frequency_code),
            None if institutional else claim.provider_signature,
            claim.assignment_code,
            claim.benefits_assigned,
            claim.release_of_information,
        )
    ]
    if institutional:
        assert claim.statement_from is not None and claim.statement_through is not None
        out.append(
            segment(
                "DTP",
                "434",
                "RD8",
                f"{format_date(claim.statement_from)}-{format_date(claim.statement_through)}",
            )
        )
        # The TR3 puts the admission (DTP*435, with its hour as DT when known) after 434.
        if claim.admission_date is not None:
            hour = claim.institutional.admission_hour if claim.institutional else None
            when = format_date(claim.admission_date) + (hour or "")
            out.append(segment("DTP", "435", "DT" if hour else "D8", when))
        out.append(
            segment(
                "CL1",
                claim.admission_type_code,
                claim.admission_source_code,
                claim.patient_status_code,
            )
        )
    if claim.referral_number is not None:
        out.append(segment("REF", "9F", claim.referral_number))
    if claim.prior_authorization is not None:
        out.append(segment("REF", "G1", claim.prior_authorization))
    if claim.original_claim_number is not None:
        out.append(segment("REF", "F8", claim.original_claim_number))
    out.append(f"REF{E}D9{E}{claim.claim_id}-v{claim.claim_version}{S}")
    out.extend(_diagnoses(claim, institutional))
    if claim.attending_provider is not None:
        out.extend(_provider("71", "AT", claim.attending_provider))
    # 2310B operating, 2310C other operating physician: NM1 only (no PRV in these loops).
    for code, surgeon in (("72", claim.operating_provider), ("ZZ", claim.other_provider)):
        if surgeon is not None:
            out.append(_nm1(code, surgeon, "XX", surgeon.npi))
    if claim.rendering_provider is not None:
        out.extend(_provider("82", "PE", claim.rendering_provider))
    for other in claim.other_payers:
        out.extend(_other_payer(other, claim))
    for line in claim.lines:
        out.extend(_line(line, institutional))
    return out


def _diagnoses(claim: Claim837, institutional: bool) -> list[str]:
    codes = claim.diagnoses
    principal = f"ABK{C}{codes[0]}"
    others = [f"ABF{C}{code}" for code in codes[1:]]
    if institutional:
        # 837I: principal, admitting and other diagnoses each in their own HI, then the codes.
        out = [segment("HI", principal), *admitting_hi(claim.institutional)]
        for start in range(0, len(others), _HI_CODES):
            out.append(segment("HI", *others[start : start + _HI_CODES]))
        return out + code_hi(claim.institutional)
    return [segment("HI", principal, *others)]


def _provider(code: str, role: str, provider: Provider) -> list[str]:
    out = [_nm1(code, provider, "XX", provider.npi)]
    if provider.taxonomy is not None:
        out.append(segment("PRV", role, "PXC", provider.taxonomy))
    return out


def _adjustments(adjustments: Iterable[Adjustment]) -> list[str]:
    """CAS segments: consecutive reasons of one group share a segment, six at most."""
    out: list[str] = []
    group: str | None = None
    elements: list[str | None] = []
    for adjustment in adjustments:
        if adjustment.group_code != group or len(elements) >= 3 * _CAS_TRIPLES:
            if group is not None:
                out.append(segment("CAS", group, *elements))
            group = adjustment.group_code
            elements = []
        quantity = adjustment.quantity
        elements += [
            adjustment.reason_code,
            format_amount(adjustment.amount),
            None if quantity is None else format_amount(quantity),
        ]
    if group is not None:
        out.append(segment("CAS", group, *elements))
    return out


def _other_payer(other: OtherPayer, claim: Claim837) -> list[str]:
    out = [
        segment(
            "SBR",
            other.payer_responsibility,
            other.relationship,
            other.group_number,
            other.group_name,
            None,
            None,
            None,
            None,
            other.claim_filing_indicator,
        )
    ]
    out.extend(_adjustments(other.adjustments))
    if other.paid_amount is not None:
        out.append(segment("AMT", "D", format_amount(other.paid_amount)))
    if other.remaining_patient_liability is not None:
        out.append(segment("AMT", "EAF", format_amount(other.remaining_patient_liability)))
    out.append(
        segment("OI", None, None, claim.benefits_assigned, None, None, claim.release_of_information)
    )
    out.append(_nm1("IL", other.subscriber, "MI", other.member_id))
    out.append(segment("NM1", "PR", "2", other.payer_name, None, None, None, None, "PI",
                       other.payer_id))  # fmt: skip
    if other.adjudication_date is not None:
        out.append(segment("DTP", "573", "D8", format_date(other.adjudication_date)))
    if other.claim_control_number is not None:
        # 2330B: REF*F8 follows DTP*573 and the other REFs (2U/EI, G1, 9F, T4) we never send.
        out.append(segment("REF", "F8", other.claim_control_number))
    return out


def _procedure(qualifier: str, code: str | None, modifiers: tuple[str, ...]) -> str | None:
    if code is None:
        return None
    return composite(qualifier, code, *modifiers)


def _line(line: ServiceLine, institutional: bool) -> list[str]:
    procedure = _procedure(line.procedure_qualifier, line.procedure_code, line.modifiers)
    if institutional:
        service = segment(
            "SV2",
            line.revenue_code,
            procedure,
            format_amount(line.charge),
            line.unit_code,
            format_amount(line.units),
        )
    else:
        service = segment(
            "SV1",
            procedure,
            format_amount(line.charge),
            line.unit_code,
            format_amount(line.units),
            line.place_of_service,
            None,
            composite(*(str(pointer) for pointer in line.diagnosis_pointers)),
        )
    qualifier, period = format_period(line.service_date, line.service_date_end)
    # The hot path: fixed segments as f-strings (no empty elements to drop).
    out = [
        f"LX{E}{line.line_number}{S}",
        service,
        f"DTP{E}472{E}{qualifier}{E}{period}{S}",
        f"REF{E}6R{E}{line.line_item_control_number}{S}",
    ]
    for adjudication in line.adjudications:
        out.extend(_line_adjudication(adjudication, institutional))
    return out


def _line_adjudication(adjudication: LineAdjudication, institutional: bool) -> list[str]:
    out = [
        segment(
            "SVD",
            adjudication.other_payer_id,
            format_amount(adjudication.paid_amount),
            _procedure(
                adjudication.procedure_qualifier,
                adjudication.procedure_code,
                adjudication.modifiers,
            ),
            adjudication.revenue_code if institutional else None,
            format_amount(adjudication.paid_units),
        )
    ]
    out.extend(_adjustments(adjudication.adjustments))
    out.append(segment("DTP", "573", "D8", format_date(adjudication.adjudication_date)))
    return out


def _hi(composites: Sequence[str]) -> list[str]:
    return [
        segment("HI", *composites[start : start + _HI_CODES])
        for start in range(0, len(composites), _HI_CODES)
    ]


def admitting_hi(data: InstitutionalData | None) -> list[str]:
    """HI*ABJ: the admitting diagnosis, between the principal and the other diagnoses."""
    if data is None or data.admitting_diagnosis is None:
        return []
    return [segment("HI", f"ABJ{C}{data.admitting_diagnosis}")]


def code_hi(data: InstitutionalData | None) -> list[str]:
    """HI*BI, HI*BH, HI*BE, HI*BG in the TR3's order (after the other diagnoses)."""
    if data is None:
        return []
    spans = [
        f"BI{C}{s.code}{C}RD8{C}{format_date(s.start)}-{format_date(s.end)}"
        for s in data.occurrence_spans
    ]
    occurrences = [f"BH{C}{o.code}{C}D8{C}{format_date(o.on)}" for o in data.occurrences]
    values = [f"BE{C}{v.code}{C}{C}{C}{format_amount(v.amount)}" for v in data.value_codes]
    conditions = [f"BG{C}{code}" for code in data.condition_codes]
    return [
        *_hi(spans),
        *_hi(occurrences),
        *_hi(values),
        *_hi(conditions),
    ]
