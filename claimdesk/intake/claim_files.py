"""Reading claim files (a CSV of service lines, or an 837P/837I) into drafts.

A draft is one claim as the file gives it, before its practice, payer, patient and
providers are looked up (``claimdesk.intake.import_claims``). The CSV's columns are
documented in ``claimdesk.intake.import_claims``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from claimdesk.intake.problems import ImportProblem
from claimdesk.x12 import SegmentReader, X12Error, parse_837
from claimdesk.x12.claim_data import ClaimBatch837

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
Format = Literal["csv", "837"]


@dataclass
class ClaimDraft:
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


# --- CSV ------------------------------------------------------------------------------


def _split(value: str) -> list[str]:
    return value.replace(",", " ").split()


def read_claims_csv(data: bytes) -> tuple[list[ClaimDraft], list[ImportProblem]]:
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
    drafts: dict[str, ClaimDraft] = {}
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
    values: dict[str, str], where: str, drafts: dict[str, ClaimDraft], problems: list[ImportProblem]
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
        draft = ClaimDraft(
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


def read_claims_837(data: bytes) -> tuple[list[ClaimDraft], list[ImportProblem]]:
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
            ClaimDraft(
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
