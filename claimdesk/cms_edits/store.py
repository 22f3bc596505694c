"""Load one of CMS's edit files into the database: all of it or nothing, each file once.

    with session_scope(engine) as session:
        report = load_edit_file(session, "ncci-ptp", Path("ccipra-v322r0-f1.zip"), actor="cli:ann")

The file may be CMS's zip (the one text file inside it is read) or the text file itself.
Its version (name, effective dates, part) comes from the file name unless given; the
same bytes loaded again change nothing, and a second file cannot take a part of a
version that another file already holds (a corrected file gets a version of its own).
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from claimdesk.rules.cms_codesets import parse_hcpcs, parse_icd10cm
from claimdesk.rules.cms_files import (
    EDIT_KINDS,
    EditFileError,
    EditKind,
    FileVersion,
    decode,
    fiscal_year,
    icd10cm_version,
    setting_named,
    version_from_name,
)
from claimdesk.rules.cms_ncci import parse_mue, parse_ptp
from models import append_audit_event
from models.edit_files import (
    EditDataFile,
    EditDataVersion,
    HcpcsCode,
    Icd10cmCode,
    MueEdit,
    NcciPtpEdit,
)

# Rows per INSERT: a full PTP part holds ~450,000 edits.
_CHUNK = 5000
# The member a CMS zip holds for each kind (the rest are PDFs, spreadsheets, notes).
_MEMBER_ENDINGS: dict[str, tuple[str, ...]] = {
    "ncci-ptp": (".txt",),
    "mue": (".csv", ".txt"),
    "hcpcs": (".txt",),
    "icd10cm": (".txt",),
}


@dataclass(frozen=True)
class LoadReport:
    kind: str
    version: str
    setting: str
    part: str
    file: str
    sha256: str
    rows: int
    effective_from: date
    effective_to: date | None
    already_loaded: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_edit_file(kind: EditKind, path: Path) -> tuple[str, bytes]:
    """(file name, bytes) of the file, or of the one text file inside CMS's zip."""
    if not path.is_file():
        raise EditFileError(kind, str(path), None, "no such file")
    if not zipfile.is_zipfile(path):
        return path.name, path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        members = [
            m
            for m in archive.namelist()
            if m.lower().endswith(_MEMBER_ENDINGS[kind]) and "readme" not in m.lower()
        ]
        if kind == "icd10cm" and any("order" in m.lower() for m in members):
            members = [m for m in members if "order" in m.lower()]
        if len(members) != 1:
            found = ", ".join(members) or "none"
            raise EditFileError(
                kind,
                path.name,
                None,
                f"the zip holds {len(members)} {kind} text files "
                f"({found}); unzip it and load the one meant",
            )
        return Path(members[0]).name, archive.read(members[0])


def file_version(
    kind: EditKind,
    file_name: str,
    *,
    name: str | None = None,
    effective: date | None = None,
    fy: int | None = None,
    setting: str | None = None,
) -> FileVersion:
    """The version ``file_name`` belongs to, with what the caller gave taking precedence."""
    derived = version_from_name(kind, file_name)
    if kind == "icd10cm" and (fy is not None or effective is not None):
        try:
            version = icd10cm_version(fy or fiscal_year(effective or date.min), effective)
        except ValueError as exc:
            raise EditFileError(kind, file_name, None, str(exc)) from None
    elif derived is None and effective is None:
        raise EditFileError(
            kind,
            file_name,
            None,
            "the file name does not say which version it is; give --version NAME and "
            "--effective YYYY-MM-DD" + (" (or --fiscal-year)" if kind == "icd10cm" else ""),
        )
    elif derived is None:
        assert effective is not None
        version = FileVersion(name=f"{kind} {effective.isoformat()}", effective_from=effective)
    else:
        version = replace(derived, effective_from=effective or derived.effective_from)
    if kind in ("ncci-ptp", "mue"):
        version = replace(version, setting=setting_named(setting or version.setting or ""))
    return replace(version, name=name) if name else version


def load_edit_file(
    session: Session,
    kind: str,
    path: Path,
    *,
    actor: str,
    name: str | None = None,
    effective: date | None = None,
    fy: int | None = None,
    setting: str | None = None,
) -> LoadReport:
    """Store the file's rows under its version in the caller's transaction (flushed, not
    committed); nothing if these bytes are already loaded. A file that fails to read
    leaves nothing behind: its rows go in under a savepoint."""
    if kind not in EDIT_KINDS:
        raise EditFileError(kind, str(path), None, f"unknown kind; use one of {EDIT_KINDS}")
    edit_kind: EditKind = kind
    file_name, data = read_edit_file(edit_kind, path)
    digest = hashlib.sha256(data).hexdigest()
    # The same bytes under any name or version: already there, nothing to do.
    seen = session.exec(
        select(EditDataFile).where(EditDataFile.kind == kind, EditDataFile.sha256 == digest)
    ).first()
    if seen is not None:
        held = session.get(EditDataVersion, seen.version_id)
        assert held is not None
        return _report(held, seen.part, file_name, digest, seen.rows, again=True)
    version = file_version(
        edit_kind, file_name, name=name, effective=effective, fy=fy, setting=setting
    )
    try:
        with session.begin_nested():
            return _load(session, edit_kind, version, file_name, digest, decode(data), actor)
    except IntegrityError:
        raise EditFileError(
            kind,
            file_name,
            None,
            "another load of this file or version ran at the same time; run the load "
            "again (a file already loaded changes nothing)",
        ) from None


