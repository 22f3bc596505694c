"""Patients, their coverages and authorizations, from a CSV or a FHIR bundle: all or nothing.

``import_patients`` reads the CSV (``patients_csv``); ``claimdesk.intake.fhir_bundle``
reads a FHIR bundle. Both hand ``PatientIn`` items to ``write_patients``, which
matches each against the database and writes in the caller's transaction:

==============  =============================================================
row             matched by
==============  =============================================================
patient         its medical record number in the practice, else its account number
coverage        the patient, the payer's EDI id and the member id
authorization   the patient, the payer's EDI id and the authorization number
==============  =============================================================

A matched row whose fields differ is updated in place, one that agrees is left
alone, so importing the same file again changes nothing. Fields the file does not
give (a column left out of the header, a FHIR element absent) are left as they
are. Every created or updated row gets an audit event naming the fields, never
their values. Names and addresses are stored exactly as written (any Unicode);
the X12 writers transliterate them on the wire.

CSV: one row per coverage (or per authorization); rows with the same practice and
``account_number`` are one patient (their patient columns must then agree). Header
row required, order free, unknown columns refused.

=======================  ========  ================================================
column                   required  meaning
=======================  ========  ================================================
practice_npi             no        the practice's NPI (default: the only practice)
account_number           yes       the patient's account number in the practice
medical_record_number    no        the practice record system's id (FHIR MR)
last_name, first_name    yes       as the patient writes them
birth_date               yes       YYYY-MM-DD
sex                      no        F, M or U (default U)
address_line1, ..._line2 no        street address
city, state, postal_code no        state: 2 letters; ZIP: 5 or 9 digits
phone                    no        10 digits (punctuation ignored)
payer_id                 coverage  the payer's EDI id (as in ``payers list``)
member_id                coverage  the patient's (or subscriber's) member id
group_number, plan_name  no        as on the card
relationship             no        self, spouse, child or other (default self)
subscriber_last_name     no        the subscriber's, when not self
subscriber_first_name    no        the subscriber's, when not self
subscriber_birth_date    no        the subscriber's, when not self
effective_from           coverage  YYYY-MM-DD
effective_to             no        YYYY-MM-DD
coverage_order           no        primary, secondary, tertiary or 1-3 (default 1)
authorization_number     no        a prior authorization or referral with the payer
authorization_kind       no        prior_auth (default) or referral
authorization_codes      no        CPT/HCPCS codes it covers, space separated
authorization_from       auth      YYYY-MM-DD
authorization_to         auth      YYYY-MM-DD
authorization_units      no        units authorized
=======================  ========  ================================================

Problems name the row (or FHIR resource) and the field, never the value (PHI).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from claimdesk.db import session_scope
from claimdesk.errors import ValidationFailed
from claimdesk.intake.patient_input import AuthorizationIn, CoverageIn, PatientIn
from claimdesk.intake.patients_csv import read_patients_csv
from claimdesk.intake.problems import ImportProblem, ImportRefused
from models import Authorization, Coverage, Patient, Payer, Practice, Provider
from models.audit import append_audit_event
from models.crud import validated

MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Change:
    entity: str  # patient, coverage, authorization
    where: str  # the row or resource of the file (never a name or member id)
    action: str  # created or updated
    row_id: int
    fields: tuple[str, ...]


@dataclass
class PatientsReport:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    claims_created: list[int] = field(default_factory=list)  # FHIR Claims: new draft ids
    claims_skipped: list[str] = field(default_factory=list)  # PCNs already imported

    def count(self, entity: str, action: str) -> int:
        return sum(1 for c in self.changes if c.entity == entity and c.action == action)

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [asdict(change) for change in self.changes],
            "change_count": len(self.changes),
            "unchanged": self.unchanged,
            "claims_created": self.claims_created,
            "claims_skipped": self.claims_skipped,
        }


def import_patients(engine: Engine, *, data: bytes, actor: str) -> PatientsReport:
    """Store every patient of the CSV ``data`` (one transaction), or raise ``ImportRefused``."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused([ImportProblem("file", "file", f"larger than {MAX_FILE_BYTES} bytes")])
    patients, problems = read_patients_csv(data)
    if not patients:
        raise ImportRefused(problems)
    report = PatientsReport()
    with session_scope(engine) as session:
        # The rows that read well are written even beside problems, so one refusal names
        # everything (an unknown payer too); then nothing of it stays.
        problems += write_patients(
            session, patients, actor=actor, via="patients import", report=report
        )
        if problems:
            session.rollback()
            raise ImportRefused(problems)
    return report


