"""FHIR Claim resources → claim drafts, for the claim import's own write path.

=====================  =========================================================
Claim element          becomes
=====================  =========================================================
identifier (else id)   the patient control number (CLM01, at most 20 characters)
type                   professional → 837P, institutional → 837I
patient                the Patient of the bundle (its account number)
insurance (focal)      → Coverage: the payer and member id billed
provider               the billing provider or practice, by NPI
careTeam provider      the rendering provider (Practitioner NPI): the one the first
                       item names, else the first of the team
diagnosis              ICD-10-CM codes (``http://hl7.org/fhir/sid/icd-10-cm``) in
                       sequence order; items point at them by diagnosisSequence
item                   a service line: productOrService CPT/HCPCS, modifier,
                       quantity, net (else unitPrice × quantity), servicedDate or
                       servicedPeriod (else billablePeriod), revenue (837I),
                       locationCodeableConcept the place of service
insurance.preAuthRef   an authorization on file (``patients import``) for the patient
supportingInfo         typeofbill (837I): the facility type code
total                  must equal the items' sum when given
=====================  =========================================================
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from claimdesk.intake.claim_files import ClaimDraft
from claimdesk.intake.fhir_read import (
    ICD10CM_SYSTEM,
    NPI_SYSTEM,
    BundleIndex,
    Entry,
    Refused,
    as_date,
    coding,
    identifier,
)
from claimdesk.intake.patient_input import CoverageIn, PatientIn
from claimdesk.intake.problems import ImportProblem
from models import Authorization, Patient, Payer

CPT_HCPCS_SYSTEMS = (
    "http://www.ama-assn.org/go/cpt",
    "urn:oid:2.16.840.1.113883.6.12",  # CPT
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "urn:oid:2.16.840.1.113883.6.285",  # HCPCS level II
)
_KINDS = {"professional": "P", "institutional": "I"}
# The claim import's field names → the Claim element they come from.
_ELEMENTS = {
    "payer_id": "insurance.coverage",
    "member_id": "insurance.coverage",
    "billing_npi": "provider",
    "practice_npi": "provider",
    "rendering_npi": "careTeam.provider",
    "patient_control_number": "identifier",
    "procedure_code": "productOrService",
    "modifiers": "modifier",
    "units": "quantity",
    "charge": "net",
    "diagnosis_pointers": "diagnosisSequence",
    "service_date": "servicedDate",
    "revenue_code": "revenue",
    "diagnoses": "diagnosis",
    "lines": "item",
    "code": "diagnosis",
    "total_charge": "total",
}


def fhir_element(problem: ImportProblem) -> ImportProblem:
    """A claim import problem at a Claim, its field named as the Claim's element."""
    name = _ELEMENTS.get(problem.field, problem.field)
    return ImportProblem(problem.where, name, problem.reason)


def claim_drafts(
    index: BundleIndex, patients: dict[str, PatientIn]
) -> tuple[list[ClaimDraft], list[ImportProblem]]:
    drafts: list[ClaimDraft] = []
    problems: list[ImportProblem] = []
    for entry in index.of_type("Claim"):
        try:
            drafts.append(_draft(index, entry, patients))
        except Refused as exc:
            problems.append(exc.problem)
    return drafts, problems


