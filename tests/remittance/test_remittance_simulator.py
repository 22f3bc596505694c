"""Posting what the payer simulator emits: real adjudication rules, reversals and PLBs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from claimdesk.claims.ledger import check_all_ledger_identities, claim_balance
from claimdesk.payer_sim._x12 import Outbound
from claimdesk.payer_sim.adjudicate import adjudicate_claim, reverse_result
from claimdesk.payer_sim.config import SimConfig
from claimdesk.payer_sim.emit_835 import Payment, ProviderAdjustment, RemitClaim, emit_835
from claimdesk.payer_sim.inbound import InClaim, InLine, Person
from claimdesk.remittance.posting import post_remittance
from models import Claim, ClaimLine, ClaimPayment, Denial, LedgerEntry, ProviderLedgerEntry
from tests.factories import make_claim, make_payer

CONFIG = SimConfig()
SERVED = date(2026, 9, 1)
MEMBERS = ("M1001", "M1002", "M1005")
PROCEDURES = ("99213", "36415", "72148")


def _in_claim(session: Session, claim: Claim, member_id: str) -> InClaim:
    lines = session.exec(select(ClaimLine).where(ClaimLine.claim_id == claim.id)).all()
    return InClaim(
        kind="P",
        patient_control_number=claim.patient_control_number,
        total_charge=claim.total_charge,
        facility_code="11",
        frequency="1",
        billing_npi="1234567893",
        billing_name="JONES CLINIC",
        subscriber=Person(last_name="DOE", first_name="JANE", member_id=member_id),
        payer_id="SIMPAYER",
        lines=[
            InLine(
                number=line.line_number,
                procedure=line.procedure_code,
                charge=line.charge,
                units=line.units,
                service_date=line.service_date,
                control_number=line.line_control_number,
            )
            for line in lines
        ],
    )


def test_simulator_835_posts_every_claim_with_the_ledger_identity_holding(
    session: Session,
) -> None:
    payer = make_payer(session, payer_id="SIMPAYER", name="SIM HEALTH PLAN")
    items: list[RemitClaim] = []
    claims: list[Claim] = []
    for i in range(24):
        codes = PROCEDURES[: 1 + i % 3]
        claim = make_claim(
            session,
            payer=payer,
            status="sent",
            service_from=SERVED,
            service_to=SERVED,
            lines=[
                {
                    "procedure_code": code,
                    "charge": Decimal("150.00"),
                    "diagnosis_pointers": [1],
                    "service_date": SERVED,
                }
                for code in codes
            ],
        )
        claims.append(claim)
        member_id = MEMBERS[i % 3]
        member = next(m for m in CONFIG.roster if m.member_id == member_id)
        sim_payer = CONFIG.payer(member.payer_id)
        assert sim_payer is not None
        inbound = _in_claim(session, claim, member_id)
        result = adjudicate_claim(
            inbound, member=member, payer=sim_payer, config=CONFIG, received=date(2026, 9, 5)
        )
        items.append(RemitClaim(inbound, result, f"26250{i:07d}", date(2026, 9, 5)))
        if i % 8 == 0:
            items.append(
                RemitClaim(inbound, reverse_result(result), f"26250{i:07d}", date(2026, 9, 5))
            )
    payment = Payment(
        CONFIG.payers[0],
        "JONES CLINIC",
        "1234567893",
        "SIMEFT1",
        date(2026, 9, 20),
        items,
        [
            ProviderAdjustment("L6", "SIMEFT1", Decimal("-2.50")),
            ProviderAdjustment("WO", "WH1", Decimal("10.00")),
        ],
    )
    data = emit_835(Outbound("SIMPAYER", "CLAIMDESK", 7, 7, datetime(2026, 9, 20, 12)), [payment])

    report = post_remittance(
        session, document_bytes_or_parsed=data, payer_id=payer.id or 0, document_id=None
    )

    assert report.outcomes == ("posted",) and report.task_ids == ()
    assert set(report.claim_ids) == {c.id for c in claims}
    assert all(p.claim_id is not None for p in session.exec(select(ClaimPayment)))
    assert check_all_ledger_identities(session) == []
    paid = sum(
        (e.amount for e in session.exec(select(LedgerEntry).where(LedgerEntry.kind == "payment"))),
        Decimal(0),
    )
    plb = sum((p.amount for p in session.exec(select(ProviderLedgerEntry))), Decimal(0))
    assert paid - plb == payment.balance()  # BPR02 = Σ CLP04 − Σ PLB
    reversed_claims = {claims[i].id for i in range(0, 24, 8)}
    for claim in claims:
        balance = claim_balance(session, claim.id or 0)
        if claim.id in reversed_claims:
            assert claim.status == "pending" and balance.payments == 0
        else:
            assert claim.status in ("paid", "partially_paid", "denied")
            assert balance.paid_by_payers == sum(
                (
                    p.paid
                    for p in session.exec(
                        select(ClaimPayment).where(ClaimPayment.claim_id == claim.id)
                    )
                ),
                Decimal(0),
            )
    denied = {d.claim_id for d in session.exec(select(Denial))}
    assert denied <= {c.id for c in claims}
    again = post_remittance(
        session, document_bytes_or_parsed=data, payer_id=payer.id or 0, document_id=None
    )
    assert again.outcomes == ("duplicate",)
