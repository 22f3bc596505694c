"""837P/837I into claim_data: round trip with the writer, EHR files, refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claimdesk.x12 import (
    ClaimSubmission837,
    X12Error,
    X12SyntaxError,
    iter_transactions,
    parse_837,
    to_json,
)
from claimdesk.x12._write_837 import write_837
from tests.x12.strategies import make_837_batch

ISA = (
    "ISA*00*          *00*          *ZZ*EHR            *ZZ*CLAIMDESK      "
    "*240102*1200*^*00501*000000009*0*T*:~"
)
HEADER = (
    "BHT*0019*00*B1*20240102*1230*CH~NM1*41*2*EHR INC*****46*EHR1~PER*IC*JO*TE*5555551234~"
    "NM1*40*2*CLAIMDESK*****46*CD~"
    "HL*1**20*1~PRV*BI*PXC*207Q00000X~NM1*85*2*CLINIC*****XX*1234567893~"
    "N3*1 MAIN ST~N4*TOWN*NY*123451234~REF*EI*123456789~"
    "HL*2*1*22*0~SBR*P*18*GRP1******CI~NM1*IL*1*DOE*JANE****MI*M100~DMG*D8*19800101*F~"
    "NM1*PR*2*ACME*****PI*12345~"
)
CLAIM = (
    "CLM*PCN-1*150.00***11:B:1*Y*A*Y*Y~HI*ABK:J449*ABF:E119~"
    "LX*1~SV1*HC:99213:25*100.00*UN*1*11**1:2~DTP*472*D8*20231201~"
    "LX*2~SV1*HC:85025*50.00*UN*1***1~DTP*472*RD8*20231201-20231202~REF*6R*L2~"
)


def wrap(body: str, version: str = "005010X222A1") -> str:
    count = body.count("~") + 2
    return (
        f"{ISA}GS*HC*EHR*CD*20240102*1200*9*X*{version}~ST*837*0009*{version}~{body}"
        f"SE*{count}*0009~GE*1*9~IEA*1*000000009~"
    )


@pytest.mark.parametrize("kind", ["P", "I"])
def test_parse_837_round_trips_the_writer(kind: str) -> None:
    batch = make_837_batch(kind, 5)  # type: ignore[arg-type]
    assert parse_837(write_837(batch)) == batch


def test_parse_837_reads_ehr_claim_without_claimdesk_references() -> None:
    batch = parse_837(wrap(HEADER + CLAIM))
    assert batch.kind == "P" and batch.reference_id == "B1"
    assert batch.created_at.hour == 12 and batch.created_at.minute == 30
    assert batch.submitter.phone == "5555551234"
    [claim] = batch.claims
    assert (claim.claim_id, claim.claim_version) == ("PCN_1", 1)
    assert claim.total_charge == Decimal("150.00")
    assert claim.diagnoses == ("J449", "E119")
    assert claim.billing_provider.taxonomy == "207Q00000X"
    assert claim.subscriber.birth_date == date(1980, 1, 1)
    assert claim.payer.payer_id == "12345"
    first, second = claim.lines
    assert (first.procedure_code, first.modifiers, first.diagnosis_pointers) == (
        "99213",
        ("25",),
        (1, 2),
    )
    assert first.line_item_control_number == "PCN_1-1"
    assert (second.service_date, second.service_date_end) == (date(2023, 12, 1), date(2023, 12, 2))
    assert second.line_item_control_number == "L2"


def test_parse_837_json_has_claims_with_lines_and_diagnoses() -> None:
    [parsed] = list(iter_transactions(wrap(HEADER + CLAIM)))
    assert isinstance(parsed.transaction, ClaimSubmission837)
    from claimdesk.x12 import read_interchanges

    data = to_json(read_interchanges(wrap(HEADER + CLAIM)))
    [transaction] = data["interchanges"][0]["groups"][0]["transactions"]
    assert (transaction["set_id"], transaction["control_number"]) == ("837", "0009")
    assert transaction["kind"] == "837P"
    assert transaction["claims"][0]["diagnoses"] == ["J449", "E119"]
    assert transaction["claims"][0]["lines"][0]["charge"] == "100.00"


def test_parse_837_refuses_icd9_naming_the_element() -> None:
    with pytest.raises(X12SyntaxError, match="segment 20 HI HI01-1: ICD-9"):
        parse_837(wrap(HEADER + CLAIM.replace("ABK:J449", "BK:4019")))


def test_parse_837_refuses_bad_npi_at_the_claim_without_the_value() -> None:
    with pytest.raises(X12Error) as caught:
        parse_837(wrap(HEADER.replace("1234567893", "1234567890") + CLAIM))
    message = str(caught.value)
    assert message.startswith("segment 19 CLM: claimdesk's claim model refuses")
    assert "billing_provider.npi" in message
    assert "1234567890" not in message


def test_parse_837_refuses_a_file_without_an_837() -> None:
    with pytest.raises(X12Error, match="expected one 837 transaction set, found 0"):
        parse_837(wrap("BHT*0019~", version="005010X222A1").replace("ST*837", "ST*270"))
