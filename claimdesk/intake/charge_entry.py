"""Charge entry: a specialist keys one visit's charges, saved as a draft claim.

The patient is found by name, account number or member id (``patient_find``); one of
their coverages is billed; the diagnoses and procedure codes are looked up in the code
sets of the date of service (``code_lookup``); each line's charge starts from the
payer's fee schedule (``claims.fees``) and may be changed. Saving goes through the claim
import's own write path (``import_claims``), so a keyed claim is resolved, validated and
later scrubbed exactly as an imported one.

A refused entry stores nothing: each problem names its place ("claim", "line 2") and
field, never the value, and the refusal is audited (``claim.entry_refused``) in a
transaction of its own. Every patient found or opened here is audited too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.access.phi import mask_member_id
from claimdesk.claims.fees import expected_allowed
from claimdesk.codes.loader import load
from claimdesk.db import session_scope
from claimdesk.errors import NotFound
from claimdesk.intake.claim_files import ClaimDraft
from claimdesk.intake.code_lookup import (
    CodeChoice,
    check_diagnosis,
    check_procedure,
    look_up_diagnoses,
    look_up_procedures,
    normal_code,
)
from claimdesk.intake.import_claims import _write as write_claim_drafts
from claimdesk.intake.patient_find import FindBy, find_patient_ids
from claimdesk.intake.problems import ImportProblem, ImportRefused
from models import Claim, Coverage, Patient, Payer, Practice, Provider, append_audit_event
from models.sequences import allocate_control_numbers

ACTION = "claim.create"
MAX_DIAGNOSES = 12  # the 837P's HI segment
MAX_LINES = 50
MAX_POINTERS = 4
FIRST_ICD10_DATE = date(2015, 10, 1)
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_PCN = re.compile(r"[A-Za-z0-9-]{1,20}")


@dataclass(frozen=True)
class PatientChoice:
    patient_id: int
    name: str
    birth_date: date
    account_number: str

    @property
    def label(self) -> str:
        return f"{self.name} · born {self.birth_date} · account {self.account_number}"


@dataclass(frozen=True)
class CoverageChoice:
    coverage_id: int
    payer_id: int
    label: str  # payer, order, masked member id, dates
    effective_from: date
    effective_to: date | None


@dataclass(frozen=True)
class ProviderChoice:
    provider_id: int
    label: str


@dataclass(frozen=True)
class ChargeForm:
    patient: PatientChoice
    coverages: list[CoverageChoice]
    rendering: list[ProviderChoice]
    places_of_service: list[tuple[str, str]]  # (code, "11 Office")
    billing: list[ProviderChoice]  # pick one when the practice has several


@dataclass
class LineEntry:
    procedure_code: str
    charge: str | Decimal | None = None  # None: the fee schedule's amount × units
    modifiers: list[str] = field(default_factory=list)
    units: str | Decimal = "1"
    diagnosis_pointers: list[int] = field(default_factory=lambda: [1])


@dataclass
class ChargeEntry:
    patient_id: int | None
    coverage_id: int | None
    service_date: date | None
    diagnoses: list[str]
    lines: list[LineEntry]
    place_of_service: str = "11"
    rendering_provider_id: int | None = None
    billing_provider_id: int | None = None  # None: the practice's one billing provider
    patient_control_number: str | None = None  # None: the next CE number


@dataclass(frozen=True)
class SavedCharge:
    claim_id: int
    patient_control_number: str
    total_charge: Decimal


def _choice(p: Patient) -> PatientChoice:
    return PatientChoice(
        p.id or 0, f"{p.last_name}, {p.first_name}", p.birth_date, p.account_number
    )


def find_patients(
    engine: Engine, *, username: str, query: str, by: FindBy = "name", limit: int = 20
) -> list[PatientChoice]:
    """The patients matching ``query``; the ids shown are audited (``patient.looked_up``)."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), ACTION, session=session)
        ids = find_patient_ids(session, query, by=by, limit=limit)
        rows = session.exec(select(Patient).where(col(Patient.id).in_(ids))).all() if ids else []
        found = sorted((_choice(p) for p in rows), key=lambda c: (c.name, c.patient_id))
        append_audit_event(
            session,
            actor=username,
            action="patient.looked_up",
            entity_type="patient",
            details={
                "page": "charge_entry",
                "by": by,
                "patient_ids": [c.patient_id for c in found],
            },
        )
        return found


