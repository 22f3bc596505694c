"""What a CMS-1500 (02/12) shows, item by item, and how a claim fills it.

``Cms1500Facts`` is the form's content, already in the form's terms (checkbox
choices, letters for diagnosis pointers, one block per provider), so the
renderer only places it. ``facts_from_claim`` fills it from the same
``Claim837`` the 837P writer takes (``claim_data_service`` builds it from the
database); what the 837 does not carry (the payer's mailing address, the other
insured when billing the primary, the office phone) comes in as arguments.
Pure: no database, no files.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from claimdesk.x12 import claim_data as cd

InsuranceType = Literal["medicare", "medicaid", "tricare", "champva", "group", "feca", "other"]
Relationship = Literal["self", "spouse", "child", "other"]

SIGNATURE_ON_FILE = "SIGNATURE ON FILE"
# Item 21: six service lines per form (NUCC); more lines continue on further pages.
LINES_PER_PAGE = 6
POINTER_LETTERS = "ABCDEFGHIJKL"

# SBR09 claim filing indicator → item 1 box (NUCC 1500 instructions, item 1).
_INSURANCE_TYPE: dict[str, InsuranceType] = {
    "MA": "medicare",
    "MB": "medicare",
    "MC": "medicaid",
    "CH": "tricare",
    "VA": "champva",
    "FI": "feca",
    "CI": "group",
    "BL": "group",
    "HM": "group",
    "12": "group",
    "13": "group",
    "14": "group",
    "15": "group",
    "16": "group",
}
# PAT01 / SBR02 individual relationship code → item 6 box.
_RELATIONSHIP: dict[str, Relationship] = {"18": "self", "01": "spouse", "19": "child"}


class _Facts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FormAddress(_Facts):
    street: str
    city: str
    state: str
    zip_code: str


class OtherInsured(_Facts):
    """Items 9, 9a and 9d: the patient's other coverage."""

    name: str
    policy_or_group: str
    plan_name: str = ""


class ProviderBlock(_Facts):
    """Items 17, 32 or 33: a name, an optional address, an NPI and an other id (b)."""

    name: str
    address: FormAddress | None = None
    npi: str = ""
    other_id: str = ""  # 17a / 32b / 33b, with its qualifier first (e.g. ZZ + taxonomy)
    phone: str = ""  # 33 only: ten digits


class FormLine(_Facts):
    """One item 24 line."""

    from_date: date
    to_date: date
    place_of_service: str
    emergency: bool = False
    procedure: str
    modifiers: tuple[str, ...] = ()
    pointers: str = ""  # letters A-L, up to four
    charge: Decimal
    units: Decimal
    rendering_npi: str = ""


