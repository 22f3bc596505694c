"""Database rows → the codec's plain data layer (``claimdesk.x12.claim_data``).

The only place that knows both the tables and the X12 models; the codec stays
free of the database and the tables free of X12.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from claimdesk.settings import Settings
from claimdesk.x12 import claim_data as cd
from models import (
    Adjustment,
    Authorization,
    Claim,
    ClaimLine,
    ClaimPayment,
    Coverage,
    Diagnosis,
    Patient,
    Payer,
    Practice,
    Provider,
    ServicePayment,
)
from models.patients import RELATIONSHIP_CODES

# Until a practice records its own, the billing office's contact on the 837 (1000A PER).
DEFAULT_CONTACT_PHONE = "2175550100"


def envelope_for(settings: Settings, payer: Payer) -> cd.EnvelopeParties:
    receiver = str(payer.connectivity.get("receiver_id") or payer.payer_id)
    return cd.EnvelopeParties(
        sender_id=settings.core_sender_id,
        receiver_id=receiver,
        application_sender_code=settings.core_sender_id,
        application_receiver_code=receiver,
        usage_indicator="P" if payer.connectivity.get("production") else "T",
    )


def _address(row: Practice | Provider | Patient) -> cd.Address | None:
    if not (row.address_line1 and row.city and row.state and row.postal_code):
        return None
    return cd.Address(
        line1=row.address_line1,
        line2=row.address_line2 or None,
        city=row.city,
        state=row.state,
        postal_code=row.postal_code,
    )


def _provider(row: Provider) -> cd.Provider:
    if row.organization_name:
        return cd.Provider(
            entity_type="2", last_name=row.organization_name, npi=row.npi, taxonomy=row.taxonomy
        )
    return cd.Provider(
        entity_type="1",
        last_name=row.last_name or "",
        first_name=row.first_name,
        npi=row.npi,
        taxonomy=row.taxonomy,
    )


def billing_provider(row: Provider, practice: Practice) -> cd.BillingProvider:
    address = _address(row) or _address(practice)
    if address is None:
        raise ValueError(f"billing provider {row.id} has no address")
    return cd.BillingProvider(
        entity_type="2",
        last_name=row.organization_name or practice.name,
        npi=row.npi,
        tax_id=row.tin or practice.tin,
        taxonomy=row.taxonomy or practice.taxonomy,
        address=address,
    )


def subscriber_for(coverage: Coverage, patient: Patient, payer: Payer) -> cd.Subscriber:
    is_self = coverage.relationship == "self"
    return cd.Subscriber(
        last_name=patient.last_name
        if is_self
        else coverage.subscriber_last_name or patient.last_name,
        first_name=patient.first_name if is_self else coverage.subscriber_first_name,
        member_id=coverage.member_id,
        birth_date=patient.birth_date if is_self else coverage.subscriber_birth_date,
        gender=patient.gender if is_self else ("U" if coverage.subscriber_birth_date else None),
        address=_address(patient),
        payer_responsibility={1: "P", 2: "S", 3: "T"}[coverage.coverage_order],
        group_number=coverage.group_number,
        claim_filing_indicator=payer.claim_filing_indicator,
    )


def dependent_for(coverage: Coverage, patient: Patient) -> cd.Patient | None:
    if coverage.relationship == "self":
        return None
    address = _address(patient)
    if address is None:
        raise ValueError(f"patient {patient.id} has no address")
    return cd.Patient(
        last_name=patient.last_name,
        first_name=patient.first_name,
        relationship=RELATIONSHIP_CODES[coverage.relationship],
        birth_date=patient.birth_date,
        gender=patient.gender,
        address=address,
    )


def build_claim_batch(
    session: Session,
    *,
    settings: Settings,
    payer_id: int,
    claim_ids: Sequence[int],
    control: cd.ControlNumbers,
    reference_id: str,
    now: datetime | None = None,
) -> cd.ClaimBatch837:
    """One 837 batch (P or I, by the claims' kind) for claims of one payer."""
    payer = session.get(Payer, payer_id)
    assert payer is not None
    claims = session.exec(
        select(Claim).where(col(Claim.id).in_(claim_ids)).order_by(col(Claim.id))
    ).all()
    kinds = {c.kind for c in claims}
    if len(kinds) != 1:
        raise ValueError("one 837 batch carries claims of one kind (P or I)")
    lines = _by_claim(
        session.exec(
            select(ClaimLine)
            .where(col(ClaimLine.claim_id).in_(claim_ids))
            .order_by(col(ClaimLine.line_number))
        ).all()
    )
    diagnoses = _by_claim(
        session.exec(
            select(Diagnosis)
            .where(col(Diagnosis.claim_id).in_(claim_ids))
            .order_by(col(Diagnosis.position))
        ).all()
    )
    practice = session.get(Practice, claims[0].practice_id)
    assert practice is not None
    built = tuple(
        _claim(
            session,
            payer,
            practice,
            claim,
            lines.get(claim.id or 0, []),
            diagnoses.get(claim.id or 0, []),
        )
        for claim in claims
    )
    return cd.ClaimBatch837(
        envelope=envelope_for(settings, payer),
        control=control,
        created_at=(now or datetime.now(UTC)).replace(second=0, microsecond=0, tzinfo=None),
        reference_id=reference_id,
        kind=claims[0].kind,
        submitter=cd.Submitter(
            name=cd.PersonName(entity_type="2", last_name=practice.name),
            identifier=settings.core_sender_id,
            contact_name="BILLING OFFICE",
            phone=DEFAULT_CONTACT_PHONE,
        ),
        receiver=cd.Receiver(
            name=payer.name[:60], identifier=envelope_for(settings, payer).receiver_id
        ),
        claims=built,
    )


def _by_claim(rows: Sequence[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.claim_id, []).append(row)
    return grouped


def _claim(
    session: Session,
    payer: Payer,
    practice: Practice,
    claim: Claim,
    lines: list[ClaimLine],
    diagnoses: list[Diagnosis],
) -> cd.Claim837:
    coverage = session.get(Coverage, claim.coverage_id)
    patient = session.get(Patient, claim.patient_id)
    billing = session.get(Provider, claim.billing_provider_id)
    assert coverage is not None and patient is not None and billing is not None
    rendering = (
        session.get(Provider, claim.rendering_provider_id) if claim.rendering_provider_id else None
    )
    authorization = (
        session.get(Authorization, claim.authorization_id) if claim.authorization_id else None
    )
    institutional = claim.kind == "I"
    return cd.Claim837(
        billing_provider=billing_provider(billing, practice),
        subscriber=subscriber_for(coverage, patient, payer),
        payer=cd.PayerRef(name=payer.name[:60], payer_id=payer.payer_id),
        patient=dependent_for(coverage, patient),
        patient_control_number=claim.patient_control_number,
        total_charge=claim.total_charge,
        facility_code=(claim.facility_type_code or "13")
        if institutional
        else claim.place_of_service,
        frequency_code=claim.frequency_code,
        statement_from=claim.service_from if institutional else None,
        statement_through=claim.service_to if institutional else None,
        patient_status_code="01" if institutional else None,
        original_claim_number=claim.original_payer_claim_number,
        prior_authorization=authorization.number
        if authorization and authorization.kind == "prior_auth"
        else None,
        referral_number=authorization.number
        if authorization and authorization.kind == "referral"
        else None,
        claim_id=str(claim.id),
        claim_version=claim.version,
        diagnoses=tuple(d.code for d in diagnoses),
        rendering_provider=_provider(rendering) if rendering and not institutional else None,
        attending_provider=_provider(rendering) if rendering and institutional else None,
        other_payers=_other_payers(session, claim),
        lines=tuple(
            cd.ServiceLine(
                line_number=line.line_number,
                revenue_code=line.revenue_code if institutional else None,
                procedure_code=line.procedure_code,
                modifiers=tuple(line.modifiers),
                charge=line.charge,
                units=Decimal(line.units).normalize()
                if line.units % 1
                else Decimal(int(line.units)),
                diagnosis_pointers=() if institutional else tuple(line.diagnosis_pointers),
                service_date=line.service_date,
                service_date_end=line.service_date_to,
                line_item_control_number=line.line_control_number,
                adjudications=_line_adjudications(session, claim, line),
            )
            for line in lines
        ),
    )


def _primary_payment(session: Session, claim: Claim) -> tuple[ClaimPayment, Payer, Coverage] | None:
    if claim.coverage_order < 2 or claim.primary_claim_id is None:
        return None
    primary = session.get(Claim, claim.primary_claim_id)
    payment = session.exec(
        select(ClaimPayment)
        .where(ClaimPayment.claim_id == claim.primary_claim_id)
        .order_by(col(ClaimPayment.id).desc())
    ).first()
    if primary is None or payment is None:
        return None
    payer = session.get(Payer, primary.payer_id)
    coverage = session.get(Coverage, primary.coverage_id)
    assert payer is not None and coverage is not None
    return payment, payer, coverage


def _other_payers(session: Session, claim: Claim) -> tuple[cd.OtherPayer, ...]:
    found = _primary_payment(session, claim)
    if found is None:
        return ()
    payment, payer, coverage = found
    patient = session.get(Patient, claim.patient_id)
    assert patient is not None
    claim_level = session.exec(
        select(Adjustment).where(
            Adjustment.claim_payment_id == payment.id, col(Adjustment.service_payment_id).is_(None)
        )
    ).all()
    return (
        cd.OtherPayer(
            payer_responsibility="P",
            claim_filing_indicator=payer.claim_filing_indicator,
            adjustments=tuple(_adjustment(a) for a in claim_level),
            paid_amount=payment.paid,
            remaining_patient_liability=payment.patient_responsibility,
            subscriber=cd.PersonName(last_name=patient.last_name, first_name=patient.first_name),
            member_id=coverage.member_id,
            payer_name=payer.name[:60],
            payer_id=payer.payer_id,
        ),
    )


def _line_adjudications(
    session: Session, claim: Claim, line: ClaimLine
) -> tuple[cd.LineAdjudication, ...]:
    found = _primary_payment(session, claim)
    if found is None:
        return ()
    payment, payer, _coverage = found
    service = session.exec(
        select(ServicePayment).where(
            ServicePayment.claim_payment_id == payment.id,
            ServicePayment.line_control_number == line.line_control_number,
        )
    ).first()
    if service is None:
        return ()
    adjustments = session.exec(
        select(Adjustment).where(Adjustment.service_payment_id == service.id)
    ).all()
    return (
        cd.LineAdjudication(
            other_payer_id=payer.payer_id,
            paid_amount=service.paid,
            procedure_code=line.procedure_code,
            modifiers=tuple(line.modifiers),
            paid_units=Decimal(int(line.units)) if line.units % 1 == 0 else line.units,
            adjustments=tuple(_adjustment(a) for a in adjustments),
            adjudication_date=_remit_date(session, payment) or line.service_date,
        ),
    )


def _adjustment(row: Adjustment) -> cd.Adjustment:
    return cd.Adjustment(
        group_code=row.group_code,
        reason_code=row.reason_code,
        amount=row.amount,
        quantity=row.quantity,
    )


def _remit_date(session: Session, payment: ClaimPayment) -> date | None:
    from models import Remittance

    remittance = session.get(Remittance, payment.remittance_id)
    return remittance.payment_date if remittance else None


def eligibility_inquiry(
    session: Session,
    *,
    settings: Settings,
    coverage: Coverage,
    trace_number: str,
    service_date: date,
) -> cd.EligibilityInquiry:
    patient = session.get(Patient, coverage.patient_id)
    payer = session.get(Payer, coverage.payer_id)
    assert patient is not None and payer is not None
    practice = session.get(Practice, patient.practice_id)
    assert practice is not None
    return cd.EligibilityInquiry(
        information_source=cd.PayerRef(name=payer.name[:60], payer_id=payer.payer_id),
        information_receiver=cd.Provider(
            entity_type="2", last_name=practice.name, npi=practice.npi
        ),
        subscriber=subscriber_for(coverage, patient, payer),
        dependent=dependent_for(coverage, patient),
        trace_number=trace_number,
        trace_originator=f"1{practice.tin}",
        service_date=service_date,
    )
