"""Finding a practice's patients by name (any alphabet), account number or member id.

Names are stored as given ("Nuñez", "Wałęsa", "Guðrún", "王小明"); a search folds both
sides the same way, so "nunez", "NUÑEZ" and "Nunez" find the same person: Unicode case
folding and canonical decomposition without accents, and, for letters with no ASCII
decomposition (ł, ð, ø, CJK), their transliteration (``anyascii``) as a second spelling.
Every word of the query must be in the patient's name (last and first, either order).

The folding runs in Python over the practice's names (ids and names only are read):
SQLite's ``lower()`` folds ASCII only, and a few thousand patients take milliseconds.
No permission is checked here: the callers (charge entry, the search page) do, and
audit what they show.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from anyascii import anyascii
from sqlmodel import Session, col, select

from models import Coverage, Patient

FindBy = Literal["name", "account", "member_id"]
MAX_QUERY = 80


def fold(text: str) -> str:
    """``text`` lower-cased, without accents: "Núñez" → "nunez", "ŁUKASZ" → "łukasz"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFC", bare).split())


def spellings(text: str) -> tuple[str, ...]:
    """The folded text and its ASCII transliteration (when that differs)."""
    folded = fold(text)
    ascii_form = " ".join(anyascii(folded).casefold().split())
    return (folded,) if ascii_form == folded else (folded, ascii_form)


def name_matches(query: str, last_name: str, first_name: str) -> bool:
    """Whether every word of ``query`` is in the name (any of its spellings)."""
    words = [spellings(w) for w in query.split()]
    if not words:
        return False
    written = spellings(f"{last_name} {first_name}")
    # A word matches inside the name, also across its parts: "王小明" is 王 and 小明.
    names = (*written, *(n.replace(" ", "") for n in written))
    return all(any(w in n for w in forms for n in names) for forms in words)


def find_patient_ids(
    session: Session,
    query: str,
    *,
    by: FindBy,
    limit: int = 50,
) -> list[int]:
    """Patient ids matching ``query`` (name: every word; account/member id: exact, any case)."""
    text = " ".join(query.split())[:MAX_QUERY]
    if not text:
        return []
    if by == "name":
        rows = select(Patient.id, Patient.last_name, Patient.first_name)
        found = [
            pid
            for pid, last, first in session.exec(rows.order_by(col(Patient.id))).all()
            if pid is not None and name_matches(text, last, first)
        ]
        return found[:limit]
    if by == "account":
        ids = select(Patient.id).where(col(Patient.account_number).in_({text, text.upper()}))
    else:
        ids = (
            select(Patient.id)
            .join(Coverage, col(Coverage.patient_id) == col(Patient.id))
            .where(col(Coverage.member_id).in_({text, text.upper()}))
            .distinct()
        )
    return [pid for pid in session.exec(ids.order_by(col(Patient.id)).limit(limit)).all() if pid]
