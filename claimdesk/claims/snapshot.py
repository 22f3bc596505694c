"""Read one claim and its world from the tables into a ``ClaimSnapshot`` for the rules.

The only place the scrub rules' inputs touch the database: a fixed number of
queries per claim (claim, lines, diagnoses, coverage, payer, providers,
authorizations, the patient's other claims and their lines, the patient's sex and age,
the CMS edit data in force: ``claimdesk.cms_edits.lookup``), none per line.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from claimdesk.claims.status import ClaimStatus
from claimdesk.claims.wire_data import wire_text_problems
from claimdesk.cms_edits.lookup import edit_data_for
from claimdesk.errors import NotFound
from claimdesk.rules.edit_data import diagnosis_date
from claimdesk.rules.payer_rules import read_payer_rule_settings
from claimdesk.rules.sex_age import age_in_years
from claimdesk.rules.snapshot import (
    AuthorizationSnapshot,
    ClaimSnapshot,
    CoverageSnapshot,
    DiagnosisSnapshot,
    LineSnapshot,
    PatientFacts,
    PayerSnapshot,
    ProviderSnapshot,
    ServiceFingerprint,
    WireTextProblem,
)
from models import (
    Authorization,
    Claim,
    ClaimLine,
    Coverage,
    Diagnosis,
    Patient,
    Payer,
    Provider,
)


def build_claim_snapshot(*, session: Session, claim_id: int, today: date) -> ClaimSnapshot:
    """Everything the scrub rules need about claim ``claim_id``, as of ``today``."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(f"claim {claim_id} does not exist; check the claim id.")
    lines = session.exec(
        select(ClaimLine).where(ClaimLine.claim_id == claim_id).order_by(col(ClaimLine.line_number))
    ).all()
    diagnoses = session.exec(
        select(Diagnosis).where(Diagnosis.claim_id == claim_id).order_by(col(Diagnosis.position))
    ).all()
    coverage = session.get(Coverage, claim.coverage_id)
    payer = session.get(Payer, claim.payer_id)
    if payer is None:
        raise NotFound(f"claim {claim_id}: payer row {claim.payer_id} does not exist.")
    provider_ids = {claim.billing_provider_id, claim.rendering_provider_id} - {None}
    providers = {
        p.id: p
        for p in session.exec(select(Provider).where(col(Provider.id).in_(provider_ids))).all()
    }
    authorizations = session.exec(
        select(Authorization).where(
            Authorization.patient_id == claim.patient_id, Authorization.payer_id == claim.payer_id
        )
    ).all()
    kind = "I" if claim.kind == "I" else "P"
    procedure_codes = [line.procedure_code.strip().upper() for line in lines]
    diagnosis_codes = [d.code.replace(".", "").strip().upper() for d in diagnoses]
    diagnoses_on = diagnosis_date(kind, claim.service_from, claim.service_to)
    patient = session.get(Patient, claim.patient_id)
    return ClaimSnapshot(
        claim_id=claim_id,
        version=claim.version,
        kind=kind,
        status=claim.status,
        frequency_code=claim.frequency_code,
        has_patient_control_number=bool(claim.patient_control_number),
        has_original_payer_claim_number=bool(claim.original_payer_claim_number),
        place_of_service=claim.place_of_service,
        facility_type_code=claim.facility_type_code,
        service_from=claim.service_from,
        service_to=claim.service_to,
        total_charge=claim.total_charge,
        lines=tuple(
            LineSnapshot(
                number=line.line_number,
                procedure_code=code,
                modifiers=tuple(line.modifiers or ()),
                diagnosis_pointers=tuple(line.diagnosis_pointers or ()),
                revenue_code=line.revenue_code,
                units=line.units,
                charge=line.charge,
                service_date=line.service_date,
                service_date_to=line.service_date_to,
            )
            for line, code in zip(lines, procedure_codes, strict=True)
        ),
        diagnoses=tuple(
            DiagnosisSnapshot(position=d.position, code=code)
            for d, code in zip(diagnoses, diagnosis_codes, strict=True)
        ),
        coverage=None
        if coverage is None
        else CoverageSnapshot(
            effective_from=coverage.effective_from,
            effective_to=coverage.effective_to,
            has_member_id=bool(coverage.member_id and coverage.member_id.strip()),
            payer_row_id=coverage.payer_id,
            coverage_order=coverage.coverage_order,
        ),
        payer=PayerSnapshot(
            row_id=payer.id,
            payer_id=payer.payer_id,
            kind=payer.kind,
            timely_filing_days=payer.timely_filing_days,
            prior_auth_codes=frozenset(payer.prior_auth_codes or ()),
            rules=read_payer_rule_settings(payer.payer_id, payer.connectivity or {}),
        ),
        billing_provider=_provider(providers.get(claim.billing_provider_id)),
        rendering_provider=_provider(providers.get(claim.rendering_provider_id))
        if claim.rendering_provider_id is not None
        else None,
        authorizations=tuple(
            AuthorizationSnapshot(
                kind=a.kind,
                number=a.number,
                codes=frozenset(a.codes or ()),
                valid_from=a.valid_from,
                valid_to=a.valid_to,
                units=a.units,
            )
            for a in authorizations
        ),
        other_services=_other_services(session, claim),
        wire_text_problems=tuple(
            WireTextProblem(field=field, problem=problem)
            for field, problem in wire_text_problems(session, claim_id)
        ),
        patient=None
        if patient is None
        else PatientFacts(
            sex=patient.gender if patient.gender in ("F", "M") else "U",
            age=max(0, age_in_years(patient.birth_date, diagnoses_on)),
        ),
        edit_data=edit_data_for(
            session,
            claim_kind=kind,
            services=[
                (line.service_date, code) for line, code in zip(lines, procedure_codes, strict=True)
            ],
            diagnosis_codes=diagnosis_codes,
            diagnoses_on=diagnoses_on,
        ),
        today=today,
    )


def _provider(row: Provider | None) -> ProviderSnapshot | None:
    return None if row is None else ProviderSnapshot(npi=row.npi or None, role=row.role)


def _other_services(session: Session, claim: Claim) -> tuple[ServiceFingerprint, ...]:
    """Lines of the patient's other live claims that ``claim`` could duplicate.

    Left out: voided claims and voids (frequency 8); claims a replacement or void
    supersedes (their payer claim number is some claim's original number); and the
    claim's COB partner (the primary it follows, or a secondary following it), which
    repeats its lines on purpose.
    """
    others = session.exec(
        select(Claim).where(Claim.patient_id == claim.patient_id, Claim.id != claim.id)
    ).all()
    superseded = {
        c.original_payer_claim_number
        for c in [*others, claim]
        if c.frequency_code in ("7", "8") and c.original_payer_claim_number
    }
    live_ids = [
        c.id
        for c in others
        if c.status != ClaimStatus.VOIDED.value
        and c.frequency_code != "8"
        and not (c.payer_claim_number and c.payer_claim_number in superseded)
        and c.id != claim.primary_claim_id
        and c.primary_claim_id != claim.id
    ]
    if not live_ids:
        return ()
    rows = session.exec(select(ClaimLine).where(col(ClaimLine.claim_id).in_(live_ids))).all()
    return tuple(
        ServiceFingerprint(
            claim_id=row.claim_id,
            service_date=row.service_date,
            procedure_code=row.procedure_code.strip().upper(),
            modifiers=tuple(sorted(row.modifiers or ())),
        )
        for row in sorted(rows, key=lambda r: (r.claim_id, r.line_number))
    )