# --- writing --------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, problem: ImportProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _Writer:
    def __init__(self, session: Session, actor: str, via: str, report: PatientsReport) -> None:
        self.session = session
        self.actor = actor
        self.via = via
        self.report = report
        self.payers: dict[str, int | None] = {}
        self.practices: dict[str | None, int | None] = {}
        self.seen: dict[tuple[int, str, str], str] = {}  # (practice, key kind, key) → where

    def practice(self, patient: PatientIn) -> int:
        npi = patient.practice_npi
        if npi not in self.practices:
            self.practices[npi] = self._find_practice(npi)
        found = self.practices[npi]
        if found is None:
            name = patient.names.get("practice_npi", "practice_npi")
            if npi is None:
                count = len(self.session.exec(select(Practice.id)).all())
                reason = f"name the practice's NPI (the database has {count} practices)"
            else:
                reason = "no practice (or billing provider of one) with this NPI"
            raise _Refused(ImportProblem(patient.where, name, reason))
        return found

    def _find_practice(self, npi: str | None) -> int | None:
        if npi is None:
            ids = self.session.exec(select(Practice.id)).all()
            return ids[0] if len(ids) == 1 else None
        found = self.session.exec(select(Practice.id).where(Practice.npi == npi)).first()
        if found is None:  # a group's billing NPI stands for its practice too
            found = self.session.exec(
                select(Provider.practice_id).where(Provider.npi == npi, Provider.role == "billing")
            ).first()
        return found

    def payer(self, where: str, name: str, payer_id: str) -> int:
        if payer_id not in self.payers:
            self.payers[payer_id] = self.session.exec(
                select(Payer.id).where(Payer.payer_id == payer_id)
            ).first()
        found = self.payers[payer_id]
        if found is None:
            reason = "no payer with this EDI id (add it with `claimdesk office import`)"
            raise _Refused(ImportProblem(where, name, reason))
        return found

    def once(self, practice_id: int, kind: str, key: str, where: str, name: str) -> None:
        earlier = self.seen.setdefault((practice_id, kind, key), where)
        if earlier != where:
            raise _Refused(ImportProblem(where, name, f"the same {kind} as {earlier}"))

    def patient(self, p: PatientIn) -> Patient:
        practice_id = self.practice(p)
        names = p.names
        mrn = p.values.get("medical_record_number")
        account_name = names.get("account_number", "account_number")
        self.once(practice_id, "account number", p.account_number, p.where, account_name)
        by_account = self.session.exec(
            select(Patient).where(
                Patient.practice_id == practice_id, Patient.account_number == p.account_number
            )
        ).first()
        row = by_account
        if mrn:
            mrn_name = names.get("medical_record_number", "medical_record_number")
            self.once(practice_id, "medical record number", mrn, p.where, mrn_name)
            by_mrn = self.session.exec(
                select(Patient).where(
                    Patient.practice_id == practice_id, Patient.medical_record_number == mrn
                )
            ).first()
            if by_mrn is not None:
                if by_account is not None and by_account.id != by_mrn.id:
                    reason = "already the account of another patient of the practice"
                    raise _Refused(ImportProblem(p.where, account_name, reason))
                row = by_mrn
        data = {"account_number": p.account_number, **p.values}
        key = {"practice_id": practice_id}
        return self.upsert(Patient, "patient", p.where, row, key, data, names)

    def coverage(self, patient_id: int, c: CoverageIn, names: dict[str, str]) -> None:
        payer_id = self.payer(c.where, names.get("payer_id", "payer_id"), c.payer_id)
        row = self.session.exec(
            select(Coverage).where(
                Coverage.patient_id == patient_id,
                Coverage.payer_id == payer_id,
                Coverage.member_id == c.member_id,
            )
        ).first()
        key = {"patient_id": patient_id, "payer_id": payer_id, "member_id": c.member_id}
        self.upsert(Coverage, "coverage", c.where, row, key, c.values, names)

    def authorization(self, patient_id: int, a: AuthorizationIn, names: dict[str, str]) -> None:
        payer_id = self.payer(a.where, names.get("payer_id", "payer_id"), a.payer_id)
        row = self.session.exec(
            select(Authorization).where(
                Authorization.patient_id == patient_id,
                Authorization.payer_id == payer_id,
                Authorization.number == a.number,
            )
        ).first()
        key = {"patient_id": patient_id, "payer_id": payer_id, "number": a.number}
        self.upsert(Authorization, "authorization", a.where, row, key, a.values, names)

    def upsert(
        self,
        model: type[SQLModel],
        entity: str,
        where: str,
        row: Any,
        key: dict[str, Any],
        data: dict[str, Any],
        names: dict[str, str],
    ) -> Any:
        """``row`` (or a new one) brought up to ``data``, validated first; audited."""
        try:
            if row is None:
                row = validated(model, {**key, **data})
                self.session.add(row)
                self.session.flush()
                given = sorted(n for n, v in data.items() if v not in (None, "", []))
                self._record(entity, where, "created", row.id, given)
                return row
            changed = {n: v for n, v in data.items() if getattr(row, n) != v}
            if not changed:
                self.report.unchanged += 1
                return row
            validated(model, {**row.model_dump(), **changed})
        except ValidationFailed as exc:
            reason = _reason(exc)
            raise _Refused(ImportProblem(where, names.get(exc.field, exc.field), reason)) from None
        for name, value in changed.items():
            setattr(row, name, value)
        self.session.add(row)
        self.session.flush()
        self._record(entity, where, "updated", row.id, sorted(changed))
        return row

    def _record(self, entity: str, where: str, action: str, row_id: int, fields: list[str]) -> None:
        self.report.changes.append(Change(entity, where, action, row_id, tuple(fields)))
        append_audit_event(
            self.session,
            actor=self.actor,
            action=f"{entity}.{action}",
            entity_type=entity,
            entity_id=row_id,
            # Field names only: the values are PHI.
            details={"via": self.via, "fields": fields},
        )


