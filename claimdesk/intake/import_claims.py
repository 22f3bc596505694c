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

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.db import session_scope
from claimdesk.errors import ClaimdeskError, ValidationFailed
from claimdesk.intake.claim_files import (
    ClaimDraft,
    Format,
    detect_format,
    read_claims_837,
    read_claims_csv,
)
from claimdesk.intake.problems import ImportProblem, ImportRefused
from models import Claim, Coverage, Patient, Payer, Practice, Provider
from models.claims import ClaimLineBase
from models.crud import create_claim, validated

__all__ = ["ImportProblem", "ImportRefused", "ImportReport", "import_claims"]

MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class ImportReport:
    created: list[int]  # new claim ids
    skipped: list[str]  # patient control numbers already present (an earlier import)


def import_claims(
    engine: Engine,
    *,
    data: bytes,
    actor: str,
    file_format: Format | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import every claim in ``data`` (one transaction), or raise ``ImportRefused``.

    ``progress(done, total)`` is told as each claim is written (the CLI draws a bar).
    """
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused([ImportProblem("file", "file", f"larger than {MAX_FILE_BYTES} bytes")])
    kind = file_format or detect_format(data)
    drafts, problems = read_claims_837(data) if kind == "837" else read_claims_csv(data)
    if problems:
        raise ImportRefused(problems)
    with session_scope(engine) as session:
        report, problems = _write(session, drafts, actor, progress)
        if problems:
            session.rollback()
            raise ImportRefused(problems)
    return report


# --- writing --------------------------------------------------------------------------


class _Unresolved(Exception):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


def _practice_and_billing(session: Session, draft: ClaimDraft) -> tuple[Practice, Provider]:
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


def _resolve(session: Session, draft: ClaimDraft) -> dict[str, Any]:
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
    session: Session,
    drafts: list[ClaimDraft],
    actor: str,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ImportReport, list[ImportProblem]]:
    created: list[int] = []
    skipped: list[str] = []
    problems: list[ImportProblem] = []
    for done, draft in enumerate(drafts):
        if progress is not None:
            progress(done, len(drafts))
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


def _check_lines(draft: ClaimDraft, lines: list[dict[str, Any]]) -> list[ImportProblem]:
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
