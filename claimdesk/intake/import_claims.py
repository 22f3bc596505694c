"""Import claims from an 837P/837I file or a CSV: all of the file, or nothing.

Every claim in the file is read, checked against claimdesk's own rows (practice,
payer, patient, coverage, providers) and written in ONE transaction. A broken
row or claim is reported with its place in the file (CSV row, 837 segment
number) and the reason; if there is any, the transaction is rolled back and
nothing is imported. A claim whose patient control number the practice already
has is skipped, so importing the same file again creates nothing twice.

CSV: one row per service line; rows with the same ``patient_control_number``
are the lines of one claim (claim-level columns must then agree). Columns
(header row required, order free, unknown columns refused):

==========================  ========  ==============================================
column                      required  meaning
==========================  ========  ==============================================
practice_npi                yes       the billing practice's NPI
patient_account             yes       the patient's account number in that practice
payer_id                    yes       the payer's EDI id (as in ``Payer.payer_id``)
member_id                   yes       the patient's member id with that payer
patient_control_number      yes       CLM01, unique per practice (1-20 characters)
service_date                yes       YYYY-MM-DD
procedure_code              yes       CPT/HCPCS, 5 characters
charge                      yes       the line's charge, e.g. 125.00
diagnoses                   yes       ICD-10-CM codes, space separated (claim level)
modifiers                   no        space separated, up to 4
units                       no        default 1
diagnosis_pointers          no        space separated positions, default 1
place_of_service            no        2 digits, default 11
billing_npi                 no        default: the practice's billing provider
rendering_npi               no        a provider of the practice
==========================  ========  ==============================================

Problems name positions and fields, never the values (which may be PHI).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.db import session_scope
from claimdesk.errors import ClaimdeskError, ValidationFailed
from claimdesk.x12 import SegmentReader, X12Error, parse_837
from claimdesk.x12.claim_data import ClaimBatch837
from models import Claim, Coverage, Patient, Payer, Practice, Provider
from models.claims import ClaimLineBase
from models.crud import create_claim, validated

CLAIM_COLUMNS = (
    "practice_npi",
    "patient_account",
    "payer_id",
    "member_id",
    "patient_control_number",
    "diagnoses",
    "place_of_service",
    "billing_npi",
    "rendering_npi",
)
LINE_COLUMNS = (
    "service_date",
    "procedure_code",
    "charge",
    "modifiers",
    "units",
    "diagnosis_pointers",
)
REQUIRED_COLUMNS = frozenset(
    {
        "practice_npi",
        "patient_account",
        "payer_id",
        "member_id",
        "patient_control_number",
        "service_date",
        "procedure_code",
        "charge",
        "diagnoses",
    }
)
ALL_COLUMNS = frozenset(CLAIM_COLUMNS + LINE_COLUMNS)
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PROBLEMS_SHOWN = 200

Format = Literal["csv", "837"]


@dataclass(frozen=True)
class ImportProblem:
    where: str  # "row 7", "segment 42", "file"
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.reason}"


class ImportRefused(ValidationFailed):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        lines = "\n".join(f"  {p}" for p in shown) + (f"\n  … and {more} more" if more else "")
        super().__init__(
            f"nothing was imported: {len(problems)} problem(s)\n{lines}",
            field=problems[0].field if problems else "file",
        )
        self.problems = problems


@dataclass(frozen=True)
class ImportReport:
    created: list[int]  # new claim ids
    skipped: list[str]  # patient control numbers already present (an earlier import)


@dataclass
class _Draft:
    """One claim as read from the file, before its references are resolved."""

    where: str
    kind: str
    practice_npi: str | None
    billing_npi: str | None
    rendering_npi: str | None
    patient_account: str | None
    payer_id: str
    member_id: str
    fields: dict[str, Any]
    diagnoses: list[str]
    lines: list[dict[str, Any]] = field(default_factory=list)


def detect_format(data: bytes) -> Format:
    """837 when the file starts with an ISA header, CSV otherwise."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:3]
    return "837" if head == b"ISA" else "csv"


