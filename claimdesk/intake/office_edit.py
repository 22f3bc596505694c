"""The office's own data edited in the app: one practice, provider, payer or fee row at a time.

The same checks and the same write path as ``claimdesk office import``: a value from a
form is validated by the office file's section model (``office_schema``), checked
against the database by the importer (unknown practice or payer, overlapping fee
periods) and written by the importer's audited update-in-place (``office._Importer``),
so a rule added there holds here too. An uploaded fee-schedule CSV is read by the
reader the file's ``csv:`` entries use, all of it or nothing.

Only an admin (``office.manage``) edits; anyone else is refused and audited by
``require``. A value that is refused is audited too (``office.edit_refused``, the
fields named, never their values) and raised as ``EditRefused`` naming each field,
and nothing is stored. The values a form starts from (``*_values``) are the section
model's own shape, so saving a form unchanged changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from claimdesk.errors import ValidationFailed
from claimdesk.intake.office import _FILING_INDICATOR, Change, _Importer
from claimdesk.intake.office_read import At, OfficeFile, _dotted, _errors, parse_fee_csv
from claimdesk.intake.office_schema import (
    ConnectivityIn,
    FeeRowIn,
    PayerIn,
    PracticeIn,
    Problem,
    ProviderIn,
)
from models import FeeSchedule, Payer, Practice, Provider, append_audit_event

ACTION = "office.manage"
M = TypeVar("M", bound=BaseModel)
VIA = "app"
_ADDRESS_KEYS = ("line1", "line2", "city", "state", "postal_code")
# Fields whose blank form value means "none": the whole sub-form left empty.
_OPTIONAL_ADDRESSES = {"practice": ("pay_to",), "payer": ("address",), "provider": ()}


class EditRefused(ValidationFailed):
    """The values were refused; ``problems`` maps each field (dotted) to its messages."""

    def __init__(self, entity: str, problems: dict[str, list[str]]) -> None:
        self.problems = problems
        lines = "; ".join(
            f"{name}: {' '.join(messages)}" if name else " ".join(messages)
            for name, messages in problems.items()
        )
        super().__init__(
            f"{entity} not saved, nothing was stored: {lines}", field=next(iter(problems), "")
        )


@dataclass
class OfficeView:
    """What the admin pages show and start their forms from (office data, no PHI)."""

    practices: list[dict[str, Any]] = field(default_factory=list)
    providers: list[dict[str, Any]] = field(default_factory=list)
    payers: list[dict[str, Any]] = field(default_factory=list)
    fee_rows: list[dict[str, Any]] = field(default_factory=list)


# --- Reading ------------------------------------------------------------------------------


def read_office(engine: Engine, *, username: str) -> OfficeView:
    """Every practice, provider, payer and fee row in its section's shape; admins only."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), ACTION)
        practices = session.exec(select(Practice).order_by(col(Practice.name))).all()
        npi_of = {p.id: p.npi for p in practices}
        providers = session.exec(
            select(Provider).order_by(col(Provider.practice_id), col(Provider.npi))
        ).all()
        payers = session.exec(select(Payer).order_by(col(Payer.name))).all()
        edi_of = {p.id: p.payer_id for p in payers}
        fees = session.exec(
            select(FeeSchedule).order_by(
                col(FeeSchedule.payer_id), col(FeeSchedule.code), col(FeeSchedule.effective_from)
            )
        ).all()
        return OfficeView(
            practices=[practice_values(p) for p in practices],
            providers=[provider_values(p, npi_of.get(p.practice_id, "")) for p in providers],
            payers=[payer_values(p) for p in payers],
            fee_rows=[fee_values(f, edi_of.get(f.payer_id, "")) for f in fees],
        )


def _address(row: Any, prefix: str = "") -> dict[str, Any] | None:
    values = {
        key: getattr(row, f"{prefix}address_{key}" if key.startswith("line") else prefix + key)
        for key in _ADDRESS_KEYS
    }
    return values if any(values.values()) else None


def practice_values(row: Practice) -> dict[str, Any]:
    return {
        "name": row.name,
        "npi": row.npi,
        "tin": row.tin,
        "taxonomy": row.taxonomy,
        "address": _address(row),
        "pay_to": _address(row, "pay_to_"),
    }


def provider_values(row: Provider, practice_npi: str) -> dict[str, Any]:
    return {
        "practice": practice_npi,
        "npi": row.npi,
        "role": row.role,
        "organization_name": row.organization_name,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "taxonomy": row.taxonomy,
        "tin": row.tin,
    }


