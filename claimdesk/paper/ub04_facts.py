"""What a UB-04 (CMS-1450) shows, form locator by form locator, and how an 837I fills it.

``Ub04Facts`` is the form's content in the form's terms (FL4's four-digit bill type,
FL59's relationship code, one row per payer in FL50-62), so the renderer only places it.
``ub04_facts_from_claim`` fills it from the same ``Claim837`` the 837I writer takes.
The 837's names are transliterated to X12's character set; the caller passes the names
as people wrote them (``names``) so the paper shows "Łukasz Wiśniewski", not "Lukasz
Wisniewski". Pure: no database, no files.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from claimdesk.paper.cms1500_facts import FormAddress, form_address, person_name
from claimdesk.x12 import claim_data as cd

# FL42-47: 22 revenue lines a page; line 23 carries the page number and the totals.
UB04_LINES_PER_PAGE = 22
# FL67A-Q: seventeen other diagnoses beside the principal one.
OTHER_DIAGNOSES = 17
# PAT01 (837) → FL59 patient's relationship to insured (NUBC: 18 self, 01 spouse, 19 child).
_FL59 = {"01": "01", "19": "19", "20": "20", "21": "21", "39": "39", "40": "40", "53": "53"}
# FL43 words for the revenue codes an outpatient department or ASC bills most (NUBC
# categories); a code not here prints without words, the code itself is what counts.
REVENUE_WORDS = {
    "0250": "PHARMACY",
    "0270": "MED-SUR SUPPLIES",
    "0272": "STERILE SUPPLY",
    "0300": "LABORATORY",
    "0301": "LAB/CHEMISTRY",
    "0305": "LAB/HEMATOLOGY",
    "0320": "DX X-RAY",
    "0324": "DX X-RAY/CHEST",
    "0350": "CT SCAN",
    "0360": "OR SERVICES",
    "0361": "OR/MINOR",
    "0370": "ANESTHESIA",
    "0420": "PHYSICAL THERAPY",
    "0450": "EMERGENCY ROOM",
    "0456": "EMERG ROOM/URGENT",
    "0481": "CARDIAC CATH LAB",
    "0490": "AMBUL SURG CARE",
    "0510": "CLINIC",
    "0636": "DRUGS/DETAIL CODE",
    "0710": "RECOVERY ROOM",
    "0730": "EKG/ECG",
    "0761": "TREATMENT ROOM",
}


class _Facts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ub04Party(_Facts):
    """FL1 (billing provider) or FL2 (pay-to): a name, street, city line and phone."""

    name: str
    address: FormAddress | None = None
    phone: str = ""


class Ub04Line(_Facts):
    """One FL42-47 line."""

    revenue_code: str
    description: str = ""
    hcpcs: str = ""  # FL44: HCPCS with its modifiers run on, as the form prints them
    service_date: date | None = None
    units: Decimal
    charge: Decimal
    non_covered: Decimal | None = None


class Ub04Payer(_Facts):
    """One of FL50-55 and FL58-62's rows A, B, C: a payer and its insured."""

    payer_name: str
    health_plan_id: str = ""  # FL51
    release: str = "Y"  # FL52
    assignment: str = "Y"  # FL53
    prior_payments: Decimal | None = None  # FL54
    estimated_due: Decimal | None = None  # FL55
    insured_name: str  # FL58
    relationship: str = "18"  # FL59
    insured_id: str  # FL60
    group_name: str = ""  # FL61
    group_number: str = ""  # FL62


class Ub04Physician(_Facts):
    """FL76-79: an NPI and the physician's last and first name."""

    npi: str
    last_name: str
    first_name: str = ""


class Ub04Names(_Facts):
    """Names and addresses as people wrote them, in place of the 837's transliteration."""

    patient_name: str | None = None
    patient_address: FormAddress | None = None
    insured_name: str | None = None
    provider_name: str | None = None


