"""Statements print names and addresses as written; one that cannot be made stops no other."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from claimdesk.billing.statements import run_statement_cycle, statement_pdf
from claimdesk.documents import LocalDocumentStore, StoredObject
from claimdesk.pdf_fonts import fallback_font, unicode_family
from models import AuditEvent, Patient, PatientStatement
from tests.billing.helpers import pdf_text, posted_claim

AS_OF = date(2026, 11, 10)
# (first, last, street, city) as people write them.
PEOPLE = {
    "Spanish": ("José", "Nuñez Peña", "Calle Añil 12", "Logroño"),
    "Polish": ("Łukasz", "Wiśniewski", "ul. Żółkiewskiego 3", "Łódź"),
    "Icelandic": ("Sigurður", "Þórsson", "Þórsgata 5", "Reykjavík"),
    "Chinese": ("小明", "王", "长安街 1号", "北京"),
}


def _name(session: Session, patient_id: int, language: str) -> None:
    first, last, street, city = PEOPLE[language]
    patient = session.get(Patient, patient_id)
    assert patient is not None
    patient.first_name, patient.last_name = first, last
    patient.address_line1, patient.city = street, city
    session.add(patient)
    session.flush()


@pytest.mark.skipif(
    unicode_family() is None or fallback_font() is None,
    reason="needs fonts-dejavu-core and fonts-droid-fallback (.ci/run installs them)",
)
@pytest.mark.parametrize("language", list(PEOPLE))
def test_statement_pdf_shows_the_name_and_address_as_written(
    session: Session, tmp_path: Path, language: str
) -> None:
    store = LocalDocumentStore(tmp_path / "docs")
    claim, _ = posted_claim(session)
    _name(session, claim.patient_id, language)

    [result] = run_statement_cycle(session, as_of=AS_OF, store=store)

    text = pdf_text(
        statement_pdf(session, store=store, statement_id=result.statement_id),
        tmp_path / "out" / f"statement-{language}.pdf",
    )
    first, last, street, city = PEOPLE[language]
    assert f"{first} {last}" in text
    assert street in text and city in text
    patient = session.get(Patient, claim.patient_id)
    assert patient is not None and (patient.first_name, patient.last_name) == (first, last)


class _FullDisk(LocalDocumentStore):
    """A real local store whose disk fills up for one write (then frees again)."""

    def __init__(self, root: Path, fail_on: int) -> None:
        super().__init__(root)
        self.writes = 0
        self.fail_on = fail_on

    def put(self, data: bytes, *, content_type: str) -> StoredObject:
        self.writes += 1
        if self.writes == self.fail_on:
            raise OSError(28, "No space left on device")
        return super().put(data, content_type=content_type)


def test_one_statement_that_cannot_be_made_is_skipped_and_audited_the_others_are_made(
    session: Session, tmp_path: Path
) -> None:
    claims = [posted_claim(session)[0] for _ in range(3)]
    _name(session, claims[0].patient_id, "Polish")
    store = _FullDisk(tmp_path / "docs", fail_on=2)

    results = run_statement_cycle(session, as_of=AS_OF, store=store)

    made = {r.patient_id for r in results}
    assert len(made) == 2 and made < {c.patient_id for c in claims}
    [skipped] = set(c.patient_id for c in claims) - made
    assert (
        session.exec(select(PatientStatement).where(PatientStatement.patient_id == skipped)).all()
        == []
    )  # rolled back alone: no statement row without its PDF
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "statement.skipped")).all()
    assert event.details == {
        "patient_id": skipped,
        "statement_date": AS_OF.isoformat(),
        "error": "OSError",
    }
    # The next run makes the one that was skipped.
    again = run_statement_cycle(session, as_of=AS_OF, store=store)
    assert [r.patient_id for r in again] == [skipped]