def import_claims(
    engine: Engine, *, data: bytes, actor: str, file_format: Format | None = None
) -> ImportReport:
    """Import every claim in ``data`` (one transaction), or raise ``ImportRefused``."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused([ImportProblem("file", "file", f"larger than {MAX_FILE_BYTES} bytes")])
    kind = file_format or detect_format(data)
    drafts, problems = _read_837(data) if kind == "837" else _read_csv(data)
    if problems:
        raise ImportRefused(problems)
    with session_scope(engine) as session:
        report, problems = _write(session, drafts, actor)
        if problems:
            session.rollback()
            raise ImportRefused(problems)
    return report


# --- CSV ------------------------------------------------------------------------------


def _split(value: str) -> list[str]:
    return value.replace(",", " ").split()


def _read_csv(data: bytes) -> tuple[list[_Draft], list[ImportProblem]]:
    problems: list[ImportProblem] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [ImportProblem("file", "file", f"not UTF-8 (byte {exc.start})")]
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in reader.fieldnames or []]
    except csv.Error as exc:
        return [], [ImportProblem("row 1", "header", f"unreadable CSV ({exc})")]
    if not header:
        return [], [ImportProblem("file", "file", "empty: no header row")]
    reader.fieldnames = header
    if missing := REQUIRED_COLUMNS - set(header):
        problems.append(ImportProblem("row 1", "header", f"missing {sorted(missing)}"))
    if unknown := set(header) - ALL_COLUMNS:
        names = sorted(u[:30] for u in unknown)
        problems.append(ImportProblem("row 1", "header", f"unknown columns {names}"))
    if problems:
        return [], problems
    drafts: dict[str, _Draft] = {}
    rownum = 1
    try:
        for rownum, row in enumerate(reader, start=2):
            if None in row:
                problems.append(ImportProblem(f"row {rownum}", "row", "more cells than columns"))
                continue
            values = {k: (v or "").strip() for k, v in row.items()}
            if not any(values.values()):
                continue  # a blank line
            _csv_row(values, f"row {rownum}", drafts, problems)
    except csv.Error as exc:
        problems.append(ImportProblem(f"row {rownum + 1}", "row", f"unreadable CSV ({exc})"))
    if not drafts and not problems:
        problems.append(ImportProblem("file", "file", "no claim rows"))
    return list(drafts.values()), problems


def _parse(
    where: str, name: str, raw: str, parse: Callable[[str], Any], problems: list[ImportProblem]
) -> Any:
    try:
        return parse(raw)
    except (ValueError, InvalidOperation, ArithmeticError):
        problems.append(ImportProblem(where, name, "not a valid value"))
        return None


def _money(raw: str) -> Decimal:
    value = Decimal(raw)
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("not an amount")
    if value > Decimal("99999999.99"):
        raise ValueError("too large")
    return value


def _units(raw: str) -> Decimal:
    value = Decimal(raw or "1")
    if not value.is_finite() or value <= 0 or value > 9999:
        raise ValueError("units out of range")
    return value


def _csv_row(
    values: dict[str, str], where: str, drafts: dict[str, _Draft], problems: list[ImportProblem]
) -> None:
    before = len(problems)
    for name in sorted(REQUIRED_COLUMNS):
        if not values.get(name):
            problems.append(ImportProblem(where, name, "empty"))
    if len(problems) > before:
        return
    service_date = _parse(
        where, "service_date", values["service_date"], date.fromisoformat, problems
    )
    charge = _parse(where, "charge", values["charge"], _money, problems)
    units = _parse(where, "units", values.get("units", ""), _units, problems)
    pointers = _parse(
        where,
        "diagnosis_pointers",
        values.get("diagnosis_pointers") or "1",
        lambda raw: [int(p) for p in _split(raw)],
        problems,
    )
    if len(problems) > before:
        return
    pcn = values["patient_control_number"]
    claim_level = {name: values.get(name, "") for name in CLAIM_COLUMNS}
    draft = drafts.get(pcn)
    if draft is None:
        draft = _Draft(
            where=where,
            kind="P",
            practice_npi=values["practice_npi"],
            billing_npi=values.get("billing_npi") or None,
            rendering_npi=values.get("rendering_npi") or None,
            patient_account=values["patient_account"],
            payer_id=values["payer_id"],
            member_id=values["member_id"],
            fields={
                "patient_control_number": pcn,
                "place_of_service": values.get("place_of_service") or "11",
                "_claim_level": claim_level,
            },
            diagnoses=_split(values["diagnoses"]),
        )
        drafts[pcn] = draft
    elif draft.fields["_claim_level"] != claim_level:
        differ = sorted(k for k, v in claim_level.items() if draft.fields["_claim_level"][k] != v)
        problems.append(
            ImportProblem(where, differ[0], f"differs from {draft.where} of the same claim")
        )
        return
    draft.lines.append(
        {
            "procedure_code": values["procedure_code"],
            "modifiers": _split(values.get("modifiers", "")),
            "units": units,
            "charge": charge,
            "diagnosis_pointers": pointers,
            "service_date": service_date,
            "_where": where,
        }
    )


# --- 837 ------------------------------------------------------------------------------


def _read_837(data: bytes) -> tuple[list[_Draft], list[ImportProblem]]:
    try:
        batch: ClaimBatch837 = parse_837(data)
        clm_positions = [index for index, elements in SegmentReader(data) if elements[0] == "CLM"]
    except X12Error as exc:
        where = f"segment {exc.segment_index}" if exc.segment_index is not None else "file"
        return [], [ImportProblem(where, exc.element or exc.segment_id or "x12", exc.message)]
    drafts = []
    for n, claim in enumerate(batch.claims):
        where = f"segment {clm_positions[n]}" if n < len(clm_positions) else f"claim {n + 1}"
        service_dates = [line.service_date for line in claim.lines]
        service_ends = [line.service_date_end or line.service_date for line in claim.lines]
        fields: dict[str, Any] = {
            "kind": "P" if batch.kind == "P" else "I",
            "patient_control_number": claim.patient_control_number,
            "frequency_code": claim.frequency_code,
            "original_payer_claim_number": claim.original_claim_number,
            "service_from": min(service_dates),
            "service_to": max(service_ends),
        }
        if batch.kind == "P":
            fields["place_of_service"] = claim.facility_code
        else:
            fields["facility_type_code"] = claim.facility_code
        rendering = claim.rendering_provider or claim.attending_provider
        drafts.append(
            _Draft(
                where=where,
                kind=fields["kind"],
                practice_npi=None,
                billing_npi=claim.billing_provider.npi,
                rendering_npi=rendering.npi if rendering else None,
                patient_account=None,
                payer_id=claim.payer.payer_id,
                member_id=claim.subscriber.member_id,
                fields=fields,
                diagnoses=list(claim.diagnoses),
                lines=[
                    {
                        "procedure_code": line.procedure_code,
                        "revenue_code": line.revenue_code,
                        "modifiers": list(line.modifiers),
                        "units": line.units,
                        "charge": line.charge,
                        "diagnosis_pointers": list(line.diagnosis_pointers) or [1],
                        "service_date": line.service_date,
                        "service_date_to": line.service_date_end,
                        "_where": where,
                    }
                    for line in claim.lines
                ],
            )
        )
    return drafts, []


# --- writing --------------------------------------------------------------------------


class _Unresolved(Exception):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


def _practice_and_billing(session: Session, draft: _Draft) -> tuple[Practice, Provider]:
    practice: Practice | None = None
    billing: Provider | None = None
    if draft.practice_npi is not None:
        practice = session.exec(select(Practice).where(Practice.npi == draft.practice_npi)).first()
        if practice is None:
            raise _Unresolved("practice_npi", "no practice with this NPI")
    if draft.billing_npi is not None:
        query = select(Provider).where(
            Provider.npi == draft.billing_npi, Provider.role == "billing"
        )
        if practice is not None:
            query = query.where(Provider.practice_id == practice.id)
        billing = session.exec(query).first()
        if billing is None and practice is None:
            # An 837 from an office that bills under the practice's own NPI.
            practice = session.exec(
                select(Practice).where(Practice.npi == draft.billing_npi)
            ).first()
        if billing is None and practice is None:
            raise _Unresolved("billing_npi", "no billing provider or practice with this NPI")
    if practice is None:
        assert billing is not None
        practice = session.get(Practice, billing.practice_id)
        assert practice is not None
    if billing is None:
        billers = session.exec(
            select(Provider).where(Provider.practice_id == practice.id, Provider.role == "billing")
        ).all()
        if len(billers) != 1:
            raise _Unresolved(
                "billing_npi", f"the practice has {len(billers)} billing providers; name one"
            )
        billing = billers[0]
    return practice, billing


def _resolve(session: Session, draft: _Draft) -> dict[str, Any]:
    """The claim's row values, its references resolved; ``_Unresolved`` names what is missing."""
    practice, billing = _practice_and_billing(session, draft)
    payer = session.exec(select(Payer).where(Payer.payer_id == draft.payer_id)).first()
    if payer is None:
        raise _Unresolved("payer_id", "no payer with this id")
    query = (
        select(Coverage, Patient)
        .join(Patient, col(Patient.id) == col(Coverage.patient_id))
        .where(
            Coverage.payer_id == payer.id,
            Coverage.member_id == draft.member_id,
            Patient.practice_id == practice.id,
        )
    )
    if draft.patient_account is not None:
        query = query.where(Patient.account_number == draft.patient_account)
    found = session.exec(query.order_by(col(Coverage.coverage_order))).first()
    if found is None:
        raise _Unresolved(
            "member_id", "no coverage with this payer and member id for the practice's patient"
        )
    coverage, patient = found
    rendering_id = None
    if draft.rendering_npi:
        rendering = session.exec(
            select(Provider).where(
                Provider.practice_id == practice.id, Provider.npi == draft.rendering_npi
            )
        ).first()
        if rendering is None:
            raise _Unresolved("rendering_npi", "no provider of the practice with this NPI")
        rendering_id = rendering.id
    lines = draft.lines
    values = {k: v for k, v in draft.fields.items() if not k.startswith("_")}
    values.setdefault("service_from", min(line["service_date"] for line in lines))
    values.setdefault(
        "service_to", max(line.get("service_date_to") or line["service_date"] for line in lines)
    )
    return {
        **values,
        "kind": draft.kind,
        "practice_id": practice.id,
        "patient_id": patient.id,
        "coverage_id": coverage.id,
        "payer_id": payer.id,
        "billing_provider_id": billing.id,
        "rendering_provider_id": rendering_id,
        "coverage_order": coverage.coverage_order,
        "total_charge": sum((line["charge"] for line in lines), Decimal(0)),
    }


