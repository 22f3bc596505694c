"""ICD-10-CM lookups against the CMS code set shipped by ``simple_icd_10_cm``.

The package parses its ~10 MB tabular XML when imported (about 3 s), so it is
imported lazily on the first lookup, once per process, and answers are cached.

Limitation: simple_icd_10_cm 1.5 ships one code set only, the CMS FY2026 files
with the April 1, 2026 update (valid for dates of service 2026-04-01 through
2026-09-30; FY2027 took effect 2026-10-01). ``change_version`` loads other files
but the package ships no others, so every date of service is checked against
this one set: a code added or deleted on an Oct 1 boundary is judged by the
shipped set. ``ICD10CM_CODE_SET`` names it so callers can record it with a scrub.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from types import ModuleType

# The code set simple_icd_10_cm 1.5.0 ships (code-list-April-2026.txt).
ICD10CM_CODE_SET = "ICD-10-CM FY2026 (CMS April 1, 2026 update)"
# Chapter 20, "External causes of morbidity" (V00-Y99): never a first-listed diagnosis.
_EXTERNAL_CAUSE_CHAPTER = "20"
# CMS guideline I.A.13: manifestation codes say "... in (other) diseases classified
# elsewhere" in their own or their category's title and carry a "code first" note for
# the underlying condition. Manifestations without that wording (D63.0) go unnoticed.
_MANIFESTATION_TITLE = "classified elsewhere"


@dataclass(frozen=True)
class Icd10Code:
    """What the code set says about one code (given without the dot)."""

    exists: bool
    billable: bool = False
    external_cause: bool = False
    manifestation: bool = False


@cache
def _package() -> ModuleType:
    with warnings.catch_warnings():
        # The package reads its data with importlib.resources' deprecated read_text.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm  # slow: parses the CMS tabular XML on import

    return simple_icd_10_cm


@cache
def look_up_icd10cm(code: str) -> Icd10Code:
    """The code set's answer for ``code`` (``E119`` or ``E11.9``; case-insensitive)."""
    cm = _package()
    code = code.strip().upper()
    # Chapters ("4") and blocks ("E08-E13") are valid items of the tree but not codes.
    if not code or not cm.is_valid_item(code) or not cm.is_category_or_subcategory(code):
        return Icd10Code(exists=False)
    ancestors = cm.get_ancestors(code)
    chapter = ancestors[-1] if ancestors else ""
    titles = [
        cm.get_description(c).lower() for c in [code, *ancestors] if not cm.is_chapter_or_block(c)
    ]
    code_first = cm.get_code_first(code, search_in_ancestors=True)
    return Icd10Code(
        exists=True,
        billable=cm.is_leaf(code),
        external_cause=chapter == _EXTERNAL_CAUSE_CHAPTER,
        manifestation=bool(code_first) and any(_MANIFESTATION_TITLE in t for t in titles),
    )