def _draft(index: BundleIndex, entry: Entry, patients: dict[str, PatientIn]) -> ClaimDraft:
    claim, where = entry.resource, entry.where
    if claim.status not in ("active", "draft"):
        raise Refused(where, "status", "an active (or draft) claim is taken")
    if claim.use != "claim":
        raise Refused(where, "use", "a claim is taken (not a preauthorization or predetermination)")
    kind = _KINDS.get(coding(claim.type))
    if kind is None:
        raise Refused(where, "type", "professional or institutional (claim-type)")
    pcn = identifier(claim) or (claim.id or "")
    if not pcn or len(pcn) > 20:
        raise Refused(where, "identifier", "the claim's number (CLM01): 1 to 20 characters")
    patient_entry = index.resolve(claim.patient, where, "patient", "Patient")
    patient = patients.get(patient_entry.where)
    if patient is None:  # the Patient was refused itself; that problem names it
        raise Refused(where, "patient", f"{patient_entry.where} cannot be taken")
    coverage, insurance = _coverage(index, claim, where, patient)
    provider = index.resolve(claim.provider, where, "provider", "Organization", "Practitioner")
    billing_npi = identifier(provider.resource, system=NPI_SYSTEM)
    if not billing_npi:
        raise Refused(where, "provider", f"{provider.where} has no NPI ({NPI_SYSTEM})")
    diagnoses, positions = _diagnoses(claim, where)
    fields: dict[str, Any] = {"patient_control_number": pcn}
    if insurance.preAuthRef:
        # Matched to an authorization on file (``link_authorizations``) once it is written.
        fields["_prior_authorization"] = str(insurance.preAuthRef[0]).strip()
    items = sorted(claim.item or [], key=lambda item: item.sequence)
    if not items:
        raise Refused(where, "item", "empty: a claim needs a service line")
    if kind == "P":
        fields["place_of_service"] = coding(items[0].locationCodeableConcept) or "11"
    else:
        fields["facility_type_code"] = _facility_type(claim, where)
    lines = [_line(claim, where, n, item, positions, kind) for n, item in enumerate(items)]
    if claim.total is not None and claim.total.value is not None:
        total = sum((line["charge"] for line in lines), Decimal(0))
        if Decimal(claim.total.value) != total:
            raise Refused(where, "total", "differs from the sum of the items' net")
    return ClaimDraft(
        where=where,
        kind=kind,
        practice_npi=None,  # the billing NPI names the practice (or its billing provider)
        billing_npi=billing_npi,
        rendering_npi=_rendering(index, claim, where, items),
        patient_account=patient.account_number,
        payer_id=coverage.payer_id,
        member_id=coverage.member_id,
        fields=fields,
        diagnoses=diagnoses,
        lines=lines,
    )


def _coverage(
    index: BundleIndex, claim: Any, where: str, patient: PatientIn
) -> tuple[CoverageIn, Any]:
    insurance = sorted(claim.insurance or [], key=lambda i: (not i.focal, i.sequence))
    if not insurance:
        raise Refused(where, "insurance", "empty: the coverage billed")
    found = index.resolve(insurance[0].coverage, where, "insurance.coverage", "Coverage")
    coverage = next((c for c in patient.coverages if c.where == found.where), None)
    if coverage is None:
        beneficiary = getattr(found.resource.beneficiary, "reference", None)
        ours = beneficiary is not None and index.by_reference.get(beneficiary) in (
            index.by_reference.get(getattr(claim.patient, "reference", None) or ""),
        )
        reason = "cannot be taken" if ours else "is not the patient's coverage"
        raise Refused(where, "insurance.coverage", f"{found.where} {reason}")
    return coverage, insurance[0]


def link_authorizations(session: Session, drafts: list[ClaimDraft]) -> list[ImportProblem]:
    """Each draft's preAuthRef → the authorization on file for its patient and payer."""
    problems = []
    for draft in drafts:
        number = draft.fields.get("_prior_authorization")
        if not number:
            continue
        found = session.exec(
            select(Authorization.id)
            .join(Patient, col(Patient.id) == col(Authorization.patient_id))
            .join(Payer, col(Payer.id) == col(Authorization.payer_id))
            .where(
                Authorization.number == number,
                Patient.account_number == draft.patient_account,
                Payer.payer_id == draft.payer_id,
            )
        ).first()
        if found is None:
            reason = (
                "no authorization with this number on file for the patient and payer"
                " (bring it in first with `claimdesk patients import`)"
            )
            problems.append(ImportProblem(draft.where, "insurance.preAuthRef", reason))
        else:
            draft.fields["authorization_id"] = found
    return problems


def _diagnoses(claim: Any, where: str) -> tuple[list[str], dict[int, int]]:
    codes: list[str] = []
    positions: dict[int, int] = {}
    for n, diagnosis in enumerate(sorted(claim.diagnosis or [], key=lambda d: d.sequence)):
        element = f"diagnosis[{n}].diagnosisCodeableConcept"
        code = coding(diagnosis.diagnosisCodeableConcept, (ICD10CM_SYSTEM,))
        if not code:
            raise Refused(where, element, f"an ICD-10-CM code ({ICD10CM_SYSTEM})")
        codes.append(code)
        positions[diagnosis.sequence] = len(codes)
    if not codes:
        raise Refused(where, "diagnosis", "empty: a claim needs a diagnosis")
    return codes, positions


