"""The office from one file: practices, providers, payers, fee schedules and users.

``import_office`` reads the YAML (``office_read``), checks it against itself and
the database, and writes all of it in ONE transaction, or nothing: every problem
is reported with its file, line and field. Rows are matched by natural keys:

=============  ===================================================
section        matched by
=============  ===================================================
practices      NPI
providers      the practice's NPI and the provider's NPI
payers         EDI payer id
fee_schedules  payer, code, modifier, effective_from
users          username
=============  ===================================================

A matched row whose fields differ is updated in place; one that agrees is left
alone, so importing the same file twice reports 0 changes. Every created or
updated row gets an audit event naming the fields, never their values. Rows in
the database that the file does not name are left as they are. The fields a
section manages are the file's to say: one left out takes its default.

Users come in disabled and without a password (none is ever in the file); an
admin sets one with ``claimdesk users set-password``, which enables the account.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, func, select

from claimdesk.errors import ClaimdeskError
from claimdesk.intake.office_read import At, OfficeFile, read_office_file
from claimdesk.intake.office_schema import (
    ConnectivityIn,
    FeeRowIn,
    PayerIn,
    PracticeIn,
    Problem,
    ProviderIn,
    UserIn,
)
from models import FeeSchedule, Payer, Practice, Provider, User, append_audit_event
from models.crud import validated

# The connectivity keys the file owns; any other key (e.g. scrub_rules) is kept as it is.
OWNED_CONNECTIVITY = frozenset({*ConnectivityIn.model_fields, "submission_channel"})
_FILING_INDICATOR = {"medicare": "MB", "medicaid": "MC", "commercial": "CI"}


class OfficeRefused(ClaimdeskError):
    """The file has problems; nothing of it was stored."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(
            f"{file}: {len(problems)} problem(s), nothing was imported; fix them and "
            f"import again:\n{lines}"
        )


@dataclass(frozen=True)
class Change:
    entity: str  # practice, provider, payer, fee_schedule, user
    key: str  # the natural key, e.g. the payer's EDI id
    action: str  # created or updated
    fields: tuple[str, ...]


@dataclass
class OfficeReport:
    file: str
    dry_run: bool
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    # Users of the file who have no password yet (and so cannot sign in).
    users_without_password: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "dry_run": self.dry_run,
            "changes": [asdict(change) for change in self.changes],
            "change_count": len(self.changes),
            "unchanged": self.unchanged,
            "users_without_password": self.users_without_password,
        }


def import_office(
    engine: Engine, path: Path, *, actor: str, dry_run: bool = False, label: str | None = None
) -> OfficeReport:
    """Store the office described by ``path``, all of it or nothing (``OfficeRefused``)."""
    label = label or str(path)
    office, problems = read_office_file(path, label=label)
    with Session(engine, expire_on_commit=False) as session:
        try:
            importer = _Importer(session, office, label, actor, dry_run)
            problems += importer.check_references()
            if problems:
                raise OfficeRefused(label, sorted(set(problems), key=_file_order(label)))
            report = importer.run()
            if dry_run:
                session.rollback()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            raise
    return report


def _file_order(label: str) -> Any:
    return lambda p: (p.file != label, p.file, p.line, p.field)