def read_charge_form(engine: Engine, *, username: str, patient_id: int) -> ChargeForm:
    """The patient's coverages, the practice's rendering providers, the places of service."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), ACTION, session=session)
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise NotFound(f"patient {patient_id} not found")
        rows = session.exec(
            select(Coverage, Payer)
            .join(Payer, col(Payer.id) == col(Coverage.payer_id))
            .where(Coverage.patient_id == patient_id)
            .order_by(col(Coverage.coverage_order), col(Coverage.effective_from).desc())
        ).all()
        coverages = [
            CoverageChoice(
                c.id or 0,
                p.id or 0,
                f"{p.name} ({p.payer_id}) · {_ORDER.get(c.coverage_order, '?')} · member "
                f"{mask_member_id(c.member_id)} · from {c.effective_from} to "
                f"{c.effective_to or 'open'}",
                c.effective_from,
                c.effective_to,
            )
            for c, p in rows
        ]
        providers = session.exec(
            select(Provider)
            .where(
                Provider.practice_id == patient.practice_id,
                col(Provider.role).in_(("rendering", "billing")),
            )
            .order_by(col(Provider.last_name), col(Provider.id))
        ).all()
        append_audit_event(
            session,
            actor=username,
            action="patient.viewed",
            entity_type="patient",
            entity_id=patient_id,
            details={"page": "charge_entry", "coverages": len(coverages)},
        )
        return ChargeForm(
            _choice(patient),
            coverages,
            [_provider(p) for p in providers if p.role == "rendering"],
            [(code, label) for code, label in places_of_service()],
            [_provider(p) for p in providers if p.role == "billing"],
        )


_ORDER = {1: "primary", 2: "secondary", 3: "tertiary"}


def _provider(p: Provider) -> ProviderChoice:
    name = p.organization_name or f"{p.last_name or ''}, {p.first_name or ''}".strip(", ")
    return ProviderChoice(p.id or 0, f"{name} (NPI {p.npi})")


def places_of_service() -> list[tuple[str, str]]:
    return [(c.code, f"{c.code} {c.text.split(' - ', 1)[0]}") for c in load("pos") if c.active]


def look_up_codes(
    engine: Engine,
    *,
    username: str,
    kind: Literal["diagnosis", "procedure"],
    text: str,
    on: date,
    coverage_id: int | None = None,
) -> list[CodeChoice]:
    """ICD-10-CM (``diagnosis``) or HCPCS/CPT (``procedure``) codes for the date of service."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), ACTION, session=session)
        if kind == "diagnosis":
            return look_up_diagnoses(session, text, on=on)
        coverage = session.get(Coverage, coverage_id) if coverage_id else None
        return look_up_procedures(
            session, text, on=on, payer_id=coverage.payer_id if coverage else None
        )


