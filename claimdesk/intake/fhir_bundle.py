"""A FHIR R4 bundle in: patients, subscribers, coverages and claims, all or nothing.

``import_bundle`` takes a Bundle (``collection`` or ``transaction``) of:

=============  ===================================================================
resource       becomes
=============  ===================================================================
Patient        a patient (``claimdesk.intake.patients``): identifier of type MR the
               medical record number, of type AN the account number (else the MR);
               managingOrganization the practice (an Organization with its NPI)
RelatedPerson  the subscriber of a dependent's Coverage (names, birth date)
Coverage       a coverage: payor an Organization whose identifier of type NIIP
               (v2-0203) is the payer's EDI id, subscriberId the member id,
               relationship, period, order, class group/plan
Organization   the practice or a payer (looked up, never created)
Practitioner   a provider, by NPI (``http://hl7.org/fhir/sid/us-npi``; looked up)
Claim          a draft claim (``claimdesk.intake.fhir_claims``)
=============  ===================================================================

Practices, providers and payers come from ``claimdesk office import``; a bundle
naming one the database does not have is refused. The same patient (by medical
record number, else by account number) is updated in place, never duplicated; a
Claim whose number the practice already has is skipped. Anything that cannot be
taken refuses the whole bundle, naming the resource (type/id) and the element;
nothing of it is stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from claimdesk.db import session_scope
from claimdesk.intake.fhir_claims import claim_drafts, fhir_element, link_authorizations
from claimdesk.intake.fhir_read import (
    NPI_SYSTEM,
    BundleIndex,
    Entry,
    Refused,
    as_date,
    coding,
    human_name,
    identifier,
    read_bundle,
)

# The claim import's own write path: the same resolution and create_claim for every source.
from claimdesk.intake.import_claims import _write as write_claim_drafts
from claimdesk.intake.patient_input import CoverageIn, PatientIn
from claimdesk.intake.patients import MAX_FILE_BYTES, PatientsReport, write_patients
from claimdesk.intake.patients_csv import BadValue, phone_digits, postal_code_digits, us_state
from claimdesk.intake.problems import ImportProblem, ImportRefused

# A model field → the FHIR element it comes from (problems name the element).
PATIENT_ELEMENTS = {
    "practice_npi": "managingOrganization",
    "account_number": "identifier",
    "medical_record_number": "identifier",
    "last_name": "name.family",
    "first_name": "name.given",
    "birth_date": "birthDate",
    "gender": "gender",
    "address_line1": "address.line",
    "address_line2": "address.line",
    "city": "address.city",
    "state": "address.state",
    "postal_code": "address.postalCode",
    "phone": "telecom",
    "payer_id": "payor",
    "member_id": "subscriberId",
    "group_number": "class",
    "plan_name": "class",
    "relationship": "relationship",
    "subscriber_last_name": "subscriber",
    "subscriber_first_name": "subscriber",
    "subscriber_birth_date": "subscriber",
    "effective_from": "period.start",
    "effective_to": "period.end",
    "coverage_order": "order",
    "Coverage": "period",
}
_GENDER = {"female": "F", "male": "M", "other": "U", "unknown": "U"}
# subscriber-relationship (http://terminology.hl7.org/CodeSystem/subscriber-relationship).
_RELATIONSHIP = {
    "self": "self",
    "spouse": "spouse",
    "common": "spouse",
    "child": "child",
    "parent": "other",
    "injured": "other",
    "other": "other",
}


def import_bundle(engine: Engine, *, data: bytes, actor: str) -> PatientsReport:
    """Store everything the bundle ``data`` holds (one transaction), or ``ImportRefused``."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused([ImportProblem("file", "file", f"larger than {MAX_FILE_BYTES} bytes")])
    index, problems = read_bundle(data)
    if not index.entries:
        raise ImportRefused(problems)
    patients, more = patients_of(index)
    drafts, claim_problems = claim_drafts(index, patients)
    problems += more + claim_problems
    report = PatientsReport()
    with session_scope(engine) as session:
        # What reads well is written even beside problems, so one refusal names everything
        # the database has to say too; then nothing of it stays.
        problems += write_patients(
            session, list(patients.values()), actor=actor, via="fhir import", report=report
        )
        problems += link_authorizations(session, drafts)
        if not problems:
            claims, claim_problems = write_claim_drafts(session, drafts, actor)
            report.claims_created, report.claims_skipped = claims.created, claims.skipped
            problems = [fhir_element(p) for p in claim_problems]
        if problems:
            session.rollback()
            raise ImportRefused(problems)
    return report


def patients_of(index: BundleIndex) -> tuple[dict[str, PatientIn], list[ImportProblem]]:
    """Each Patient with its Coverages, by the Patient's ``where``; the problems."""
    patients: dict[str, PatientIn] = {}
    problems: list[ImportProblem] = []
    for entry in index.of_type("Patient"):
        try:
            patients[entry.where] = _patient(index, entry)
        except Refused as exc:
            problems.append(exc.problem)
    for entry in index.of_type("Coverage"):
        try:
            beneficiary = index.resolve(
                entry.resource.beneficiary, entry.where, "beneficiary", "Patient"
            )
            coverage = _coverage(index, entry, beneficiary)
        except Refused as exc:
            problems.append(exc.problem)
            continue
        if beneficiary.where in patients:
            patients[beneficiary.where].coverages.append(coverage)
    return patients, problems