def _load(
    session: Session,
    kind: EditKind,
    version: FileVersion,
    file_name: str,
    digest: str,
    lines: list[str],
    actor: str,
) -> LoadReport:
    row = session.exec(
        select(EditDataVersion).where(
            EditDataVersion.kind == kind, EditDataVersion.name == version.name
        )
    ).first()
    if row is None:
        row = EditDataVersion(
            kind=kind,
            name=version.name,
            setting=version.setting,
            effective_from=version.effective_from,
            effective_to=version.effective_to,
        )
        session.add(row)
        session.flush()
    elif (row.effective_from, row.effective_to, row.setting) != (
        version.effective_from,
        version.effective_to,
        version.setting,
    ):
        raise EditFileError(
            kind,
            file_name,
            None,
            f"version {row.name!r} is loaded as {row.setting or 'all'} "
            f"from {row.effective_from}; this file says {version.setting or 'all'} from "
            f"{version.effective_from}: give it its own --version",
        )
    taken = session.exec(
        select(EditDataFile).where(
            EditDataFile.version_id == row.id, EditDataFile.part == version.part
        )
    ).first()
    if taken is not None:
        raise EditFileError(
            kind,
            file_name,
            None,
            f"{('part ' + version.part) if version.part else 'version'} "
            f"of {row.name!r} is already loaded from {taken.file_name} (other content); "
            "a corrected file needs its own --version",
        )
    assert row.id is not None
    stored = EditDataFile(
        version_id=row.id,
        kind=kind,
        part=version.part,
        file_name=file_name[:255],
        sha256=digest,
        loaded_by=actor[:60],
    )
    session.add(stored)
    session.flush()
    stored.rows = _insert(session, kind, row.id, lines, file_name)
    session.add(stored)
    append_audit_event(
        session,
        actor=actor,
        action="edit_file.loaded",
        entity_type="edit_data_version",
        entity_id=row.id,
        details={
            "kind": kind,
            "version": row.name,
            "part": version.part,
            "file": file_name,
            "sha256": digest,
            "rows": stored.rows,
        },
    )
    return _report(row, version.part, file_name, digest, stored.rows, again=False)


def _report(
    row: EditDataVersion, part: str, file_name: str, digest: str, rows: int, *, again: bool
) -> LoadReport:
    return LoadReport(
        kind=row.kind,
        version=row.name,
        setting=row.setting,
        part=part,
        file=file_name,
        sha256=digest,
        rows=rows,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        already_loaded=again,
    )


def _insert(session: Session, kind: EditKind, version_id: int, lines: list[str], file: str) -> int:
    table, make = _ROWS[kind]
    rows = make(lines, file, version_id)
    count = 0
    while chunk := list(islice(rows, _CHUNK)):
        # Core INSERT on the session's connection: a third of the ORM's time per row.
        session.connection().execute(insert(table), chunk)
        count += len(chunk)
    return count


def _ptp(lines: list[str], file: str, version_id: int) -> Iterator[dict[str, Any]]:
    for r in parse_ptp(lines, file=file):
        yield {
            "version_id": version_id,
            "column1": r.column1,
            "column2": r.column2,
            "prior_to_1996": r.prior_to_1996,
            "effective": r.effective,
            "deletion": r.deletion,
            "modifier_indicator": r.modifier_indicator,
            "rationale": r.rationale[:200],
        }


def _mue(lines: list[str], file: str, version_id: int) -> Iterator[dict[str, Any]]:
    for r in parse_mue(lines, file=file):
        yield {
            "version_id": version_id,
            "code": r.code,
            "units": r.units,
            "adjudication": r.adjudication,
            "rationale": r.rationale[:200],
        }


def _hcpcs(lines: list[str], file: str, version_id: int) -> Iterator[dict[str, Any]]:
    for r in parse_hcpcs(lines, file=file):
        yield {
            "version_id": version_id,
            "code": r.code,
            "short_description": r.short_description[:40],
            "long_description": r.long_description[:2000],
            "added": r.added,
            "action_effective": r.action_effective,
            "terminated": r.terminated,
        }


def _icd10cm(lines: list[str], file: str, version_id: int) -> Iterator[dict[str, Any]]:
    for r in parse_icd10cm(lines, file=file):
        yield {
            "version_id": version_id,
            "code": r.code,
            "billable": r.billable,
            "description": r.description[:400],
        }


_Rows = Callable[[list[str], str, int], Iterator[dict[str, Any]]]
# Each kind's table and the rows its parser gives.
_ROWS: dict[str, tuple[Any, _Rows]] = {
    "ncci-ptp": (NcciPtpEdit.__table__, _ptp),  # type: ignore[attr-defined]
    "mue": (MueEdit.__table__, _mue),  # type: ignore[attr-defined]
    "hcpcs": (HcpcsCode.__table__, _hcpcs),  # type: ignore[attr-defined]
    "icd10cm": (Icd10cmCode.__table__, _icd10cm),  # type: ignore[attr-defined]
}


def list_versions(session: Session) -> list[dict[str, Any]]:
    """Every loaded version, newest first within its kind, with its files."""
    versions = session.exec(select(EditDataVersion)).all()
    files = session.exec(select(EditDataFile)).all()
    out: list[dict[str, Any]] = []
    for v in sorted(versions, key=lambda v: (v.kind, v.setting, v.effective_from, v.name)):
        parts = sorted((f for f in files if f.version_id == v.id), key=lambda f: f.part)
        out.append(
            {
                "kind": v.kind,
                "version": v.name,
                "setting": v.setting or None,
                "effective_from": v.effective_from.isoformat(),
                "effective_to": v.effective_to.isoformat() if v.effective_to else None,
                "files": [
                    {"part": f.part or None, "file": f.file_name, "rows": f.rows} for f in parts
                ],
                "rows": sum(f.rows for f in parts),
            }
        )
    return out
