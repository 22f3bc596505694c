"""Diagnoses and procedures that fit one sex or an age range, as a small table with sources.

Not the whole Medicare Code Editor (MCE): the code ranges below are whole ICD-10-CM
chapters, blocks or categories whose titles name the sex or age (public-domain ICD-10-CM
tabular list, NCHS), with the MCE's age categories for their ranges — newborn: age 0;
pediatric: 0–17; maternity: 9–64 (older MCE versions used 12–55); adult: 15–124. The
procedures are HCPCS Level II codes whose descriptors name a sex (CMS's public HCPCS file).

A code matches an entry when its first three characters fall in one of the entry's
ranges (``O00``–``O9A`` takes ``O80`` and ``O9A13``) or it starts with one of its prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Sex = Literal["F", "M"]


@dataclass(frozen=True)
class CodeEdit:
    what: str
    source: str
    ranges: tuple[tuple[str, str], ...] = ()
    prefixes: tuple[str, ...] = ()
    sex: Sex | None = None
    ages: tuple[int, int] | None = None

    def matches(self, code: str) -> bool:
        return any(lo <= code[:3] <= hi for lo, hi in self.ranges) or code.startswith(self.prefixes)


_CHAPTER_15 = "ICD-10-CM chapter 15 (O00-O9A); MCE maternity ages 9-64"
_MATERNITY = (9, 64)

DIAGNOSIS_EDITS: tuple[CodeEdit, ...] = (
    CodeEdit(
        "pregnancy, childbirth and the puerperium",
        _CHAPTER_15,
        ranges=(("O00", "O9A"),),
        sex="F",
        ages=_MATERNITY,
    ),
    CodeEdit(
        "a pregnancy encounter (pregnant state, supervision, screening, outcome, weeks)",
        "ICD-10-CM Z33, Z34, Z36, Z37, Z39, Z3A; MCE maternity ages 9-64",
        prefixes=("Z33", "Z34", "Z36", "Z37", "Z39", "Z3A"),
        sex="F",
        ages=_MATERNITY,
    ),
    CodeEdit(
        "diseases of the female genital organs",
        "ICD-10-CM blocks N70-N77 and N80-N98",
        ranges=(("N70", "N98"),),
        sex="F",
    ),
    CodeEdit(
        "a neoplasm of the female genital organs",
        "ICD-10-CM C51-C58 (malignant), D06 (in situ, cervix), D25-D28 (benign)",
        ranges=(("C51", "C58"), ("D25", "D28")),
        prefixes=("D06",),
        sex="F",
    ),
    CodeEdit(
        "diseases of the male genital organs",
        "ICD-10-CM block N40-N53",
        ranges=(("N40", "N53"),),
        sex="M",
    ),
    CodeEdit(
        "a neoplasm of the male genital organs",
        "ICD-10-CM C60-C63 (malignant), D29 (benign)",
        ranges=(("C60", "C63"),),
        prefixes=("D29",),
        sex="M",
    ),
    CodeEdit(
        "screening for a malignant neoplasm of the prostate",
        "ICD-10-CM Z12.5",
        prefixes=("Z125",),
        sex="M",
    ),
    CodeEdit(
        "a newborn (liveborn infant, newborn health examination)",
        "ICD-10-CM Z38, Z00.11; MCE newborn age 0",
        prefixes=("Z38", "Z0011"),
        ages=(0, 0),
    ),
    CodeEdit(
        "a routine child health examination",
        "ICD-10-CM Z00.12; MCE pediatric ages 0-17",
        prefixes=("Z0012",),
        ages=(0, 17),
    ),
)

PROCEDURE_EDITS: tuple[CodeEdit, ...] = (
    CodeEdit(
        "cervical or vaginal cancer screening",
        "HCPCS Level II G0101, G0123, G0124, P3000, P3001, Q0091",
        prefixes=("G0101", "G0123", "G0124", "P3000", "P3001", "Q0091"),
        sex="F",
    ),
    CodeEdit(
        "prostate cancer screening",
        "HCPCS Level II G0102, G0103",
        prefixes=("G0102", "G0103"),
        sex="M",
    ),
)

# CMS's instruction for a sex-specific service to a patient whose recorded sex differs
# (a transgender patient, for one): modifier KX on the professional claim's line.
SEX_EDIT_OVERRIDE_MODIFIER = "KX"


def diagnosis_edits(code: str) -> tuple[CodeEdit, ...]:
    return tuple(e for e in DIAGNOSIS_EDITS if e.matches(code))


def procedure_edits(code: str) -> tuple[CodeEdit, ...]:
    return tuple(e for e in PROCEDURE_EDITS if e.matches(code))


def age_in_years(born: date, on: date) -> int:
    """Whole years from ``born`` to ``on`` (a birthday counts on its day)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
