"""Code look-up for charge entry: ICD-10-CM and HCPCS by code or words, for a date of service.

The same code sets the scrub judges by (``claimdesk.cms_edits.lookup``,
``claimdesk.rules.core_codes``): the ICD-10-CM fiscal year loaded for the date of service
(``claimdesk codes load``), else the set shipped with ``simple_icd_10_cm``; HCPCS Level
II from the HCPCS file in force on the date, if one is loaded. CPT's words are the
AMA's and licensed: a CPT code is offered and checked by its shape only (5 digits, or
4 digits and F/T/U), plus the codes the payer's fee schedule lists.
"""

from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from claimdesk.rules.icd10cm import ICD10CM_CODE_SET, look_up_icd10cm
from models import FeeSchedule
from models.edit_files import EditDataVersion, HcpcsCode, Icd10cmCode

CPT_SHAPE = re.compile(r"[0-9]{4}[0-9FTU]")
HCPCS_SHAPE = re.compile(r"[A-V][0-9]{4}")
_MAX_WORDS = 6


@dataclass(frozen=True)
class CodeChoice:
    code: str  # without a dot
    words: str  # "" when the code set gives none (CPT)
    source: str  # the code set and version the answer comes from

    @property
    def label(self) -> str:
        shown = _dotted(self.code) if not CPT_SHAPE.fullmatch(self.code) else self.code
        return f"{shown} {self.words}".strip() if self.words else f"{shown} ({self.source})"


def _dotted(code: str) -> str:
    """ICD-10-CM as people write it (E119 → E11.9); HCPCS codes unchanged."""
    if len(code) > 3 and code[0].isalpha() and not HCPCS_SHAPE.fullmatch(code):
        return f"{code[:3]}.{code[3:]}"
    return code


def normal_code(text: str) -> str:
    return text.strip().upper().replace(".", "")


def version_in_force(session: Session, kind: str, on: date) -> EditDataVersion | None:
    """The loaded version of ``kind`` in force on ``on`` (the scrub's choice)."""
    versions = session.exec(select(EditDataVersion).where(EditDataVersion.kind == kind)).all()
    candidates = [
        v
        for v in versions
        if v.effective_from <= on and (v.effective_to is None or on <= v.effective_to)
    ]
    return max(candidates, key=lambda v: (v.effective_from, v.name), default=None)


def _words(text: str) -> list[str]:
    return [w.casefold() for w in text.split()][:_MAX_WORDS]


# --- ICD-10-CM ----------------------------------------------------------------------


_BUILDING = threading.Lock()
_warm_up: threading.Thread | None = None


def warm_up() -> None:
    """Read the shipped ICD-10-CM set in the background, once per process: the first
    look-up would otherwise wait for it (5-10 s on a busy machine)."""
    global _warm_up
    with _BUILDING:
        if _warm_up is not None:
            return
        _warm_up = threading.Thread(target=_shipped_billable, name="icd10cm-load", daemon=True)
    _warm_up.start()


def _shipped_billable() -> tuple[tuple[str, str, str], ...]:
    with _BUILDING:  # a look-up during the warm-up waits for it rather than reading twice
        return _read_shipped()


@cache
def _read_shipped() -> tuple[tuple[str, str, str], ...]:
    """(code, words, words folded) of every billable code of the shipped set."""
    look_up_icd10cm("E119")  # imports the package (slow) the scrub also uses
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

    rows = []
    for code in cm.get_all_codes(False):
        if cm.is_leaf(code) and not cm.is_chapter_or_block(code):
            words = str(cm.get_description(code))
            rows.append((code, words, words.casefold()))
    return tuple(rows)


def look_up_diagnoses(
    session: Session, text: str, *, on: date, limit: int = 25
) -> list[CodeChoice]:
    """Billable ICD-10-CM codes valid on ``on``: the code starts with ``text`` or the words
    contain each of its words."""
    code = normal_code(text)
    words = _words(text)
    if not words:
        return []
    version = version_in_force(session, "icd10cm", on)
    if version is not None:
        query = select(Icd10cmCode).where(
            Icd10cmCode.version_id == version.id, col(Icd10cmCode.billable).is_(True)
        )
        by_words = [func.lower(Icd10cmCode.description).contains(w, autoescape=True) for w in words]
        query = query.where(
            or_(col(Icd10cmCode.code).startswith(code, autoescape=True), and_(*by_words))
        )
        rows = session.exec(query.order_by(col(Icd10cmCode.code)).limit(limit)).all()
        return [CodeChoice(r.code, r.description, version.name) for r in rows]
    found = [
        CodeChoice(c, w, ICD10CM_CODE_SET)
        for c, w, folded in _shipped_billable()
        if c.startswith(code) or all(x in folded for x in words)
    ]
    return found[:limit]


