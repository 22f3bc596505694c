"""Scheduled visits from a CSV (``claimdesk visits import FILE.csv``): all rows, or none.

Columns (a header row names them, any order): ``account_number`` (the patient's, as in
the patients file), ``scheduled_at`` (``YYYY-MM-DD HH:MM`` or ISO 8601), ``provider_npi``
(one of the practice's providers), ``reason`` (optional, 120 characters) and ``status``
(optional: scheduled, cancelled, completed; scheduled when empty). A visit already there
(same patient, same time) is updated, not added twice. Problems are named by row and
column, never by the value; any problem keeps the whole file out. Eligibility then checks
the coverage of each scheduled visit within its horizon (``service.py``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.db import session_scope
from claimdesk.intake.problems import ImportProblem, ImportRefused
from models import Appointment, Patient, Provider, append_audit_event

MAX_FILE_BYTES = 5_000_000
REQUIRED = ("account_number", "scheduled_at", "provider_npi")
OPTIONAL = ("reason", "status")
STATUSES = ("scheduled", "cancelled", "completed")


@dataclass
class VisitsReport:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass(frozen=True)
class _Row:
    where: str
    account_number: str
    scheduled_at: datetime
    provider_npi: str
    reason: str | None
    status: str


def _when(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    # Stored in UTC like every timestamp; a time without a zone is taken as UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_visits_csv(data: bytes) -> tuple[list[_Row], list[ImportProblem]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [ImportProblem("file", "file", "not UTF-8 text")]
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
    problems = [ImportProblem("header", name, "column missing") for name in missing]
    problems += [ImportProblem("header", name, "unknown column") for name in unknown]
    if problems:
        return [], problems
    rows: list[_Row] = []
    for number, raw in enumerate(reader, start=2):
        where = f"row {number}"
        values = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        found = [
            ImportProblem(where, name, "required") for name in REQUIRED if not values.get(name)
        ]
        when = _when(values["scheduled_at"]) if values.get("scheduled_at") else None
        if values.get("scheduled_at") and when is None:
            found.append(ImportProblem(where, "scheduled_at", "not a date and time"))
        status = values.get("status") or "scheduled"
        if status not in STATUSES:
            found.append(ImportProblem(where, "status", f"not one of {', '.join(STATUSES)}"))
        reason = values.get("reason") or None
        if reason is not None and len(reason) > 120:
            found.append(ImportProblem(where, "reason", "longer than 120 characters"))
        if found:
            problems += found
            continue
        assert when is not None
        rows.append(
            _Row(where, values["account_number"], when, values["provider_npi"], reason, status)
        )
    if not rows and not problems:
        problems.append(ImportProblem("file", "file", "no visits in the file"))
    return rows, problems


def _write(
    session: Session, rows: list[_Row], actor: str, report: VisitsReport
) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    for row in rows:
        patient = session.exec(
            select(Patient).where(Patient.account_number == row.account_number)
        ).first()
        provider = session.exec(select(Provider).where(Provider.npi == row.provider_npi)).first()
        if patient is None:
            problems.append(ImportProblem(row.where, "account_number", "no such patient"))
        if provider is None:
            problems.append(ImportProblem(row.where, "provider_npi", "no such provider"))
        if patient is None or provider is None:
            continue
        existing = session.exec(
            select(Appointment).where(
                Appointment.patient_id == patient.id, Appointment.scheduled_at == row.scheduled_at
            )
        ).first()
        wanted = (provider.id, row.reason, row.status)
        if existing is not None:
            if (existing.provider_id, existing.reason, existing.status) == wanted:
                report.unchanged += 1
                continue
            existing.provider_id, existing.reason, existing.status = wanted  # type: ignore[assignment]
            session.add(existing)
            session.flush()
            report.updated.append(existing.id or 0)
            appointment = existing
            action = "appointment.updated"
        else:
            appointment = Appointment(
                patient_id=patient.id or 0,
                provider_id=provider.id or 0,
                scheduled_at=row.scheduled_at,
                reason=row.reason,
                status=row.status,
            )
            session.add(appointment)
            session.flush()
            report.created.append(appointment.id or 0)
            action = "appointment.created"
        append_audit_event(
            session,
            actor=actor,
            action=action,
            entity_type="appointment",
            entity_id=appointment.id,
            details={"via": "visits import", "patient_id": patient.id},
        )
    return problems


def import_visits(engine: Engine, *, data: bytes, actor: str) -> VisitsReport:
    """Store every visit of the CSV ``data`` in one transaction, or raise ``ImportRefused``."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused([ImportProblem("file", "file", f"larger than {MAX_FILE_BYTES} bytes")])
    rows, problems = read_visits_csv(data)
    if problems:
        raise ImportRefused(problems)
    report = VisitsReport()
    with session_scope(engine) as session:
        problems = _write(session, rows, actor, report)
        if problems:
            session.rollback()
            raise ImportRefused(problems)
    return report
