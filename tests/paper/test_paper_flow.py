"""A paper claim's way: printed → sent → paper EOB posted by hand → paid, the ledger whole."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from claimdesk.claims.ledger import check_ledger_identity, claim_balance
from claimdesk.claims.moves import set_claim_status
from claimdesk.db import make_engine, session_scope
from claimdesk.documents import make_document_store
from claimdesk.migrate import upgrade_database
from claimdesk.remittance.paper_eob import submit_paper_eob
from claimdesk.settings import Settings
from claimdesk.submission.paper import print_paper_claims
from claimdesk.submission.service import queued_batches
from models import AuditEvent, Claim, ClaimPayment, Document, DocumentLink, Remittance
from tests.factories import make_claim
from tests.paper.conftest import TODAY, make_paper_world, make_user, paper_claim


def eob_for(payer_id: int, claim_id: int, check: str = "CHK7001") -> dict[str, Any]:
    """Two lines (100 + 110 billed): 80 + 90 paid, CO-45 write-offs, PR-2 coinsurance."""
    return {
        "payer_id": payer_id,
        "check_number": check,
        "payment_date": "2026-11-18",
        "total": "170.00",
        "claims": [
            {
                "claim_id": claim_id,
                "payer_claim_number": "PM-884",
                "paid": "170.00",
                "patient_responsibility": "25.00",
                "lines": [
                    {
                        "line_number": 1,
                        "paid": "80.00",
                        "allowed": "95.00",
                        "adjustments": [
                            {"group": "CO", "carc": "45", "amount": "5.00"},
                            {"group": "PR", "carc": "2", "amount": "15.00"},
                        ],
                        "remark_codes": ["N130"],
                    },
                    {
                        "line_number": 2,
                        "paid": "90.00",
                        "adjustments": [
                            {"group": "CO", "carc": "45", "amount": "10.00"},
                            {"group": "PR", "carc": "2", "amount": "10.00"},
                        ],
                    },
                ],
            }
        ],
    }


def test_paper_claim_prints_sends_and_is_paid_from_a_paper_eob(fresh_settings: Settings) -> None:
    settings = fresh_settings
    engine = make_engine(settings)
    upgrade_database(engine)
    store = make_document_store(settings)
    with session_scope(engine) as session:
        world = make_paper_world(session)
        claim = paper_claim(session, world, lines=2)
        electronic = make_claim(session, practice=world.practice, status="queued")
        make_user(session, "sam.spec", "specialist")
        claim_id, payer_id = claim.id or 0, world.payer.id or 0
    with Session(engine) as session:
        # The 837 batching leaves the paper payer's claim alone and still takes the other.
        batched = {c for _, claims in queued_batches(session) for c, _ in claims}
        assert claim_id not in batched and electronic.id in batched

    run = print_paper_claims(engine, settings, today=TODAY, store=store)
    assert [(p.claim_id, p.version, p.pages) for p in run.printed] == [(claim_id, 1, 1)]
    assert print_paper_claims(engine, settings, today=TODAY, store=store).printed == []
    with Session(engine) as session:
        left = session.get(Claim, electronic.id)
        assert left is not None and left.status == "queued"  # the 837 path's, not paper's

    with Session(engine) as session:
        sent = session.get(Claim, claim_id)
        assert sent is not None and sent.status == "sent"
        (document,) = session.exec(
            select(Document)
            .join(DocumentLink, col(DocumentLink.document_id) == col(Document.id))
            .where(DocumentLink.claim_id == claim_id)
        ).all()
        assert document.kind == "cms1500" and document.id == run.printed[0].document_id
        pdf = store.get(document.storage_key, sha256=document.sha256)
        assert pdf.startswith(b"%PDF")
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.claim_id == claim_id)
        ).all()
        assert "claim.printed" in actions and "claim.status_changed" in actions

    report = submit_paper_eob(
        engine, username="sam.spec", data=json.dumps(eob_for(payer_id, claim_id)), store=store
    )
    assert report.outcomes == ("posted",) and report.claim_ids == (claim_id,)
    with Session(engine) as session:
        paid = session.get(Claim, claim_id)
        assert paid is not None and paid.status == "paid"
        assert paid.payer_claim_number == "PM-884"
        assert check_ledger_identity(session, claim_id)
        balance = claim_balance(session, claim_id)
        assert balance.paid_by_payers == Decimal("170.00")
        assert balance.contractual == Decimal("15.00")  # CO-45 on both lines
        assert (balance.insurance_balance, balance.patient_balance) == (0, Decimal("25.00"))
        remittance = session.exec(select(Remittance).where(Remittance.payer_id == payer_id)).one()
        assert remittance.trace_number == "CHK7001" and remittance.amount == Decimal("170.00")
        assert remittance.document_id is not None
        entry = session.get(Document, remittance.document_id)
        assert entry is not None and entry.kind == "paper_eob"
        assert json.loads(store.get(entry.storage_key, sha256=entry.sha256))["check_number"] == (
            "CHK7001"
        )
        posted_by = session.exec(
            select(AuditEvent.actor).where(AuditEvent.action == "paper_eob.posted")
        ).one()
        assert posted_by == "sam.spec"

    # Entering the same EOB again posts nothing twice.
    again = submit_paper_eob(
        engine, username="sam.spec", data=json.dumps(eob_for(payer_id, claim_id)), store=store
    )
    assert again.outcomes == ("duplicate",)
    with Session(engine) as session:
        assert len(session.exec(select(ClaimPayment)).all()) == 1

    # A corrected claim (version 2, frequency 7) goes out again, on a new form.
    with session_scope(engine) as session:
        corrected = session.get(Claim, claim_id)
        assert corrected is not None
        corrected.version, corrected.frequency_code = 2, "7"
        corrected.original_payer_claim_number = "PM-884"
        set_claim_status(session=session, claim=corrected, status="queued", actor="test")
    (second,) = print_paper_claims(engine, settings, today=TODAY, store=store).printed
    assert (second.claim_id, second.version) == (claim_id, 2)
    assert second.document_id != run.printed[0].document_id
    engine.dispose()


def test_a_paper_payer_s_connectivity_still_makes_a_gateway_config() -> None:
    """Pickup flows build a client for every payer: the paper marker must not break them."""
    from claimdesk.gateway.payer_config import PayerConfig
    from models import Payer

    payer = Payer(
        name="Paper Only", payer_id="PAPER1", connectivity={"submission_channel": "paper"}
    )
    config = PayerConfig.from_payer(payer, Settings(_env_file=None))
    assert config.payer_id == "PAPER1"
