"""277 claim status and 277CA acknowledgment: claim and line STC, dates, references."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claimdesk.x12 import ClaimStatus277, X12SyntaxError, iter_transactions

ISA = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLAIMD"
    "ESK      *240102*1200*^*00501*000000003*0*T*:~"
)


def wrap(body: str, version: str) -> str:
    count = body.count("~") + 2
    return (
        f"{ISA}GS*HN*P*C*20240102*1200*3*X*{version}~ST*277*0001*{version}~{body}"
        f"SE*{count}*0001~GE*1*3~IEA*1*000000003~"
    )


def parse_one(text: str) -> ClaimStatus277:
    [parsed] = list(iter_transactions(text))
    assert isinstance(parsed.transaction, ClaimStatus277)
    return parsed.transaction


ACK_BODY = (
    "BHT*0085*08*BATCH1*20240102*1200*TH~HL*1**20*1~NM1*PR*2*ACME*****PI*12345~"
    "TRN*1*T1~DTP*050*D8*20240102~HL*2*1*21*1~NM1*41*2*CLAIMDESK*****46*CD1~TRN*2*B1~"
    "STC*A1:19:PR*20240102*WQ*300.00~HL*3*2*19*1~NM1*85*2*CLINIC*****XX*1234567893~"
    "HL*4*3*PT~NM1*QC*1*DOE*JANE****MI*M1~TRN*2*PCN-OK~STC*A2:20*20240102*WQ*100.00~"
    "REF*1K*PAYER-1~REF*D9*claim-1-v1~DTP*472*RD8*20231201-20231202~"
    "HL*5*3*PT~NM1*QC*1*ROE*RICH****MI*M2~TRN*2*PCN-BAD~"
    "STC*A7:21:85*20240102*U*200.00******A3:116~DTP*472*D8*20231203~"
)


def test_parse_277ca_reads_accepted_and_rejected_claims() -> None:
    ack = parse_one(wrap(ACK_BODY, "005010X214"))
    assert ack.kind == "277CA"
    assert ack.reference == "BATCH1" and ack.date == date(2024, 1, 2)
    assert ack.payer is not None and ack.payer.id == "12345"
    good, bad = ack.claims
    assert (good.patient_control_number, good.accepted) == ("PCN-OK", True)
    assert good.payer_claim_control_number == "PAYER-1"
    assert good.clearinghouse_trace == "claim-1-v1"
    assert (good.service_from, good.service_to) == (date(2023, 12, 1), date(2023, 12, 2))
    assert good.provider is not None and good.provider.id == "1234567893"
    assert (bad.patient_control_number, bad.accepted) == ("PCN-BAD", False)
    [status] = bad.statuses
    assert [(c.category, c.status, c.entity) for c in status.codes] == [
        ("A7", "21", "85"),
        ("A3", "116", ""),
    ]
    assert (status.action_code, status.charge) == ("U", Decimal("200.00"))
    [receiver_level] = ack.level_statuses
    assert receiver_level.level == "21"
    assert receiver_level.statuses[0].codes[0].category == "A1"


def test_parse_277_reads_line_status_and_payment() -> None:
    body = (
        "BHT*0010*08*R1*20240102*1200*DG~HL*1**20*1~NM1*PR*2*ACME*****PI*12345~"
        "HL*2*1*21*1~NM1*41*2*CLAIMDESK*****46*CD1~HL*3*2*19*1~NM1*1P*2*CLINIC*****XX*1234567893~"
        "HL*4*3*22*0~NM1*IL*1*DOE*JANE****MI*M1~TRN*2*PCN1~"
        "STC*F1:65*20240110**150.00*120.00*20240109**20240111*CHK123~REF*1K*PCLM~"
        "SVC*HC:99213:25*150.00*120.00****1~STC*F1:65*20240110~REF*FJ*LINE-1~DTP*472*D8*20231201~"
    )
    status = parse_one(wrap(body, "005010X212"))
    assert status.kind == "277"
    [claim] = status.claims
    assert claim.accepted is None
    assert claim.patient is not None and claim.patient.last_name == "DOE"
    [claim_status] = claim.statuses
    assert (claim_status.charge, claim_status.paid) == (Decimal("150.00"), Decimal("120.00"))
    assert claim_status.check_number == "CHK123"
    assert claim_status.adjudication_date == date(2024, 1, 9)
    [line] = claim.lines
    assert (line.procedure, line.modifiers, line.units) == ("99213", ("25",), Decimal("1"))
    assert (line.line_control_number, line.service_date) == ("LINE-1", date(2023, 12, 1))
    assert line.statuses[0].codes[0].status == "65"


def test_parse_277_rejects_stc_without_status_code() -> None:
    with pytest.raises(X12SyntaxError, match="STC01") as caught:
        parse_one(wrap("BHT*0010*08*R1~HL*1**20*1~STC*A1~", "005010X212"))
    assert caught.value.segment_index == 6
