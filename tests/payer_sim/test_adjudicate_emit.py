"""Adjudication rules as pure functions, and the emitters' output under pyx12 and the readers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from claimdesk.payer_sim._x12 import Outbound
from claimdesk.payer_sim.adjudicate import adjudicate_claim, reverse_result
from claimdesk.payer_sim.config import SimConfig
from claimdesk.payer_sim.emit_277ca import AckSource, ClaimAck, emit_277ca
from claimdesk.payer_sim.emit_835 import Payment, ProviderAdjustment, RemitClaim, emit_835
from claimdesk.payer_sim.emit_999 import emit_999
from claimdesk.payer_sim.inbound import InClaim, check_837_syntax, read_837_claims, read_interchange
from claimdesk.x12 import read_interchanges
from claimdesk.x12.validate import validate_with_pyx12
from tests.payer_sim.builders import make_837, make_claim

CONFIG = SimConfig()
RECEIVED = date(2025, 3, 10)


def read(claims: list) -> list[InClaim]:  # type: ignore[type-arg]
    interchange = read_interchange(make_837(claims))
    ts = interchange.groups[0].sets[0]
    check_837_syntax(ts)
    assert ts.accepted
    return read_837_claims(ts, interchange.component)


def adjudicate(claim: InClaim, member_id: str = "M1001", **kw):  # type: ignore[no-untyped-def]
    member = next(m for m in CONFIG.roster if m.member_id == member_id)
    payer = CONFIG.payer(member.payer_id)
    assert payer is not None
    return adjudicate_claim(claim, member=member, payer=payer, config=CONFIG, received=RECEIVED,
                            **kw)  # fmt: skip


def codes(result) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(c.group, c.reason) for line in result.lines for c in line.adjustments}


def test_adjudicate_clean_claim_pays_with_co45_and_patient_share() -> None:
    result = adjudicate(read([make_claim(1)])[0])
    assert result.status == "1"
    assert {("CO", "45"), ("PR", "3"), ("PR", "1")} <= codes(result)
    line = result.lines[0]
    assert line.charge - line.paid == sum(c.amount for c in line.adjustments)


def test_adjudicate_medicare_like_payer_takes_co253() -> None:
    claim = read([make_claim(1, "MCR2001", ("99213", "93000"))])[0]
    member = next(m for m in CONFIG.roster if m.member_id == "MCR2001")
    rich = member.model_copy(update={"deductible_remaining": Decimal(0)})
    result = adjudicate_claim(claim, member=rich, payer=CONFIG.payers[1], config=CONFIG,
                              received=RECEIVED)  # fmt: skip
    assert ("CO", "253") in codes(result)


@pytest.mark.parametrize(
    ("claim_kw", "member_id", "carc"),
    [
        ({"codes": ("72148",)}, "M1001", "197"),
        ({"codes": ("93000",), "diagnoses": ("Z0000",)}, "M1001", "50"),
        ({"codes": ("99213", "36415")}, "M1001", "97"),
        ({}, "M1005", "22"),
        ({"service_date": date(2024, 1, 2)}, "M1001", "29"),
        ({"service_date": date(2019, 5, 5)}, "M1001", "26"),
    ],
)
def test_adjudicate_denies_by_rule(claim_kw: dict, member_id: str, carc: str) -> None:  # type: ignore[type-arg]
    result = adjudicate(read([make_claim(1, member_id, **claim_kw)])[0], member_id)
    assert ("CO", carc) in codes(result)


def test_adjudicate_terminated_member_gets_co27() -> None:
    claim = read([make_claim(1)])[0]
    result = adjudicate(claim, "M1004")
    assert result.status == "4" and ("CO", "27") in codes(result)


def test_adjudicate_exact_duplicate_gets_co18() -> None:
    from claimdesk.payer_sim.adjudicate import duplicate_key

    claim = read([make_claim(1)])[0]
    result = adjudicate(claim, paid_keys={duplicate_key(claim)})
    assert ("CO", "18") in codes(result)


def test_adjudicate_overturned_co197_pays() -> None:
    claim = read([make_claim(1, "M1002", codes=("72148",))])[0]
    assert ("CO", "197") in codes(adjudicate(claim, "M1002"))
    assert adjudicate(claim, "M1002", overturned=("197",)).paid > 0


def test_emit_835_for_300_claims_passes_pyx12_and_balances() -> None:
    members = ("M1001", "M1002", "M1005")
    procedures = ("99213", "36415", "72148")
    claims = read([make_claim(i, members[i % 3], procedures[: 1 + i % 3]) for i in range(300)])
    items = []
    for i, claim in enumerate(claims):
        result = adjudicate(claim, ("M1001", "M1002", "M1005")[i % 3])
        items.append(RemitClaim(claim, result, f"25069{i:07d}", RECEIVED))
        if i % 25 == 0:
            items.append(RemitClaim(claim, reverse_result(result), f"25069{i:07d}", RECEIVED))
    payment = Payment(CONFIG.payers[0], "JONES CLINIC", claims[0].billing_npi, "EFT1",
                      date(2025, 3, 12), items,
                      [ProviderAdjustment("L6", "EFT1", Decimal("-2.50")),
                       ProviderAdjustment("WO", "WH1", Decimal("10.00"))])  # fmt: skip
    data = emit_835(Outbound("SIMPAYER", "CLAIMDESK", 9, 9, datetime(2025, 3, 12, 12)), [payment])
    assert validate_with_pyx12(data) == []
    remit = read_interchanges(data)[0].groups[0].transactions[0]
    assert remit.balanced, remit.balance_errors


def test_emit_999_and_277ca_for_300_claims_pass_pyx12() -> None:
    data = make_837([make_claim(i) for i in range(300)])
    interchange = read_interchange(data)
    ts = interchange.groups[0].sets[0]
    check_837_syntax(ts)
    out = Outbound("SIMCH", "CLAIMDESK", 3, 3, datetime(2025, 3, 10, 12))
    assert validate_with_pyx12(emit_999(out, interchange.groups)) == []
    claims = read_837_claims(ts, interchange.component)
    acks = [ClaimAck(c, ("A2", "20") if i % 4 else ("A7", "562", "85"), f"N{i}")
            for i, c in enumerate(claims)]  # fmt: skip
    source = AckSource("SIM CH", "SIMCH", "SUBMITTER", "CLAIMDESK", "000000001")
    ack = emit_277ca(out, source, acks, RECEIVED, "T1")
    assert validate_with_pyx12(ack) == []
    parsed = read_interchanges(ack)[0].groups[0].transactions[0]
    assert sum(not c.accepted for c in parsed.claims) == 75