def fee_for(
    engine: Engine,
    *,
    username: str,
    coverage_id: int,
    code: str,
    on: date,
    modifiers: list[str] | None = None,
    units: Decimal = Decimal(1),
) -> Decimal | None:
    """The line's charge from the coverage payer's fee schedule (None: the schedule has none)."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), ACTION, session=session)
        return _fee(session, coverage_id, normal_code(code), modifiers or [], on, units)


def _fee(
    session: Session, coverage_id: int, code: str, modifiers: list[str], on: date, units: Decimal
) -> Decimal | None:
    coverage = session.get(Coverage, coverage_id)
    if coverage is None:
        return None
    each = expected_allowed(
        session,
        payer_id=coverage.payer_id,
        code=code,
        modifier=modifiers[0] if modifiers else None,
        on=on,
    )
    return None if each is None else (each * units).quantize(Decimal("0.01"))


def save_charge(
    engine: Engine, *, username: str, entry: ChargeEntry, today: date | None = None
) -> SavedCharge:
    """Save ``entry`` as a draft claim, or raise ``ImportRefused`` (nothing stored, audited)."""
    problems: list[ImportProblem] = []
    try:
        with session_scope(engine) as session:
            require(load_active_user(session, username), ACTION, session=session)
            draft, problems = _draft(session, entry, today or date.today())
            if draft is None or problems:
                raise ImportRefused(problems)
            report, problems = write_claim_drafts(session, [draft], username)
            if report.skipped:
                problems.append(ImportProblem("claim", "patient_control_number", "already used"))
            if problems:
                raise ImportRefused(problems)
            claim = session.get(Claim, report.created[0])
            assert claim is not None and entry.coverage_id is not None
            if claim.coverage_id != entry.coverage_id:  # two coverages share payer and member id
                coverage = session.get(Coverage, entry.coverage_id)
                assert coverage is not None
                claim.coverage_id, claim.coverage_order = entry.coverage_id, coverage.coverage_order
            append_audit_event(
                session,
                actor=username,
                action="claim.entered",
                entity_type="claim",
                entity_id=claim.id,
                claim_id=claim.id,
                details={"page": "charge_entry", "lines": len(draft.lines)},
            )
            return SavedCharge(claim.id or 0, claim.patient_control_number, claim.total_charge)
    except ImportRefused:
        with session_scope(engine) as session:
            append_audit_event(
                session,
                actor=username,
                action="claim.entry_refused",
                entity_type="patient",
                entity_id=entry.patient_id,
                details={"problems": [f"{p.where}: {p.field}" for p in problems][:50]},
            )
        raise


def _draft(
    session: Session, entry: ChargeEntry, today: date
) -> tuple[ClaimDraft | None, list[ImportProblem]]:
    """The claim import's draft of ``entry``, or the problems found at their fields."""
    problems: list[ImportProblem] = []
    bad = _Problems(problems)
    patient = session.get(Patient, entry.patient_id) if entry.patient_id else None
    if patient is None:
        bad("claim", "patient", "pick the patient")
    coverage = session.get(Coverage, entry.coverage_id) if entry.coverage_id else None
    on = entry.service_date
    if on is None:
        bad("claim", "service_date", "give the date of service")
    elif on > today:
        bad("claim", "service_date", "in the future")
        on = None
    elif on < FIRST_ICD10_DATE:
        bad("claim", "service_date", f"before {FIRST_ICD10_DATE} (ICD-10 began)")
        on = None
    if coverage is None or patient is None or coverage.patient_id != patient.id:
        bad("claim", "coverage", "pick one of the patient's coverages")
        coverage = None
    elif on is not None and not (
        coverage.effective_from <= on
        and (coverage.effective_to is None or on <= coverage.effective_to)
    ):
        bad("claim", "coverage", "not in effect on the date of service")
    rendering = None
    if entry.rendering_provider_id is not None:
        rendering = session.get(Provider, entry.rendering_provider_id)
        if rendering is None or patient is None or rendering.practice_id != patient.practice_id:
            bad("claim", "rendering_provider", "not a provider of the patient's practice")
    billing = None
    if entry.billing_provider_id is not None:
        billing = session.get(Provider, entry.billing_provider_id)
        if (
            billing is None
            or billing.role != "billing"
            or patient is None
            or billing.practice_id != patient.practice_id
        ):
            bad("claim", "billing_provider", "not a billing provider of the patient's practice")
    if entry.place_of_service not in {code for code, _ in places_of_service()}:
        bad("claim", "place_of_service", "not a place of service code in use")
    pcn = (entry.patient_control_number or "").strip()
    if pcn and not _PCN.fullmatch(pcn):
        bad("claim", "patient_control_number", "1-20 letters, digits or '-'")
    diagnoses = _diagnoses(session, entry.diagnoses, on, bad)
    if not entry.lines:
        bad("claim", "lines", "add at least one service line")
    elif len(entry.lines) > MAX_LINES:
        bad("claim", "lines", f"at most {MAX_LINES}")
    lines = [
        _line(session, n, line, len(diagnoses), on, coverage, bad)
        for n, line in enumerate(entry.lines, start=1)
    ]
    if problems or patient is None or coverage is None or on is None:
        return None, problems
    practice = session.get(Practice, patient.practice_id)
    payer = session.get(Payer, coverage.payer_id)
    assert practice is not None and payer is not None
    draft = ClaimDraft(
        where="claim",
        kind="P",
        practice_npi=practice.npi,
        billing_npi=billing.npi if billing else None,  # None: the practice's only one
        rendering_npi=rendering.npi if rendering else None,
        patient_account=patient.account_number,
        payer_id=payer.payer_id,
        member_id=coverage.member_id,
        fields={
            "patient_control_number": pcn or _next_control_number(session, practice.id or 0),
            "place_of_service": entry.place_of_service,
        },
        diagnoses=diagnoses,
        lines=[line for line in lines if line is not None],
    )
    return draft, problems