class _Importer:
    def __init__(
        self,
        session: Session,
        office: OfficeFile,
        label: str,
        actor: str,
        dry_run: bool,
        *,
        via: str = "office import",
    ) -> None:
        self.session = session
        self.office = office
        self.label = label
        self.actor = actor
        self.via = via  # the audit events say where the change came from (the app edits too)
        self.report = OfficeReport(file=label, dry_run=dry_run)

    def run(self) -> OfficeReport:
        """Write the file (its references checked first)."""
        office = self.office
        practice_ids = {at.item.npi: self._practice(at.item) for at in office.practices}
        for at in office.providers:
            npi = self._practice_of(at.item)
            self._provider(at.item, practice_ids.get(npi) or self._existing_practice(npi), npi)
        for payer in office.payers:
            self._payer(payer.item)
        payer_ids = dict(self.session.exec(select(Payer.payer_id, Payer.id)).all())
        for fee in office.fee_rows:
            row = fee.item
            self._upsert(
                FeeSchedule,
                "fee_schedule",
                f"{row.payer} {row.code}{'-' + row.modifier if row.modifier else ''} "
                f"from {row.effective_from.isoformat()}",
                {
                    "payer_id": payer_ids[row.payer],
                    "code": row.code,
                    "modifier": row.modifier,
                    "effective_from": row.effective_from,
                },
                {"effective_to": row.effective_to, "expected_allowed": row.allowed},
            )
        for user in office.users:
            self._user(user.item)
        return self.report

    # --- Checks that need the whole file or the database -----------------------------

    def check_references(self) -> list[Problem]:
        """Duplicates, unknown practices and payers, overlapping fee periods."""
        office = self.office
        problems: list[Problem] = []

        def once(items: list[At[Any]], key: Any, what: str) -> None:
            first: dict[Any, At[Any]] = {}
            for at in items:
                earlier = first.setdefault(key(at.item), at)
                if earlier is not at:
                    message = f"{what} given twice (first at line {earlier.line})"
                    problems.append(Problem(at.file, at.line, at.prefix, message))

        once(office.practices, lambda p: p.npi, "practice NPI")
        once(office.payers, lambda p: p.payer_id, "payer id")
        once(office.users, lambda u: u.username, "username")
        once(office.providers, lambda p: (self._practice_of(p), p.npi), "provider NPI")
        in_file = office.named.get("practices", set())
        for at in office.providers:
            if at.item.practice is None and office.practice_count != 1:
                message = f"give the practice's NPI (the file has {office.practice_count})"
                problems.append(Problem(at.file, at.line, at.field("practice"), message))
            elif (
                at.item.practice is not None
                and at.item.practice not in in_file
                and self._existing_practice(at.item.practice) is None
            ):
                message = "no practice with this NPI, in the file or the database"
                problems.append(Problem(at.file, at.line, at.field("practice"), message))
        known = office.named.get("payers", set())
        known |= set(self.session.exec(select(Payer.payer_id)).all())
        same_code: dict[tuple[str, str, str | None], list[At[FeeRowIn]]] = defaultdict(list)
        for fee in office.fee_rows:
            if fee.item.payer not in known:
                message = (
                    f"no payer {fee.item.payer!r} in the file or the database; add it to payers"
                )
                problems.append(Problem(fee.file, fee.line, fee.field("payer"), message))
            same_code[fee.item.key[:3]].append(fee)
        # One rate per payer, code and modifier on any day: periods must not overlap.
        for rows in same_code.values():
            rows.sort(key=lambda fee: fee.item.effective_from)
            for before, after in itertools.pairwise(rows):
                end = before.item.effective_to
                if end is None or end >= after.item.effective_from:
                    message = (
                        f"overlaps the row at {before.file}:{before.line} "
                        "(same payer, code and modifier)"
                    )
                    problems.append(
                        Problem(after.file, after.line, after.field("effective_from"), message)
                    )
        problems += self._overlaps_in_database(same_code)
        return problems

    def _overlaps_in_database(
        self, same_code: dict[tuple[str, str, str | None], list[At[FeeRowIn]]]
    ) -> list[Problem]:
        """A row whose period overlaps a stored row the file does not name (same code)."""
        problems = []
        payer_ids = dict(self.session.exec(select(Payer.payer_id, Payer.id)).all())
        for (payer, code, modifier), rows in same_code.items():
            if payer not in payer_ids:
                continue
            stored = self.session.exec(
                select(FeeSchedule).where(
                    FeeSchedule.payer_id == payer_ids[payer],
                    FeeSchedule.code == code,
                    FeeSchedule.modifier == modifier
                    if modifier is not None
                    else col(FeeSchedule.modifier).is_(None),
                )
            ).all()
            named = {fee.item.effective_from for fee in rows}  # updated in place, not overlaps
            for fee in rows:
                start, end = fee.item.effective_from, fee.item.effective_to
                for row in stored:
                    if row.effective_from in named:
                        continue
                    if start <= (row.effective_to or date.max) and row.effective_from <= (
                        end or date.max
                    ):
                        until = row.effective_to.isoformat() if row.effective_to else "open"
                        message = (
                            f"overlaps the stored rate from {row.effective_from.isoformat()} "
                            f"to {until} (same payer, code and modifier); end that one first"
                        )
                        where = fee.field("effective_from")
                        problems.append(Problem(fee.file, fee.line, where, message))
        return problems

    def _practice_of(self, provider: ProviderIn) -> str:
        """The provider's practice NPI (the file's one practice when it names none)."""
        if provider.practice is not None:
            return provider.practice
        return self.office.practices[0].item.npi if self.office.practices else ""

    def _existing_practice(self, npi: str) -> int | None:
        return self.session.exec(select(Practice.id).where(Practice.npi == npi)).first()

    # --- Sections --------------------------------------------------------------------

    def _practice(self, p: PracticeIn) -> int:
        data = {
            "name": p.name,
            "tin": p.tin,
            "taxonomy": p.taxonomy,
            **_address_columns(p.address),
            **{
                f"pay_to_{name}": None if value == "" else value
                for name, value in _address_columns(p.pay_to).items()
            },
        }
        row = self._upsert(Practice, "practice", p.npi, {"npi": p.npi}, data)
        assert row.id is not None
        return row.id

    def _provider(self, p: ProviderIn, practice_id: int | None, practice_npi: str) -> None:
        data = {
            "role": p.role,
            "organization_name": p.organization_name,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "taxonomy": p.taxonomy,
            "tin": p.tin,
        }
        where = {"practice_id": practice_id, "npi": p.npi}
        self._upsert(Provider, "provider", f"{practice_npi}/{p.npi}", where, data)

    def _payer(self, p: PayerIn) -> None:
        data: dict[str, Any] = p.model_dump(
            include={
                "name",
                "kind",
                "timely_filing_days",
                "electronic_appeals",
                "accepts_replacement_claims",
                "status_poll_interval_hours",
                "prior_auth_codes",
                "rate_limit_per_s",
                "timeout_s",
                "max_concurrency",
            }
        )
        data["claim_filing_indicator"] = p.claim_filing_indicator or _FILING_INDICATOR[p.kind]
        data["appeal_levels"] = [level.model_dump() for level in p.appeal_levels]
        data.update(_address_columns(p.address))
        connectivity = p.connectivity.model_dump(exclude_none=True, exclude_defaults=True)
        connectivity["submission_channel"] = p.claim_channel
        data["connectivity"] = connectivity
        self._upsert(Payer, "payer", p.payer_id, {"payer_id": p.payer_id}, data)

    def _user(self, u: UserIn) -> None:
        data = {"display_name": u.name, "role": u.role}
        # New accounts: disabled, no password (an empty hash never verifies).
        row = self._upsert(
            User,
            "user",
            u.username,
            {"username": u.username},
            data,
            on_create={"active": False, "password_hash": ""},
        )
        if not row.password_hash:
            self.report.users_without_password.append(u.username)

    # --- The one write path ----------------------------------------------------------

    def _upsert(
        self,
        model: type[SQLModel],
        entity: str,
        key: str,
        where: dict[str, Any],
        data: dict[str, Any],
        *,
        on_create: dict[str, Any] | None = None,
    ) -> Any:
        """The row matching ``where``, created or brought up to ``data``; audited."""
        query: Any = select(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        row: Any = self.session.exec(query).first()
        if row is None:
            row = validated(model, {**where, **data, **(on_create or {})})
            self.session.add(row)
            self.session.flush()
            given = sorted(name for name, value in data.items() if value not in (None, "", [], {}))
            self._record(entity, key, "created", row.id, given)
            return row
        changed: list[str] = []
        new_values: dict[str, Any] = {}
        for name, value in data.items():
            current = getattr(row, name)
            if name == "connectivity":
                merged = {k: v for k, v in current.items() if k not in OWNED_CONNECTIVITY}
                merged.update(value)
                owned = OWNED_CONNECTIVITY & (set(current) | set(merged))
                keys = sorted(k for k in owned if current.get(k) != merged.get(k))
                changed += [f"connectivity.{k}" for k in keys]
                if keys:
                    new_values[name] = merged
            elif current != value:
                changed.append(name)
                new_values[name] = value
        if not changed:
            self.report.unchanged += 1
            return row
        # Validate the row as it will be, then change it in place.
        validated(model, {**row.model_dump(), **new_values})
        for name, value in new_values.items():
            setattr(row, name, value)
        self.session.add(row)
        self.session.flush()
        self._record(entity, key, "updated", row.id, sorted(changed))
        return row

    def _record(self, entity: str, key: str, action: str, row_id: int, fields: list[str]) -> None:
        self.report.changes.append(Change(entity, key, action, tuple(fields)))
        append_audit_event(
            self.session,
            actor=self.actor,
            action=f"{entity}.{action}",
            entity_type=entity,
            entity_id=row_id,
            # Field names only: office data is not PHI, but credential references and
            # amounts need not sit in the trail, and the file says what they are.
            details={
                "via": self.via,
                **({"file": Path(self.label).name} if self.label else {}),
                "fields": fields,
            },
        )


def _address_columns(address: Any) -> dict[str, Any]:
    if address is None:
        return {
            "address_line1": "",
            "address_line2": None,
            "city": "",
            "state": "",
            "postal_code": "",
        }
    return {
        "address_line1": address.line1,
        "address_line2": address.line2,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
    }


# --- What is there ------------------------------------------------------------------------


def list_practices(session: Session) -> list[dict[str, Any]]:
    """Every practice with its providers (office data: no patient data)."""
    out = []
    for practice in session.exec(select(Practice).order_by(col(Practice.name))).all():
        providers = session.exec(
            select(Provider)
            .where(Provider.practice_id == practice.id)
            .order_by(col(Provider.role), col(Provider.npi))
        ).all()
        out.append(
            {
                **practice.model_dump(exclude={"id"}),
                "id": practice.id,
                "providers": [
                    {
                        "npi": p.npi,
                        "role": p.role,
                        "name": p.organization_name
                        or " ".join(n for n in (p.first_name, p.last_name) if n),
                        "taxonomy": p.taxonomy,
                    }
                    for p in providers
                ],
            }
        )
    return out


def list_payers(session: Session) -> list[dict[str, Any]]:
    """Every payer with its rules and connectivity (credential references, never secrets)."""
    counts = dict(
        session.exec(
            select(FeeSchedule.payer_id, func.count()).group_by(col(FeeSchedule.payer_id))
        ).all()
    )
    return [
        {
            "payer_id": payer.payer_id,
            "name": payer.name,
            "kind": payer.kind,
            "claim_channel": payer.connectivity.get("submission_channel") or "electronic",
            "claim_filing_indicator": payer.claim_filing_indicator,
            "timely_filing_days": payer.timely_filing_days,
            "status_poll_interval_hours": payer.status_poll_interval_hours,
            "electronic_appeals": payer.electronic_appeals,
            "accepts_replacement_claims": payer.accepts_replacement_claims,
            "appeal_levels": payer.appeal_levels,
            "prior_auth_codes": payer.prior_auth_codes,
            "connectivity": payer.connectivity,
            "fee_schedule_rows": counts.get(payer.id or 0, 0),
        }
        for payer in session.exec(select(Payer).order_by(col(Payer.payer_id))).all()
    ]