def _patient(index: BundleIndex, entry: Entry) -> PatientIn:
    patient, where = entry.resource, entry.where
    mrn = identifier(patient, type_code="MR")
    account = identifier(patient, type_code="AN") or mrn
    if not account:
        raise Refused(
            where,
            "identifier",
            "needs the practice's medical record number (type MR) or account number (type AN),"
            " coded in http://terminology.hl7.org/CodeSystem/v2-0203",
        )
    values: dict[str, Any] = {}
    if mrn:
        values["medical_record_number"] = mrn
    if patient.name:
        family, given = human_name(patient)
        if not family:
            raise Refused(where, "name.family", "empty: the patient's last name")
        if not given:
            raise Refused(where, "name.given", "empty: the patient's first name")
        values.update(last_name=family, first_name=given)
    if patient.birthDate is not None:
        values["birth_date"] = as_date(patient.birthDate)
    if patient.gender is not None:
        if patient.gender not in _GENDER:
            raise Refused(where, "gender", f"one of {', '.join(_GENDER)}")
        values["gender"] = _GENDER[patient.gender]
    if patient.address:
        values.update(_address(where, patient.address))
    phones = [t for t in patient.telecom or [] if t.system == "phone" and t.value]
    if phones:
        try:
            values["phone"] = phone_digits(str(phones[0].value))
        except BadValue as exc:
            raise Refused(where, "telecom", str(exc)) from None
    practice_npi = None
    if patient.managingOrganization is not None:
        organization = index.resolve(
            patient.managingOrganization, where, "managingOrganization", "Organization"
        )
        practice_npi = identifier(organization.resource, system=NPI_SYSTEM) or None
        if practice_npi is None:
            raise Refused(
                where, "managingOrganization", f"the Organization has no NPI ({NPI_SYSTEM})"
            )
    else:
        practice_npi = _practice_of_claims(index, entry)
    return PatientIn(where, practice_npi, account, values, names=PATIENT_ELEMENTS)


def _practice_of_claims(index: BundleIndex, patient: Entry) -> str | None:
    """The billing NPI of the patient's Claims when the Patient names no practice."""
    for claim in index.of_type("Claim"):
        try:
            if index.resolve(claim.resource.patient, "", "", "Patient") is not patient:
                continue
            provider = index.resolve(claim.resource.provider, "", "", "Organization",
                                     "Practitioner")  # fmt: skip
        except Refused:
            continue  # the Claim itself is refused for it, naming its own element
        npi = identifier(provider.resource, system=NPI_SYSTEM)
        if npi:
            return npi
    return None


def _address(where: str, addresses: list[Any]) -> dict[str, Any]:
    address = next((a for a in addresses if a.use == "home"), addresses[0])
    lines = [line.strip() for line in address.line or [] if line and line.strip()]
    try:
        state = us_state((address.state or "").strip())
    except BadValue as exc:
        raise Refused(where, "address.state", str(exc)) from None
    try:
        postal = postal_code_digits((address.postalCode or "").strip())
    except BadValue as exc:
        raise Refused(where, "address.postalCode", str(exc)) from None
    return {
        "address_line1": lines[0] if lines else "",
        "address_line2": ", ".join(lines[1:]) or None,
        "city": (address.city or "").strip(),
        "state": state,
        "postal_code": postal,
    }


def _coverage(index: BundleIndex, entry: Entry, beneficiary: Entry) -> CoverageIn:
    coverage, where = entry.resource, entry.where
    if coverage.status != "active":
        raise Refused(where, "status", "only an active coverage is taken")
    if not coverage.payor:
        raise Refused(where, "payor", "empty: the payer (an Organization)")
    payor = index.resolve(coverage.payor[0], where, "payor[0]", "Organization")
    payer_id = identifier(payor.resource, type_code="NIIP")
    if not payer_id:
        raise Refused(
            where,
            "payor",
            f"{payor.where} has no identifier of type NIIP (v2-0203): the payer's EDI id",
        )
    member_id = (coverage.subscriberId or "").strip() or identifier(coverage, type_code="MB")
    if not member_id:
        raise Refused(where, "subscriberId", "empty: the member id on the card")
    relationship = coding(coverage.relationship)
    subscriber = None
    if coverage.subscriber is not None:
        subscriber = index.resolve(
            coverage.subscriber, where, "subscriber", "RelatedPerson", "Patient"
        )
    if not relationship:
        if subscriber is not None and subscriber is not beneficiary:
            raise Refused(
                where, "relationship", "empty: the patient's relationship to the subscriber"
            )
        relationship = "self"
    if relationship not in _RELATIONSHIP:
        raise Refused(where, "relationship", f"one of {', '.join(_RELATIONSHIP)}")
    values: dict[str, Any] = {"relationship": _RELATIONSHIP[relationship]}
    values.update(subscriber_last_name=None, subscriber_first_name=None, subscriber_birth_date=None)
    if values["relationship"] != "self":
        if subscriber is None or subscriber is beneficiary:
            raise Refused(where, "subscriber", "a dependent's coverage names its subscriber")
        family, given = human_name(subscriber.resource)
        values.update(
            subscriber_last_name=family,
            subscriber_first_name=given,
            subscriber_birth_date=as_date(subscriber.resource.birthDate),
        )
    if coverage.period is None or coverage.period.start is None:
        raise Refused(where, "period.start", "empty: the day the coverage starts")
    values["effective_from"] = as_date(coverage.period.start)
    values["effective_to"] = as_date(coverage.period.end)
    if coverage.order is not None:
        values["coverage_order"] = coverage.order
    for item in coverage.class_fhir or []:
        kind = coding(item.type)
        if kind == "group":
            values["group_number"] = str(item.value).strip() or None
        elif kind == "plan":
            values["plan_name"] = (item.name or str(item.value)).strip() or None
    return CoverageIn(where, payer_id, member_id, values)