def write_patients(
    session: Session, patients: list[PatientIn], *, actor: str, via: str, report: PatientsReport
) -> list[ImportProblem]:
    """Create or update each patient with its coverages and authorizations; the problems.

    Writes in the caller's transaction; the caller rolls back when problems come back.
    """
    writer = _Writer(session, actor, via, report)
    problems: list[ImportProblem] = []
    for patient in patients:
        try:
            row = writer.patient(patient)
        except _Refused as exc:
            problems.append(exc.problem)
            continue
        assert row.id is not None
        for coverage in patient.coverages:
            try:
                writer.coverage(row.id, coverage, patient.names)
            except _Refused as exc:
                problems.append(exc.problem)
        for authorization in patient.authorizations:
            try:
                writer.authorization(row.id, authorization, patient.names)
            except _Refused as exc:
                problems.append(exc.problem)
    return problems


def _reason(exc: ValidationFailed) -> str:
    """The refusal without the model prefix (``Patient.gender: ...`` → ``...``)."""
    prefix, _, rest = exc.message.partition(": ")
    return rest if rest and "." in prefix and " " not in prefix else exc.message


__all__ = [
    "AuthorizationIn",
    "Change",
    "CoverageIn",
    "ImportProblem",
    "ImportRefused",
    "PatientIn",
    "PatientsReport",
    "import_patients",
    "write_patients",
]
