"""The CMS edit data in force on a claim's dates of service, for the scrub's snapshot.

For each kind, the version in force on a date is the one with the latest effective date
on or before it whose end (if it has one) is not before it; a later release of the same
quarter (``r1`` after ``r0``) wins a tie. NCCI files are per setting: a professional
claim reads the practitioner files, an institutional one the outpatient hospital files.
Within a PTP version each edit also has its own dates: it applies from its effective
date and no longer on and after its deletion date; indicator 9 edits never apply.

A fixed number of queries per claim: the versions, then one per version in force.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from claimdesk.rules.edit_data import EditData, HcpcsEntry, Icd10Entry, MueLimit, PtpEdit
from models.edit_files import EditDataVersion, HcpcsCode, Icd10cmCode, MueEdit, NcciPtpEdit

# HCPCS Level II codes the HCPCS file answers for (CPT is licensed and never loaded).
_LEVEL_II = re.compile(r"[ABCEGHJKLMPQRSTUV][0-9]{4}")
_SETTING_FOR_CLAIM = {"P": "practitioner", "I": "outpatient hospital"}


def _in_force(versions: Sequence[EditDataVersion], on: date) -> EditDataVersion | None:
    candidates = [
        v
        for v in versions
        if v.effective_from <= on and (v.effective_to is None or on <= v.effective_to)
    ]
    return max(candidates, key=lambda v: (v.effective_from, v.name), default=None)


def edit_data_for(
    session: Session,
    *,
    claim_kind: str,
    services: Sequence[tuple[date, str]],
    diagnosis_codes: Sequence[str],
    diagnoses_on: date,
) -> EditData:
    """The edit rows about these (date of service, procedure code) and diagnosis codes."""
    by_kind: dict[str, list[EditDataVersion]] = defaultdict(list)
    setting = _SETTING_FOR_CLAIM.get(claim_kind, "practitioner")
    for version in session.exec(select(EditDataVersion)).all():
        if version.kind in ("ncci-ptp", "mue") and version.setting != setting:
            continue
        by_kind[version.kind].append(version)
    codes_on: dict[date, set[str]] = defaultdict(set)
    for on, code in services:
        codes_on[on].add(code)
    used: dict[str, set[str]] = defaultdict(set)

    def dates_per_version(kind: str) -> dict[int, tuple[EditDataVersion, list[date]]]:
        grouped: dict[int, tuple[EditDataVersion, list[date]]] = {}
        for on in sorted(codes_on):
            version = _in_force(by_kind[kind], on)
            if version is not None and version.id is not None:
                grouped.setdefault(version.id, (version, []))[1].append(on)
                used[kind].add(version.name)
        return grouped

    ptp: list[PtpEdit] = []
    for version, dates in dates_per_version("ncci-ptp").values():
        codes = set().union(*(codes_on[d] for d in dates))
        if len(codes) < 2:
            continue
        rows = session.exec(
            select(NcciPtpEdit).where(
                NcciPtpEdit.version_id == version.id,
                col(NcciPtpEdit.column1).in_(codes),
                col(NcciPtpEdit.column2).in_(codes),
                NcciPtpEdit.modifier_indicator != "9",
            )
        ).all()
        for on in dates:
            ptp.extend(_ptp_on(rows, on, codes_on[on], version.name))

    mue: list[MueLimit] = []
    for version, dates in dates_per_version("mue").values():
        codes = set().union(*(codes_on[d] for d in dates))
        limits = {
            r.code: r
            for r in session.exec(
                select(MueEdit).where(
                    MueEdit.version_id == version.id, col(MueEdit.code).in_(codes)
                )
            ).all()
        }
        for on in dates:
            for code in sorted(codes_on[on] & limits.keys()):
                r = limits[code]
                mue.append(
                    MueLimit(
                        service_date=on,
                        code=code,
                        units=r.units,
                        adjudication=r.adjudication,
                        rationale=r.rationale,
                        version=version.name,
                    )
                )

    hcpcs: list[HcpcsEntry] = []
    for version, dates in dates_per_version("hcpcs").values():
        codes = {c for d in dates for c in codes_on[d] if _LEVEL_II.fullmatch(c)}
        if not codes:
            continue
        listed = {
            r.code: r
            for r in session.exec(
                select(HcpcsCode).where(
                    HcpcsCode.version_id == version.id, col(HcpcsCode.code).in_(codes)
                )
            ).all()
        }
        for on in dates:
            for code in sorted(c for c in codes_on[on] if c in codes):
                found = listed.get(code)
                hcpcs.append(
                    HcpcsEntry(
                        service_date=on,
                        code=code,
                        listed=found is not None,
                        added=found.added if found else None,
                        terminated=found.terminated if found else None,
                        version=version.name,
                    )
                )

    icd_version = _in_force(by_kind["icd10cm"], diagnoses_on)
    icd: list[Icd10Entry] = []
    if icd_version is not None and diagnosis_codes:
        used["icd10cm"].add(icd_version.name)
        known = {
            r.code: r.billable
            for r in session.exec(
                select(Icd10cmCode).where(
                    Icd10cmCode.version_id == icd_version.id,
                    col(Icd10cmCode.code).in_(set(diagnosis_codes)),
                )
            ).all()
        }
        icd = [
            Icd10Entry(code=c, listed=c in known, billable=known.get(c, False))
            for c in sorted(set(diagnosis_codes))
        ]
    return EditData(
        ptp=tuple(ptp),
        mue=tuple(mue),
        hcpcs=tuple(hcpcs),
        icd10cm_version=icd_version.name if icd_version is not None else None,
        icd10cm=tuple(icd),
        versions={kind: tuple(sorted(names)) for kind, names in used.items()},
    )


def _ptp_on(rows: Sequence[NcciPtpEdit], on: date, codes: set[str], version: str) -> list[PtpEdit]:
    """The edits among ``codes`` in force on ``on`` (the latest row of a pair if several)."""
    latest: dict[tuple[str, str], NcciPtpEdit] = {}
    for r in rows:
        if r.column1 not in codes or r.column2 not in codes:
            continue
        if r.effective > on or (r.deletion is not None and on >= r.deletion):
            continue
        key = (r.column1, r.column2)
        if key not in latest or r.effective > latest[key].effective:
            latest[key] = r
    return [
        PtpEdit(
            service_date=on,
            column1=r.column1,
            column2=r.column2,
            modifier_indicator=r.modifier_indicator,
            rationale=r.rationale,
            version=version,
        )
        for _, r in sorted(latest.items())
    ]
