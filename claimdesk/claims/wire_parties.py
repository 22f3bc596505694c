"""Database rows → the parties of an X12 transaction: envelope, providers, subscriber, patient.

Shared by the 837 (``claimdesk.claims.wire_data``), the 270 and the 276 builders.
Every text goes through a ``WireText`` (transliterated to the X12 character set,
noted by field name); rows that cannot make a party raise ``WireDataError``
naming the field and the rule.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from claimdesk.claims.wire_text import WireDataError, WireText, section
from claimdesk.settings import Settings
from claimdesk.x12 import claim_data as cd
from models import Coverage, Patient, Payer, Practice, Provider
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


def _address(row: Practice | Provider | Patient, field: str, text: WireText) -> cd.Address | None:
    if not (row.address_line1 and row.city and row.state and row.postal_code):
        return None
    line1, city = text(f"{field}.line1", row.address_line1), text(f"{field}.city", row.city)
    line2 = text.optional(f"{field}.line2", row.address_line2)
    state, postal_code = row.state, row.postal_code
    return section(
        field,
        lambda: cd.Address(
            line1=line1, line2=line2, city=city, state=state, postal_code=postal_code
        ),
    )


def provider_for(row: Provider, field: str, text: WireText) -> cd.Provider:
    if row.organization_name:
        name = text(f"{field}.name", row.organization_name)
        return section(
            field,
            lambda: cd.Provider(
                entity_type="2", last_name=name, npi=row.npi, taxonomy=row.taxonomy
            ),
        )
    last, first = (
        text(f"{field}.last_name", row.last_name or ""),
        text.optional(f"{field}.first_name", row.first_name),
    )
    return section(
        field,
        lambda: cd.Provider(
            entity_type="1", last_name=last, first_name=first, npi=row.npi, taxonomy=row.taxonomy
        ),
    )


def billing_provider(
    row: Provider, practice: Practice, text: WireText | None = None
) -> cd.BillingProvider:
    text = text or WireText()
    address = _address(row, "billing_provider.address", text) or _address(
        practice, "practice.address", text
    )
    if address is None:
        raise WireDataError("billing_provider.address", "required")
    name = text("billing_provider.name", row.organization_name or practice.name)
    return section(
        "billing_provider",
        lambda: cd.BillingProvider(
            entity_type="2",
            last_name=name,
            npi=row.npi,
            tax_id=row.tin or practice.tin,
            taxonomy=row.taxonomy or practice.taxonomy,
            address=address,
        ),
    )


def subscriber_for(
    coverage: Coverage, patient: Patient, payer: Payer, text: WireText | None = None
) -> cd.Subscriber:
    text = text or WireText()
    is_self = coverage.relationship == "self"
    if is_self:
        last = text("subscriber.last_name", patient.last_name)
        first = text.optional("subscriber.first_name", patient.first_name)
    else:
        last = text("subscriber.last_name", coverage.subscriber_last_name or patient.last_name)
        first = text.optional("subscriber.first_name", coverage.subscriber_first_name)
    member_id = text("subscriber.member_id", coverage.member_id)
    group = text.optional("subscriber.group_number", coverage.group_number)
    address = _address(patient, "subscriber.address", text)
    order = {1: "P", 2: "S", 3: "T"}.get(coverage.coverage_order)
    if order is None:
        raise WireDataError("coverage.coverage_order", "unknown_code")
    return section(
        "subscriber",
        lambda: cd.Subscriber(
            last_name=last,
            first_name=first,
            member_id=member_id,
            birth_date=patient.birth_date if is_self else coverage.subscriber_birth_date,
            gender=patient.gender if is_self else ("U" if coverage.subscriber_birth_date else None),
            address=address,
            payer_responsibility=order,
            group_number=group,
            claim_filing_indicator=payer.claim_filing_indicator,
        ),
    )


def dependent_for(
    coverage: Coverage, patient: Patient, text: WireText | None = None
) -> cd.Patient | None:
    if coverage.relationship == "self":
        return None
    text = text or WireText()
    address = _address(patient, "patient.address", text)
    if address is None:
        raise WireDataError("patient.address", "required")
    relationship = RELATIONSHIP_CODES.get(coverage.relationship)
    if relationship is None:
        raise WireDataError("coverage.relationship", "unknown_code")
    last = text("patient.last_name", patient.last_name)
    first = text.optional("patient.first_name", patient.first_name)
    return section(
        "patient",
        lambda: cd.Patient(
            last_name=last,
            first_name=first,
            relationship=relationship,
            birth_date=patient.birth_date,
            gender=patient.gender,
            address=address,
        ),
    )


def eligibility_inquiry(
    session: Session,
    *,
    settings: Settings,
    coverage: Coverage,
    trace_number: str,
    service_date: date,
    text: WireText | None = None,
) -> cd.EligibilityInquiry:
    """The 2100A-2110C of one 270; ``WireDataError`` when the coverage's rows cannot go."""
    text = text or WireText()
    patient = session.get(Patient, coverage.patient_id)
    payer = session.get(Payer, coverage.payer_id)
    if patient is None or payer is None:
        raise WireDataError("coverage.patient" if patient is None else "coverage.payer", "missing")
    practice = session.get(Practice, patient.practice_id)
    if practice is None:
        raise WireDataError("patient.practice", "missing")
    source = cd.PayerRef(name=cut(text("payer.name", payer.name), 60), payer_id=payer.payer_id)
    receiver_name = cut(text("practice.name", practice.name), 60)
    subscriber = subscriber_for(coverage, patient, payer, text)
    dependent = dependent_for(coverage, patient, text)
    return section(
        "inquiry",
        lambda: cd.EligibilityInquiry(
            information_source=source,
            information_receiver=cd.Provider(
                entity_type="2", last_name=receiver_name, npi=practice.npi
            ),
            subscriber=subscriber,
            dependent=dependent,
            trace_number=trace_number,
            trace_originator=f"1{practice.tin}",
            service_date=service_date,
        ),
    )


def cut(value: str, length: int) -> str:
    """``value`` cut to an element's length, never ending in a blank the model refuses."""
    return value[:length].rstrip()