def payer_values(row: Payer) -> dict[str, Any]:
    stored = row.connectivity or {}
    indicator = row.claim_filing_indicator
    return {
        "payer_id": row.payer_id,
        "name": row.name,
        "kind": row.kind,
        "claim_channel": stored.get("submission_channel") or "electronic",
        # The kind's own indicator is left to follow the kind.
        "claim_filing_indicator": None
        if indicator == _FILING_INDICATOR.get(row.kind)
        else indicator,
        "timely_filing_days": row.timely_filing_days,
        "appeal_levels": [dict(level) for level in row.appeal_levels],
        "electronic_appeals": row.electronic_appeals,
        "accepts_replacement_claims": row.accepts_replacement_claims,
        "status_poll_interval_hours": row.status_poll_interval_hours,
        "prior_auth_codes": list(row.prior_auth_codes),
        "rate_limit_per_s": row.rate_limit_per_s,
        "timeout_s": row.timeout_s,
        "max_concurrency": row.max_concurrency,
        "connectivity": {k: stored[k] for k in ConnectivityIn.model_fields if k in stored},
        "address": _address(row),
    }


def fee_values(row: FeeSchedule, payer_edi_id: str) -> dict[str, Any]:
    return {
        "payer": payer_edi_id,
        "code": row.code,
        "modifier": row.modifier,
        "effective_from": row.effective_from,
        "effective_to": row.effective_to,
        "allowed": row.expected_allowed,
    }


# --- Saving -------------------------------------------------------------------------------


def save_practice(
    engine: Engine, *, username: str, values: dict[str, Any], adding: bool = False
) -> list[Change]:
    """Create the practice (by NPI) or bring it up to ``values``; audited."""
    with session_scope(engine) as session:  # refused before the values are looked at
        require(load_active_user(session, username), ACTION)
    item = _validated(engine, username, "practice", PracticeIn, values)
    office = OfficeFile(path=Path(VIA), practice_count=1, named={"practices": {item.npi}})
    office.practices.append(At(item, "", 0, ""))
    return _write(engine, username, "practice", office, [], adding=adding)


def save_provider(
    engine: Engine, *, username: str, values: dict[str, Any], adding: bool = False
) -> list[Change]:
    """Create the provider (by practice NPI and NPI) or bring it up to ``values``; audited."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), ACTION)
    item = _validated(engine, username, "provider", ProviderIn, values)
    if item.practice is None:  # the app always names it; a file with one practice may not
        _refuse(engine, username, "provider", {"practice": ["pick the provider's practice"]})
    office = OfficeFile(path=Path(VIA))
    office.providers.append(At(item, "", 0, ""))
    return _write(engine, username, "provider", office, [], adding=adding)


def save_payer(
    engine: Engine, *, username: str, values: dict[str, Any], adding: bool = False
) -> list[Change]:
    """Create the payer (by EDI id) or bring it up to ``values``; audited."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), ACTION)
    item = _validated(engine, username, "payer", PayerIn, values)
    office = OfficeFile(path=Path(VIA), named={"payers": {item.payer_id}})
    office.payers.append(At(item, "", 0, ""))
    return _write(engine, username, "payer", office, [], adding=adding)


def save_fee_row(
    engine: Engine, *, username: str, values: dict[str, Any], adding: bool = False
) -> list[Change]:
    """Add a fee row or change one (payer × code × modifier × effective_from); audited."""
    with session_scope(engine) as session:
        require(load_active_user(session, username), ACTION)
    item = _validated(engine, username, "fee_schedule", FeeRowIn, values)
    office = OfficeFile(path=Path(VIA), fee_rows=[At(item, "", 0, "")])
    return _write(engine, username, "fee_schedule", office, [], adding=adding)


def import_fee_csv(engine: Engine, *, username: str, data: bytes, filename: str) -> list[Change]:
    """An uploaded fee-schedule CSV (the columns ``office import`` takes), all or nothing."""
    label = Path(filename).name or "upload.csv"
    with session_scope(engine) as session:
        require(load_active_user(session, username), ACTION)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _refuse(engine, username, "fee_schedule", {"file": ["not UTF-8 text; save it as UTF-8"]})
    rows, problems = parse_fee_csv(text, label)
    if not rows and not problems:
        problems = [Problem(label, 1, "", "no fee rows in the file")]
    office = OfficeFile(path=Path(label), fee_rows=rows)
    return _write(engine, username, "fee_schedule", office, problems, label=label)