class Ub04Facts(_Facts):
    form_date: date  # the PDF's creation date: the same facts give the same bytes
    provider: Ub04Party  # FL1
    pay_to: Ub04Party | None = None  # FL2
    patient_control_number: str  # FL3a
    medical_record_number: str = ""  # FL3b
    bill_type: str = Field(pattern=r"^0[0-9]{2}[0-9A-Z]$")  # FL4
    federal_tax_id: str  # FL5
    statement_from: date  # FL6
    statement_through: date
    patient_name: str  # FL8b
    patient_address: FormAddress | None = None  # FL9
    patient_birth_date: date | None = None  # FL10
    patient_sex: str = "U"  # FL11
    admission_date: date | None = None  # FL12
    admission_hour: str = ""  # FL13: the hour, two digits
    admission_type: str = ""  # FL14
    admission_source: str = ""  # FL15
    patient_status: str = ""  # FL17
    condition_codes: tuple[str, ...] = Field(default=(), max_length=11)  # FL18-28
    occurrences: tuple[tuple[str, date], ...] = Field(default=(), max_length=8)  # FL31-34
    occurrence_spans: tuple[tuple[str, date, date], ...] = Field(default=(), max_length=4)
    value_codes: tuple[tuple[str, Decimal], ...] = Field(default=(), max_length=12)  # FL39-41
    lines: tuple[Ub04Line, ...] = Field(min_length=1)
    total_charge: Decimal
    payers: tuple[Ub04Payer, ...] = Field(min_length=1, max_length=3)  # FL50-62 A-C
    billing_npi: str  # FL56
    treatment_authorization: str = ""  # FL63
    document_control_number: str = ""  # FL64: the original claim's number (7 or 8)
    diagnosis_qualifier: str = "0"  # FL66: 0 ICD-10
    principal_diagnosis: str  # FL67
    other_diagnoses: tuple[str, ...] = Field(default=(), max_length=OTHER_DIAGNOSES)
    admitting_diagnosis: str = ""  # FL69
    attending: Ub04Physician | None = None  # FL76
    operating: Ub04Physician | None = None  # FL77
    other_physician: Ub04Physician | None = None  # FL78
    remarks: str = ""  # FL80

    @property
    def page_count(self) -> int:
        return -(-len(self.lines) // UB04_LINES_PER_PAGE)

    def page_lines(self, page: int) -> tuple[Ub04Line, ...]:
        start = (page - 1) * UB04_LINES_PER_PAGE
        return self.lines[start : start + UB04_LINES_PER_PAGE]

    def texts(self) -> list[str]:
        """Every free text the form prints: which fonts the PDF needs."""
        parties = [self.provider, *([self.pay_to] if self.pay_to else [])]
        values = [self.patient_name, self.remarks, *(p.name for p in parties)]
        for address in (self.patient_address, *(p.address for p in parties)):
            if address is not None:
                values += [address.street, address.city]
        for payer in self.payers:
            values += [payer.payer_name, payer.insured_name, payer.group_name]
        for doctor in (self.attending, self.operating, self.other_physician):
            if doctor is not None:
                values += [doctor.last_name, doctor.first_name]
        return values


def _physician(provider: cd.Provider | None) -> Ub04Physician | None:
    if provider is None:
        return None
    return Ub04Physician(
        npi=provider.npi, last_name=provider.last_name, first_name=provider.first_name or ""
    )


def _payer_rows(claim: cd.Claim837, insured_name: str) -> tuple[Ub04Payer, ...]:
    """Rows A-C in the order of liability: payers that paid before, then this claim's payer."""
    subscriber = claim.subscriber
    rows = [
        Ub04Payer(
            payer_name=other.payer_name,
            health_plan_id=other.payer_id,
            prior_payments=other.paid_amount,
            insured_name=person_name(other.subscriber),
            relationship=other.relationship,
            insured_id=other.member_id,
            group_name=other.group_name or "",
            group_number=other.group_number or "",
        )
        for other in claim.other_payers[:2]
    ]
    paid = sum((row.prior_payments or Decimal(0) for row in rows), Decimal(0))
    relationship = _FL59.get(claim.patient.relationship, "G8") if claim.patient else "18"
    rows.append(
        Ub04Payer(
            payer_name=claim.payer.name,
            health_plan_id=claim.payer.payer_id,
            release=claim.release_of_information,
            assignment=claim.benefits_assigned,
            estimated_due=claim.total_charge - paid,
            insured_name=insured_name,
            relationship=relationship,
            insured_id=subscriber.member_id,
            group_name=subscriber.group_name or "",
            group_number=subscriber.group_number or "",
        )
    )
    return tuple(rows)


def ub04_facts_from_claim(
    claim: cd.Claim837,
    *,
    form_date: date,
    names: Ub04Names | None = None,
    medical_record_number: str = "",
    pay_to: Ub04Party | None = None,
    provider_phone: str = "",
) -> Ub04Facts:
    """The UB-04 of one institutional claim (``claim`` as the 837I writer takes it)."""
    names = names or Ub04Names()
    codes = claim.institutional
    billing = claim.billing_provider
    patient = claim.patient or claim.subscriber
    statement_from = claim.statement_from or min(line.service_date for line in claim.lines)
    statement_through = claim.statement_through or max(
        line.service_date_end or line.service_date for line in claim.lines
    )
    insured_name = names.insured_name or person_name(claim.subscriber)
    return Ub04Facts(
        form_date=form_date,
        provider=Ub04Party(
            name=names.provider_name or billing.last_name,
            address=form_address(billing.address),
            phone=provider_phone,
        ),
        pay_to=pay_to,
        patient_control_number=claim.patient_control_number,
        medical_record_number=medical_record_number,
        bill_type=f"0{claim.facility_code}{claim.frequency_code}",
        federal_tax_id=billing.tax_id,
        statement_from=statement_from,
        statement_through=statement_through,
        patient_name=names.patient_name or person_name(patient),
        patient_address=names.patient_address or form_address(patient.address),
        patient_birth_date=patient.birth_date,
        patient_sex=patient.gender or "U",
        admission_date=claim.admission_date,
        admission_hour=codes.admission_hour[:2] if codes and codes.admission_hour else "",
        admission_type=claim.admission_type_code or "",
        admission_source=claim.admission_source_code or "",
        patient_status=claim.patient_status_code or "",
        condition_codes=tuple(codes.condition_codes[:11]) if codes else (),
        occurrences=tuple((o.code, o.on) for o in codes.occurrences[:8]) if codes else (),
        occurrence_spans=tuple((s.code, s.start, s.end) for s in codes.occurrence_spans[:4])
        if codes
        else (),
        value_codes=tuple((v.code, v.amount) for v in codes.value_codes[:12]) if codes else (),
        lines=tuple(
            Ub04Line(
                revenue_code=line.revenue_code or "",
                description=REVENUE_WORDS.get(line.revenue_code or "", ""),
                hcpcs=(line.procedure_code or "") + "".join(line.modifiers),
                service_date=line.service_date,
                units=line.units,
                charge=line.charge,
            )
            for line in claim.lines
        ),
        total_charge=claim.total_charge,
        payers=_payer_rows(claim, insured_name),
        billing_npi=billing.npi,
        treatment_authorization=claim.prior_authorization or "",
        document_control_number=claim.original_claim_number
        if claim.frequency_code in ("7", "8")
        else "",
        principal_diagnosis=claim.diagnoses[0],
        other_diagnoses=tuple(claim.diagnoses[1 : 1 + OTHER_DIAGNOSES]),
        admitting_diagnosis=(codes.admitting_diagnosis or "") if codes else "",
        attending=_physician(claim.attending_provider),
        operating=_physician(claim.operating_provider),
        other_physician=_physician(claim.other_provider),
    )