def _line(
    claim: Any, where: str, n: int, item: Any, positions: dict[int, int], kind: str
) -> dict[str, Any]:
    at = f"item[{n}]"
    code = coding(item.productOrService, CPT_HCPCS_SYSTEMS)
    if not code:
        raise Refused(where, f"{at}.productOrService", "a CPT or HCPCS code (coding system)")
    quantity = Decimal(item.quantity.value) if item.quantity and item.quantity.value else None
    units = quantity or Decimal(1)
    charge = _money(where, f"{at}.net", item.net)
    price = _money(where, f"{at}.unitPrice", item.unitPrice)
    if charge is None and price is None:
        raise Refused(where, f"{at}.net", "empty: the line's charge (net, or unitPrice)")
    if price is not None:
        expected = (price * units * Decimal(item.factor or 1)).quantize(Decimal("0.01"))
        if charge is None:
            charge = expected
        elif charge != expected:
            raise Refused(where, f"{at}.net", "differs from unitPrice × quantity")
    start, end = _service_dates(claim, item)
    if start is None:
        raise Refused(where, f"{at}.servicedDate", "empty (and no billablePeriod to go by)")
    pointers = []
    for sequence in item.diagnosisSequence or []:
        if sequence not in positions:
            raise Refused(where, f"{at}.diagnosisSequence", "names no diagnosis of the claim")
        pointers.append(positions[sequence])
    revenue = coding(item.revenue) or None
    if kind == "I" and revenue is None:
        raise Refused(where, f"{at}.revenue", "an institutional line needs its revenue code")
    return {
        "procedure_code": code,
        "revenue_code": revenue,
        "modifiers": [coding(m) for m in item.modifier or [] if coding(m)],
        "units": units,
        "charge": charge,
        "diagnosis_pointers": pointers or [1],
        "service_date": start,
        "service_date_to": end if end and end != start else None,
        "_where": f"{where} {at}",
    }


def _money(where: str, element: str, money: Any) -> Decimal | None:
    if money is None or money.value is None:
        return None
    if money.currency not in (None, "USD"):
        raise Refused(where, f"{element}.currency", "USD")
    value = Decimal(money.value)
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise Refused(where, f"{element}.value", "an amount of 0 or more with 2 decimals")
    return value


def _service_dates(claim: Any, item: Any) -> tuple[date | None, date | None]:
    if item.servicedDate is not None:
        return as_date(item.servicedDate), None
    period = item.servicedPeriod or claim.billablePeriod
    if period is None:
        return None, None
    return as_date(period.start), as_date(period.end)


def _rendering(index: BundleIndex, claim: Any, where: str, items: list[Any]) -> str | None:
    team = sorted(claim.careTeam or [], key=lambda member: member.sequence)
    if not team:
        return None
    named = next((s for item in items for s in item.careTeamSequence or []), None)
    member = next((m for m in team if m.sequence == named), team[0])
    n = team.index(member)
    found = index.resolve(
        member.provider, where, f"careTeam[{n}].provider", "Practitioner", "Organization"
    )
    npi = identifier(found.resource, system=NPI_SYSTEM)
    if not npi:
        raise Refused(where, f"careTeam[{n}].provider", f"{found.where} has no NPI ({NPI_SYSTEM})")
    return npi


def _facility_type(claim: Any, where: str) -> str:
    """CLM05-1 from the type of bill (supportingInfo category typeofbill), e.g. 0131 → 13."""
    for info in claim.supportingInfo or []:
        if coding(info.category) == "typeofbill":
            code = coding(info.code).lstrip("0")
            if len(code) == 3 and code.isdigit():
                return code[:2]
            raise Refused(where, "supportingInfo.code", "a type of bill: 3 digits (0 before)")
    raise Refused(where, "supportingInfo", "an institutional claim needs its typeofbill")