def _validated(
    engine: Engine, username: str, entity: str, model: type[M], values: dict[str, Any]
) -> M:
    """The section model's own check of a form's values, refused by field."""
    try:
        return model.model_validate(_cleaned(values, _OPTIONAL_ADDRESSES.get(entity, ())))
    except ValidationError as exc:
        problems = [Problem("", 0, _dotted(loc), message) for loc, message in _errors(exc, ())]
        _refuse(engine, username, entity, _by_field(problems))


def _write(
    engine: Engine,
    username: str,
    entity: str,
    office: OfficeFile,
    problems: list[Problem],
    *,
    label: str = "",
    adding: bool = False,
) -> list[Change]:
    """Check against the database, then write through the importer; refused: nothing stored."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            admin = load_active_user(session, username)
            require(admin, ACTION)
            importer = _Importer(session, office, label, admin.username, False, via=VIA)
            problems = problems + importer.check_references()
            if adding:
                problems += _already_there(session, office)
            if problems:
                session.rollback()
            else:
                try:
                    report = importer.run()
                except ValidationFailed as exc:  # the table's own rule, by its column
                    session.rollback()
                    problems = [Problem(label, 0, exc.field, str(exc))]
                else:
                    session.commit()
                    return report.changes
        except BaseException:
            session.rollback()
            raise
    _refuse(engine, username, entity, _by_field(problems, with_line=bool(label)))


def _already_there(session: Session, office: OfficeFile) -> list[Problem]:
    """What an add form names that is stored already: the add would overwrite it, refused."""

    def first(query: Any) -> bool:
        return session.exec(query).first() is not None

    def practice_id(npi: str | None) -> int | None:
        return session.exec(select(Practice.id).where(Practice.npi == npi)).first()

    def payer_id(edi_id: str) -> int | None:
        return session.exec(select(Payer.id).where(Payer.payer_id == edi_id)).first()

    pick = "; pick it in the list to edit it"
    for practice in office.practices:
        if practice_id(practice.item.npi) is not None:
            return [Problem("", 0, "npi", "a practice with this NPI is stored already" + pick)]
    for provider in office.providers:
        query = select(Provider.id).where(
            Provider.practice_id == practice_id(provider.item.practice),
            Provider.npi == provider.item.npi,
        )
        if first(query):
            return [Problem("", 0, "npi", "the practice has a provider with this NPI" + pick)]
    for payer in office.payers:
        if payer_id(payer.item.payer_id) is not None:
            return [Problem("", 0, "payer_id", "a payer with this EDI id is stored already" + pick)]
    for fee in office.fee_rows:
        row = fee.item
        query = select(FeeSchedule.id).where(
            FeeSchedule.payer_id == payer_id(row.payer),
            FeeSchedule.code == row.code,
            FeeSchedule.effective_from == row.effective_from,
            FeeSchedule.modifier == row.modifier
            if row.modifier is not None
            else col(FeeSchedule.modifier).is_(None),
        )
        if first(query):
            message = "a rate for this payer, code and modifier starts on this day" + pick
            return [Problem("", 0, "effective_from", message)]
    return []


def _refuse(engine: Engine, username: str, entity: str, problems: dict[str, list[str]]) -> NoReturn:
    """Audit the refusal (its fields, not their values) in a transaction of its own; raise."""
    with session_scope(engine) as session:
        append_audit_event(
            session,
            actor=username[:60],
            action="office.edit_refused",
            entity_type=entity,
            details={"via": VIA, "fields": sorted(problems)},
        )
    raise EditRefused(entity, problems)


def _by_field(problems: list[Problem], *, with_line: bool = False) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for problem in sorted(set(problems), key=lambda p: (p.line, p.field)):
        name = problem.field
        if with_line:  # a CSV's problems are by its line: "line 3: code"
            name = f"line {problem.line}" + (f": {problem.field}" if problem.field else "")
        out.setdefault(name, []).append(problem.message)
    return out


def _cleaned(values: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    """Blank text is "not given"; an optional address left wholly blank is no address."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return value.strip() or None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    out = {k: clean(v) for k, v in values.items() if clean(v) is not None}
    for name in (*optional, "address"):
        sub = out.get(name)
        if isinstance(sub, dict) and not any(v is not None for v in sub.values()):
            out.pop(name)
    if isinstance(out.get("connectivity"), dict):
        out["connectivity"] = {k: v for k, v in out["connectivity"].items() if v is not None}
    if "appeal_levels" in out:
        out["appeal_levels"] = [
            {k: v for k, v in level.items() if v is not None}
            for level in out["appeal_levels"]
            if isinstance(level, dict) and any(v is not None for v in level.values())
        ]
    return out
