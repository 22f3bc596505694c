"""The UB-04 of one institutional claim, from the same data the 837I writer uses.

The 837's names are transliterated to X12's character set; the form prints the
patient's, the insured's and the practice's names as stored (``Ub04Names``).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from claimdesk.claims.wire_data import DEFAULT_CONTACT_PHONE
from claimdesk.paper import FormAddress, Ub04Facts, Ub04Names, Ub04Party, ub04_facts_from_claim
from claimdesk.settings import Settings
from claimdesk.submission.paper_claim import paper_claim
from models import Claim, Coverage, Patient, Practice, Provider


def _address(row: Patient | Practice | Provider) -> FormAddress | None:
    if not row.address_line1 or not row.city or not row.state or not row.postal_code:
        return None
    street = " ".join(p for p in (row.address_line1, row.address_line2 or "") if p)
    return FormAddress(street=street, city=row.city, state=row.state, zip_code=row.postal_code)


def _names(session: Session, claim: Claim) -> Ub04Names:
    patient = session.get(Patient, claim.patient_id)
    coverage = session.get(Coverage, claim.coverage_id)
    billing = session.get(Provider, claim.billing_provider_id)
    assert patient is not None and coverage is not None and billing is not None
    patient_name = f"{patient.last_name}, {patient.first_name}"
    if coverage.relationship == "self" or not coverage.subscriber_last_name:
        insured = patient_name
    else:
        first = coverage.subscriber_first_name or ""
        insured = f"{coverage.subscriber_last_name}, {first}".rstrip(", ")
    return Ub04Names(
        patient_name=patient_name,
        patient_address=_address(patient),
        insured_name=insured,
        provider_name=billing.organization_name or None,
    )


def _pay_to(session: Session, claim: Claim) -> Ub04Party | None:
    """FL2: the practice's pay-to address when it differs from the billing provider's."""
    practice = session.get(Practice, claim.practice_id)
    assert practice is not None
    if not practice.pay_to_address_line1:
        return None
    street = " ".join(
        p for p in (practice.pay_to_address_line1, practice.pay_to_address_line2 or "") if p
    )
    address = FormAddress(
        street=street,
        city=practice.pay_to_city or "",
        state=practice.pay_to_state or "",
        zip_code=practice.pay_to_postal_code or "",
    )
    return Ub04Party(name=practice.name, address=address)


def ub04_form_facts(
    session: Session, *, settings: Settings, claim_id: int, form_date: date
) -> Ub04Facts:
    """The UB-04's content for one institutional claim."""
    claim, wire_claim = paper_claim(session, settings=settings, claim_id=claim_id, kind="I")
    patient = session.get(Patient, claim.patient_id)
    assert patient is not None
    return ub04_facts_from_claim(
        wire_claim,
        form_date=form_date,
        names=_names(session, claim),
        medical_record_number=patient.medical_record_number or patient.account_number,
        pay_to=_pay_to(session, claim),
        provider_phone=DEFAULT_CONTACT_PHONE,
    )