class _Problems:
    """Collects the problems of one entry: ``bad(where, field, reason)``."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems

    def __call__(self, where: str, name: str, reason: str) -> None:
        self.problems.append(ImportProblem(where, name, reason))

    def __len__(self) -> int:
        return len(self.problems)


def _next_control_number(session: Session, practice_id: int) -> str:
    """CE and the next number of the charge-entry sequence not yet used in the practice."""
    while True:
        (number,) = allocate_control_numbers(session, "charge_entry")
        pcn = f"CE{number:08d}"
        used = session.exec(
            select(Claim.id).where(
                Claim.practice_id == practice_id, Claim.patient_control_number == pcn
            )
        ).first()
        if used is None:
            return pcn


def _decimal(value: str | Decimal | None) -> Decimal | None:
    try:
        number = Decimal(str(value).strip().replace(",", "").lstrip("$"))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _diagnoses(session: Session, given: list[str], on: date | None, bad: _Problems) -> list[str]:
    codes = [normal_code(c) for c in given if c.strip()]
    if not codes:
        bad("claim", "diagnoses", "add at least one ICD-10-CM diagnosis")
    if len(codes) > MAX_DIAGNOSES:
        bad("claim", "diagnoses", f"at most {MAX_DIAGNOSES}")
    for n, code in enumerate(codes, start=1):
        if code in codes[: n - 1]:
            bad(f"diagnosis {n}", "code", "listed twice")
        elif on is not None and (reason := check_diagnosis(session, code, on=on)):
            bad(f"diagnosis {n}", "code", reason)
    return codes


def _line(
    session: Session,
    n: int,
    line: LineEntry,
    diagnoses: int,
    on: date | None,
    coverage: Coverage | None,
    bad: _Problems,
) -> dict[str, object] | None:
    where = f"line {n}"
    before = len(bad)
    code = normal_code(line.procedure_code)
    if not code:
        bad(where, "procedure_code", "give a CPT or HCPCS code")
    elif on is not None and (reason := check_procedure(session, code, on=on)):
        bad(where, "procedure_code", reason)
    modifiers = [m.strip().upper() for m in line.modifiers if m.strip()]
    if len(modifiers) > 4 or not all(_MODIFIER.fullmatch(m) for m in modifiers):
        bad(where, "modifiers", "up to 4 modifiers of 2 letters or digits")
    units = _decimal(line.units)
    if units is None or units <= 0 or units > 9999 or units != units.quantize(Decimal("0.001")):
        bad(where, "units", "a number above 0 and at most 9999")
        units = None
    pointers = list(line.diagnosis_pointers)
    if not pointers or len(pointers) > MAX_POINTERS or len(set(pointers)) != len(pointers):
        bad(where, "diagnosis_pointers", f"1 to {MAX_POINTERS} different diagnoses")
    elif any(p < 1 or p > diagnoses for p in pointers):
        bad(where, "diagnosis_pointers", f"points past the {diagnoses} diagnoses")
    charge: Decimal | None = None
    if line.charge is None or str(line.charge).strip() == "":
        if len(bad) == before and coverage is not None and on is not None and units:
            charge = _fee(session, coverage.id or 0, code, modifiers, on, units)
            if charge is None:
                bad(where, "charge", "the fee schedule has no amount for the code: give one")
    else:
        charge = _decimal(line.charge)
        if (
            charge is None
            or charge <= 0
            or charge > Decimal("99999999.99")
            or charge != charge.quantize(Decimal("0.01"))
        ):
            bad(where, "charge", "an amount above 0 with at most 2 decimals")
    if len(bad) > before or on is None or charge is None:
        return None
    return {
        "procedure_code": code,
        "modifiers": modifiers,
        "units": units,
        "charge": charge,
        "diagnosis_pointers": pointers,
        "service_date": on,
        "_where": where,
    }