def _write(
    session: Session, drafts: list[_Draft], actor: str
) -> tuple[ImportReport, list[ImportProblem]]:
    created: list[int] = []
    skipped: list[str] = []
    problems: list[ImportProblem] = []
    for draft in drafts:
        try:
            values = _resolve(session, draft)
        except _Unresolved as exc:
            problems.append(ImportProblem(draft.where, exc.field, exc.reason))
            continue
        existing = session.exec(
            select(Claim).where(
                Claim.practice_id == values["practice_id"],
                Claim.patient_control_number == values["patient_control_number"],
            )
        ).first()
        if existing is not None:
            if existing.total_charge != values["total_charge"]:
                problems.append(
                    ImportProblem(
                        draft.where,
                        "patient_control_number",
                        f"already used by claim {existing.id} with a different charge",
                    )
                )
            else:
                skipped.append(values["patient_control_number"])
            continue
        lines = [{k: v for k, v in line.items() if not k.startswith("_")} for line in draft.lines]
        line_problems = _check_lines(draft, lines)
        if line_problems:
            problems.extend(line_problems)
            continue
        try:
            with session.begin_nested():
                claim = create_claim(
                    session=session,
                    claim_in=values,
                    lines=lines,
                    diagnoses=draft.diagnoses,
                    actor=actor,
                )
        except ValidationFailed as exc:
            problems.append(ImportProblem(draft.where, exc.field, _reason(exc)))
            continue
        except ClaimdeskError as exc:
            problems.append(ImportProblem(draft.where, "claim", exc.message))
            continue
        created.append(claim.id or 0)
    return ImportReport(created, skipped), problems


def _check_lines(draft: _Draft, lines: list[dict[str, Any]]) -> list[ImportProblem]:
    """Each line checked alone first, so a bad line is reported at its own row."""
    problems = []
    for number, (line, source) in enumerate(zip(lines, draft.lines, strict=True), start=1):
        try:
            validated(
                ClaimLineBase,
                {"claim_id": 0, "line_number": number, "line_control_number": "-", **line},
            )
        except ValidationFailed as exc:
            problems.append(ImportProblem(source["_where"], exc.field, _reason(exc)))
    return problems


def _reason(exc: ValidationFailed) -> str:
    """The refusal without the model prefix (``Claim.charge: ...`` → ``...``)."""
    message = exc.message
    prefix, _, rest = message.partition(": ")
    return rest if rest and "." in prefix and " " not in prefix else message
