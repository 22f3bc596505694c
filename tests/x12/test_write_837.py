"""837P/837I writer: exact segments for a small batch, pyx12 on big ones, delimiters, speed."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from claimdesk.x12._errors import X12Error
from claimdesk.x12._pyx12 import validate_with_pyx12
from claimdesk.x12._serialize import choose_delimiters
from claimdesk.x12._write_837 import write_837, write_837i, write_837p
from claimdesk.x12.claim_data import ClaimBatch837, PayerRef
from tests.x12.strategies import make_837_batch


def _segments(data: bytes) -> list[str]:
    text = data.decode("ascii")
    return [s for s in text.split(text[105]) if s]


def test_write_837p_small_batch_has_the_expected_segments() -> None:
    segments = _segments(write_837p(make_837_batch("P", 3)))
    assert segments[0] == (
        "ISA*00*          *00*          *ZZ*CLAIMDESK      *ZZ*PAYERSIM       "
        "*240305*1407*^*00501*000000905*0*T*:"
    )
    assert segments[1] == "GS*HC*CLAIMDESK*PAYERSIM*20240305*1407*17*X*005010X222A1"
    assert segments[2] == "ST*837*0001*005010X222A1"
    assert segments[3] == "BHT*0019*00*BATCH0001*20240305*1407*CH"
    assert "HL*1**20*1" in segments
    assert "NM1*85*2*JONES CLINIC*****XX*1000000012" in segments
    # claim 0 (subscriber is patient), claim 1 (secondary), claim 2 (dependent)
    assert "HL*2*1*22*0" in segments
    assert "SBR*P*18*GRP1******CI" in segments
    assert "CLM*PCN0*100.00***11:B:1*Y*A*Y*Y" in segments
    assert "REF*D9*1000-v1" in segments
    assert "REF*9F*REF9" in segments
    assert "HI*ABK:J020*ABF:R509" in segments
    assert "SV1*HC:99213*100.00*UN*1***1" in segments
    assert "SV1*HC:99213:25*100.00*UN*1***1:2" in segments
    assert "REF*6R*1001-L2" in segments
    # the secondary claim carries 2320/2330A/2330B and 2430
    sec = segments.index("CLM*PCN1*200.00***11:B:1*Y*A*Y*Y")
    assert segments[sec + 1] == "REF*G1*AUTH77"
    assert segments[sec + 2] == "REF*D9*1001-v2"
    assert segments[sec + 6 : sec + 12] == [
        "SBR*P*18*******MB",
        "CAS*CO*45*0",
        "AMT*D*120",
        "OI***Y***Y",
        "NM1*IL*1*DOE0*JOHN****MI*1EG4TE5MK72",
        "NM1*PR*2*MEDICARE B*****PI*MEDB01",
    ]
    assert segments[sec + 16 : sec + 20] == [
        "SVD*MEDB01*60.00*HC:99213**1",
        "CAS*CO*45*25.00",
        "CAS*PR*2*15.00",
        "DTP*573*D8*20240220",
    ]
    # a dependent: HL 22 with a child, HL 23 under it, SBR02 empty
    assert "HL*4*1*22*1" in segments
    assert segments[segments.index("HL*4*1*22*1") + 1] == "SBR*P**GRP1******CI"
    assert "HL*5*4*23*0" in segments
    assert "PAT*19" in segments
    se = segments[-3]
    assert se == f"SE*{len(segments) - 4}*0001"
    assert segments[-2:] == ["GE*1*17", "IEA*1*000000905"]


def test_write_837_replacement_claims_carry_the_payer_claim_number() -> None:
    segments = _segments(write_837p(make_837_batch("P", 7)))
    replaced = segments.index("CLM*PCN3*100.00***11:B:7*Y*A*Y*Y")
    assert "REF*F8*PAYER3" in segments[replaced : replaced + 4]
    void = segments.index("CLM*PCN6*100.00***11:B:8*Y*A*Y*Y")
    assert "REF*F8*PAYER6" in segments[void : void + 4]


def test_write_837i_small_batch_has_the_expected_segments() -> None:
    segments = _segments(write_837i(make_837_batch("I", 2)))
    assert segments[1].endswith("*X*005010X223A2")
    assert segments[2] == "ST*837*0001*005010X223A2"
    claim = segments.index("CLM*PCN0*100.00***13:A:1**A*Y*Y")
    assert segments[claim + 1 : claim + 8] == [
        "DTP*434*RD8*20240201-20240201",
        "CL1*1*7*01",
        "REF*9F*REF9",
        "REF*D9*1000-v1",
        "HI*ABK:J020",
        "HI*ABF:R509",
        "NM1*71*1*KILDARE*BEN****XX*1000000020",
    ]
    assert "SV2*0450*HC:99283*100.00*UN*1" in segments
    assert "SVD*MEDB01*60.00*HC:99283*0450*1" in segments


@pytest.mark.parametrize("kind", ["P", "I"])
def test_write_837_big_batch_passes_pyx12_with_zero_errors(kind: str) -> None:
    batch = make_837_batch(kind, 240)  # type: ignore[arg-type]
    assert any(claim.other_payers for claim in batch.claims)
    assert {claim.frequency_code for claim in batch.claims} == {"1", "7", "8"}
    issues = validate_with_pyx12(write_837(batch))
    assert [str(issue) for issue in issues] == []


def test_write_837_wrong_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind 'P'"):
        write_837p(make_837_batch("I", 1))


def test_write_837_picks_other_delimiters_when_data_contains_them() -> None:
    batch = make_837_batch("P", 1)
    odd = batch.claims[0].model_copy(update={"payer": PayerRef(name="A*B:C^D~E", payer_id="1")})
    data = write_837p(batch.model_copy(update={"claims": (odd,)}))
    text = data.decode()
    element, repetition, component, terminator = text[3], text[82], text[104], text[105]
    assert (element, repetition, component, terminator) == ("|", "<", ">", "{")
    assert f"NM1{element}PR{element}2{element}A*B:C^D~E" in text


def test_choose_delimiters_fails_clearly_when_every_candidate_is_used() -> None:
    with pytest.raises(X12Error, match="every candidate delimiter"):
        choose_delimiters("*:^~|><{}!`\\#$%&;=?@[]")


def test_write_837p_5000_claims_under_a_second() -> None:
    batch = make_837_batch("P", 5000)
    # CPU time, best of three: the test machine's cores are shared with other suites.
    timings = []
    for _ in range(3):
        start = time.process_time()
        data = write_837p(batch)
        timings.append(time.process_time() - start)
    assert data.endswith(b"IEA*1*000000905~")
    assert min(timings) < 1.0, f"{timings}"


def test_claim_total_must_match_lines() -> None:
    claim = make_837_batch("P", 1).claims[0]
    with pytest.raises(ValueError, match="total_charge"):
        claim.model_validate({**claim.model_dump(), "total_charge": Decimal("1.00")})


def test_batch_is_frozen() -> None:
    batch: ClaimBatch837 = make_837_batch("P", 1)
    with pytest.raises(ValueError):
        batch.reference_id = "X"  # type: ignore[misc]


@pytest.mark.parametrize("kind", ["P", "I"])
def test_2330b_carries_the_other_payers_claim_number_after_its_name(kind: str) -> None:
    batch = make_837_batch(kind, 3)  # type: ignore[arg-type]
    secondary = batch.claims[1]
    other = secondary.other_payers[0].model_copy(update={"claim_control_number": "PRIM0042"})
    claims = (
        batch.claims[0],
        secondary.model_copy(update={"other_payers": (other,)}),
        *batch.claims[2:],
    )
    data = write_837(batch.model_copy(update={"claims": claims}))
    segments = _segments(data)
    payer = segments.index("NM1*PR*2*MEDICARE B*****PI*MEDB01")
    assert segments[payer + 1] == "REF*F8*PRIM0042"
    assert validate_with_pyx12(data) == []


def _837i_with_ub04_codes() -> bytes:
    from datetime import date

    from claimdesk.x12.claim_data import Claim837
    from claimdesk.x12.institutional import (
        InstitutionalData,
        Occurrence,
        OccurrenceSpan,
        ValueCode,
    )

    batch = make_837_batch("I", 2)
    first = batch.claims[0]
    assert first.attending_provider is not None
    codes = InstitutionalData(
        admission_hour="0930",
        admitting_diagnosis="R509",
        condition_codes=("01", "A1"),
        occurrences=(Occurrence(code="11", on=date(2024, 1, 30)),),
        occurrence_spans=(
            OccurrenceSpan(code="70", start=date(2024, 1, 20), end=date(2024, 1, 25)),
        ),
        value_codes=(
            ValueCode(code="80", amount=Decimal(3)),
            ValueCode(code="A1", amount=Decimal("25.50")),
        ),
    )
    claim = Claim837.model_validate(
        {
            **first.model_dump(),
            "facility_code": "11",
            "admission_date": date(2024, 2, 1),
            "patient_status_code": "30",
            "institutional": codes.model_dump(),
            "operating_provider": first.attending_provider.model_copy(
                update={"last_name": "CUTTER"}
            ).model_dump(),
            "other_provider": first.attending_provider.model_copy(
                update={"last_name": "HUNT"}
            ).model_dump(),
        }
    )
    return write_837i(batch.model_copy(update={"claims": (claim, *batch.claims[1:])}))


def test_837i_carries_bill_type_admission_ub04_codes_and_providers_in_tr3_order() -> None:
    data = _837i_with_ub04_codes()
    segments = _segments(data)
    claim = segments.index("CLM*PCN0*100.00***11:A:1**A*Y*Y")  # bill type 11x, not 13x
    assert segments[claim + 1 : claim + 17] == [
        "DTP*434*RD8*20240201-20240201",
        "DTP*435*DT*202402010930",
        "CL1*1*7*30",
        "REF*9F*REF9",
        "REF*D9*1000-v1",
        "HI*ABK:J020",
        "HI*ABJ:R509",
        "HI*ABF:R509",
        "HI*BI:70:RD8:20240120-20240125",
        "HI*BH:11:D8:20240130",
        "HI*BE:80:::3*BE:A1:::25.50",
        "HI*BG:01*BG:A1",
        "NM1*71*1*KILDARE*BEN****XX*1000000020",
        "PRV*AT*PXC*207Q00000X",
        "NM1*72*1*CUTTER*BEN****XX*1000000020",
        "NM1*ZZ*1*HUNT*BEN****XX*1000000020",
    ]


def test_837i_with_condition_occurrence_and_value_codes_passes_pyx12() -> None:
    assert validate_with_pyx12(_837i_with_ub04_codes()) == []


def test_ub04_codes_are_837i_only() -> None:
    from claimdesk.x12.institutional import InstitutionalData

    batch = make_837_batch("P", 1)
    claim = batch.claims[0].model_copy(
        update={"institutional": InstitutionalData(condition_codes=("01",))}
    )
    with pytest.raises(ValueError, match="837I only"):
        ClaimBatch837.model_validate({**batch.model_dump(), "claims": [claim.model_dump()]})


def test_837i_ub04_codes_read_back_as_written() -> None:
    from claimdesk.x12 import parse_837

    data = _837i_with_ub04_codes()
    claim = parse_837(data).claims[0]
    assert claim.institutional is not None
    assert claim.institutional.admission_hour == "0930"
    assert claim.institutional.condition_codes == ("01", "A1")
    assert [v.amount for v in claim.institutional.value_codes] == [Decimal(3), Decimal("25.50")]
    assert claim.operating_provider is not None and claim.operating_provider.last_name == "CUTTER"
    assert claim.other_provider is not None and claim.other_provider.last_name == "HUNT"
    assert write_837i(parse_837(data)) == data
