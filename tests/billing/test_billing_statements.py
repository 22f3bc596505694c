"""Statements: the cycle, the PDF's amounts in the payer's words, the document store."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from claimdesk.billing.statements import (
    list_statements,
    run_statement_cycle,
    statement_pdf,
)
from claimdesk.documents import LocalDocumentStore
from claimdesk.errors import PermissionDenied
from models import AuditEvent, DocumentLink, Patient, PatientStatementLine
from tests.billing.helpers import make_user, pdf_text, posted_claim

AS_OF = date(2026, 11, 10)


def test_statement_shows_each_claim_in_the_payers_words_and_the_amount_due(
    session: Session, tmp_path: Path
) -> None:
    store = LocalDocumentStore(tmp_path / "docs")
    first, _ = posted_claim(session)
    patient = session.get(Patient, first.patient_id)
    second, _ = posted_claim(
        session, patient=patient, charge="80.00", paid="40.00", contractual="15.00",
        pr=(("3", "25.00"),),
    )  # fmt: skip

    [result] = run_statement_cycle(session, as_of=AS_OF, store=store)

    assert result.amount_due == Decimal("75.00")  # 30 + 10 + 10, and 25
    assert set(result.claim_ids) == {first.id, second.id}
    text = pdf_text(
        statement_pdf(session, store=store, statement_id=result.statement_id),
        tmp_path / "out" / "statement.pdf",
    )
    for needed in (
        "PATIENT STATEMENT",
        "$200.00",  # billed
        "-$100.00",  # insurance paid
        "-$50.00",  # contractual adjustment
        "Deductible (PR-1)",
        "$30.00",
        "Coinsurance (PR-2)",
        "Copay (PR-3)",
        "$25.00",
        "AMOUNT DUE: $75.00",
        "How to pay",
        first.patient_control_number,
    ):
        assert needed in text, needed
    assert (tmp_path / "out" / "statement-p1.png").stat().st_size > 1000
    lines = session.exec(
        select(PatientStatementLine).where(PatientStatementLine.statement_id == result.statement_id)
    ).all()
    assert {(line.deductible, line.coinsurance, line.copay) for line in lines} == {
        (Decimal("30.00"), Decimal("10.00"), Decimal("10.00")),
        (Decimal("0.00"), Decimal("0.00"), Decimal("25.00")),
    }
    linked = set(
        session.exec(
            select(DocumentLink.claim_id).where(DocumentLink.document_id == result.document_id)
        ).all()
    )
    assert linked == {first.id, second.id}


def test_statement_cycle_waits_cycle_days_while_the_balance_is_open(
    session: Session, tmp_path: Path
) -> None:
    store = LocalDocumentStore(tmp_path / "docs")
    posted_claim(session)
    assert len(run_statement_cycle(session, as_of=AS_OF, store=store, cycle_days=30)) == 1
    assert run_statement_cycle(session, as_of=AS_OF, store=store) == []  # same day: found
    later = AS_OF + timedelta(days=29)
    assert run_statement_cycle(session, as_of=later, store=store, cycle_days=30) == []
    again = run_statement_cycle(session, as_of=AS_OF + timedelta(days=30), store=store)
    assert len(again) == 1 and again[0].created


def test_statement_listing_is_refused_to_a_disabled_user_and_audited_for_others(
    session: Session,
) -> None:
    disabled = make_user(session, role="specialist")
    disabled.active = False
    with pytest.raises(PermissionDenied):
        list_statements(session, user=disabled)
    assert list_statements(session, user=make_user(session, role="auditor")) == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "statements.viewed")).first()