def check_diagnosis(session: Session, text: str, *, on: date) -> str | None:
    """Why ``text`` cannot be a diagnosis on ``on`` (None: it can)."""
    code = normal_code(text)
    version = version_in_force(session, "icd10cm", on)
    if version is not None:
        row = session.exec(
            select(Icd10cmCode).where(
                Icd10cmCode.version_id == version.id, Icd10cmCode.code == code
            )
        ).first()
        if row is None:
            return f"not an ICD-10-CM code in {version.name} (the year of the date of service)"
        return None if row.billable else f"not billable in {version.name}: a more specific code"
    found = look_up_icd10cm(code)
    if not found.exists:
        return f"not an ICD-10-CM code in {ICD10CM_CODE_SET}"
    return None if found.billable else f"not billable in {ICD10CM_CODE_SET}: a more specific code"


# --- HCPCS and CPT ------------------------------------------------------------------


def look_up_procedures(
    session: Session, text: str, *, on: date, payer_id: int | None = None, limit: int = 25
) -> list[CodeChoice]:
    """HCPCS Level II codes valid on ``on`` by code or words; the payer's fee-schedule codes
    by code; a CPT code by its shape."""
    code = normal_code(text)
    words = _words(text)
    if not words:
        return []
    found: dict[str, CodeChoice] = {}
    if CPT_SHAPE.fullmatch(code):
        found[code] = CodeChoice(code, "", "CPT: words not shipped (AMA licence)")
    version = version_in_force(session, "hcpcs", on)
    if version is not None:
        by_words = [
            or_(
                func.lower(HcpcsCode.long_description).contains(w, autoescape=True),
                func.lower(HcpcsCode.short_description).contains(w, autoescape=True),
            )
            for w in words
        ]
        query = select(HcpcsCode).where(
            HcpcsCode.version_id == version.id,
            or_(col(HcpcsCode.code).startswith(code, autoescape=True), and_(*by_words)),
        )
        for r in session.exec(query.order_by(col(HcpcsCode.code)).limit(limit * 2)).all():
            if _hcpcs_reason(r, on, version.name) is None:
                words_of = r.long_description or r.short_description
                found.setdefault(r.code, CodeChoice(r.code, words_of, version.name))
    if payer_id is not None and len(found) < limit:
        listed = session.exec(
            select(FeeSchedule.code)
            .where(
                FeeSchedule.payer_id == payer_id,
                col(FeeSchedule.code).startswith(code, autoescape=True),
            )
            .distinct()
            .order_by(col(FeeSchedule.code))
            .limit(limit)
        ).all()
        for c in listed:
            found.setdefault(c, CodeChoice(c, "", "the payer's fee schedule"))
    return list(found.values())[:limit]


def _hcpcs_reason(row: HcpcsCode, on: date, version: str) -> str | None:
    if row.added is not None and on < row.added:
        return f"added {row.added} in {version}: after the date of service"
    if row.terminated is not None and on > row.terminated:
        return f"terminated after {row.terminated} in {version}"
    return None


def check_procedure(session: Session, text: str, *, on: date) -> str | None:
    """Why ``text`` cannot be a line's procedure code on ``on`` (None: it can)."""
    code = normal_code(text)
    if CPT_SHAPE.fullmatch(code):
        return None  # CPT: its shape is all claimdesk can check
    if not HCPCS_SHAPE.fullmatch(code):
        return "a CPT code (5 digits, or 4 digits and F, T or U) or a HCPCS code (A-V, 4 digits)"
    version = version_in_force(session, "hcpcs", on)
    if version is None:
        return None  # no HCPCS file for the date: the shape check only, as the scrub does
    row = session.exec(
        select(HcpcsCode).where(HcpcsCode.version_id == version.id, HcpcsCode.code == code)
    ).first()
    if row is None:
        return f"not a HCPCS Level II code in {version.name}"
    return _hcpcs_reason(row, on, version.name)