class Cms1500Facts(_Facts):
    form_date: date  # item 31's date and the PDF's creation date: same facts, same bytes
    # Carrier block (top right): where the paper goes.
    payer_name: str
    payer_address: tuple[str, ...] = ()
    # Items 1-13: patient and insured.
    insurance_type: InsuranceType
    insured_id: str
    patient_name: str
    patient_birth_date: date | None = None
    patient_sex: Literal["M", "F", "U"] = "U"
    insured_name: str
    patient_address: FormAddress | None = None
    relationship: Relationship
    insured_address: FormAddress | None = None
    other_insured: OtherInsured | None = None
    employment_related: bool = False
    auto_accident: bool = False
    auto_accident_state: str = ""
    other_accident: bool = False
    insured_group_number: str = ""
    insured_birth_date: date | None = None
    insured_sex: Literal["M", "F", "U"] = "U"
    insured_plan_name: str = ""
    another_plan: bool = False
    patient_signature: str = SIGNATURE_ON_FILE
    insured_signature: str = SIGNATURE_ON_FILE
    # Items 14-33: physician or supplier.
    referring_provider: ProviderBlock | None = None
    referring_qualifier: str = "DN"  # 17: DN referring, DK ordering, DQ supervising
    additional_information: str = ""
    icd_indicator: str = "0"  # 0: ICD-10-CM
    diagnoses: tuple[str, ...] = Field(min_length=1, max_length=12)
    resubmission_code: str = ""  # 22: 7 replacement, 8 void
    original_reference: str = ""
    prior_authorization: str = ""
    lines: tuple[FormLine, ...] = Field(min_length=1)
    tax_id: str
    tax_id_kind: Literal["SSN", "EIN"] = "EIN"
    patient_account_number: str
    accept_assignment: bool = True
    total_charge: Decimal
    amount_paid: Decimal | None = None
    physician_signature: str = SIGNATURE_ON_FILE
    service_facility: ProviderBlock | None = None
    billing_provider: ProviderBlock

    @property
    def page_count(self) -> int:
        return -(-len(self.lines) // LINES_PER_PAGE)

    def page_lines(self, page: int) -> tuple[FormLine, ...]:
        """The lines on ``page`` (1-based)."""
        start = (page - 1) * LINES_PER_PAGE
        return self.lines[start : start + LINES_PER_PAGE]


def person_name(name: cd.PersonName) -> str:
    """``LAST, FIRST, M`` as NUCC asks (an organisation is its one name)."""
    if name.entity_type == "2" or not name.first_name:
        return name.last_name
    parts = [name.last_name, name.first_name]
    if name.middle_name:
        parts.append(name.middle_name[0])
    text = ", ".join(parts)
    return f"{text} {name.name_suffix}" if name.name_suffix else text


def form_address(address: cd.Address | None) -> FormAddress | None:
    if address is None:
        return None
    street = address.line1 if not address.line2 else f"{address.line1} {address.line2}"
    return FormAddress(
        street=street, city=address.city, state=address.state, zip_code=address.postal_code
    )


def facts_from_claim(
    claim: cd.Claim837,
    *,
    form_date: date,
    payer_address: tuple[str, ...] = (),
    other_insured: OtherInsured | None = None,
    insured_plan_name: str = "",
    service_facility: ProviderBlock | None = None,
    billing_phone: str = "",
) -> Cms1500Facts:
    """The form for one professional claim.

    ``other_insured``: the patient's other coverage when this claim bills the
    primary; a claim that bills a secondary payer names its primary itself
    (the 837's 2320 loop) and item 29 shows what the primary paid.
    """
    subscriber = claim.subscriber
    dependent = claim.patient
    billing = claim.billing_provider
    if claim.other_payers and other_insured is None:
        prior = claim.other_payers[0]
        other_insured = OtherInsured(
            name=person_name(prior.subscriber),
            policy_or_group=prior.member_id,
            plan_name=prior.payer_name,
        )
    paid = [p.paid_amount for p in claim.other_payers if p.paid_amount is not None]
    billing_block = ProviderBlock(
        name=billing.last_name,
        address=form_address(billing.address),
        npi=billing.npi,
        other_id=f"ZZ{billing.taxonomy}" if billing.taxonomy else "",
        phone=billing_phone,
    )
    rendering_npi = claim.rendering_provider.npi if claim.rendering_provider else ""
    return Cms1500Facts(
        form_date=form_date,
        payer_name=claim.payer.name,
        payer_address=payer_address,
        insurance_type=_INSURANCE_TYPE.get(subscriber.claim_filing_indicator, "other"),
        insured_id=subscriber.member_id,
        patient_name=person_name(dependent or subscriber),
        patient_birth_date=dependent.birth_date if dependent else subscriber.birth_date,
        patient_sex=(dependent.gender if dependent else subscriber.gender) or "U",
        insured_name=person_name(subscriber),
        patient_address=form_address(dependent.address if dependent else subscriber.address),
        relationship=_RELATIONSHIP.get(dependent.relationship, "other") if dependent else "self",
        insured_address=form_address(subscriber.address),
        other_insured=other_insured,
        insured_group_number=subscriber.group_number or "",
        insured_birth_date=subscriber.birth_date,
        insured_sex=subscriber.gender or "U",
        insured_plan_name=insured_plan_name or subscriber.group_name or "",
        another_plan=other_insured is not None,
        patient_signature=SIGNATURE_ON_FILE if claim.release_of_information == "Y" else "",
        insured_signature=SIGNATURE_ON_FILE if claim.benefits_assigned == "Y" else "",
        diagnoses=claim.diagnoses,
        resubmission_code=claim.frequency_code if claim.frequency_code in ("7", "8") else "",
        original_reference=claim.original_claim_number or "",
        prior_authorization=claim.prior_authorization or claim.referral_number or "",
        lines=tuple(
            FormLine(
                from_date=line.service_date,
                to_date=line.service_date_end or line.service_date,
                place_of_service=line.place_of_service or claim.facility_code,
                procedure=line.procedure_code or "",
                modifiers=line.modifiers,
                pointers="".join(POINTER_LETTERS[p - 1] for p in line.diagnosis_pointers),
                charge=line.charge,
                units=line.units,
                rendering_npi=rendering_npi,
            )
            for line in claim.lines
        ),
        tax_id=billing.tax_id,
        tax_id_kind="SSN" if billing.tax_id_qualifier == "SY" else "EIN",
        patient_account_number=claim.patient_control_number,
        accept_assignment=claim.assignment_code == "A",
        total_charge=claim.total_charge,
        amount_paid=sum(paid, Decimal(0)) if paid else None,
        physician_signature=SIGNATURE_ON_FILE if claim.provider_signature == "Y" else "",
        service_facility=service_facility
        or billing_block.model_copy(update={"phone": "", "other_id": ""}),
        billing_provider=billing_block,
    )
