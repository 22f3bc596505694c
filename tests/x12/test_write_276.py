"""276 writer: exact segments, HL 20/21/19/22(/23), SE count; our TR3 checks find nothing."""

from __future__ import annotations

from claimdesk.x12._write_276 import write_276
from claimdesk.x12.validate import validate
from tests.x12.strategies import make_276


def _segments(data: bytes) -> list[str]:
    return [s for s in data.decode("ascii").split("~") if s]


def test_write_276_claim_inquiry_segments() -> None:
    segments = _segments(write_276(make_276()))
    assert segments[1] == "GS*HR*CLAIMDESK*PAYERSIM*20240305*1407*17*X*005010X212"
    assert segments[2:] == [
        "ST*276*0001*005010X212",
        "BHT*0010*13*STAT1*20240305*1407",
        "HL*1**20*1",
        "NM1*PR*2*ACME HEALTH*****PI*00435",
        "HL*2*1*21*1",
        "NM1*41*2*ACME HEALTH*****46*PAYERSIM",
        "HL*3*2*19*1",
        "NM1*1P*1*KILDARE*BEN****XX*1000000020",
        "HL*4*3*22*0",
        "DMG*D8*19301210*M",
        "NM1*IL*1*SMITH*FRED****MI*123456789A",
        "TRN*1*1001-v2",
        "REF*EJ*PCN1",
        "AMT*T3*8513.88",
        "DTP*472*RD8*20240201-20240206",
        "SE*16*0001",
        "GE*1*17",
        "IEA*1*000000905",
    ]


def test_write_276_dependent_goes_under_hl_23() -> None:
    segments = _segments(write_276(make_276(dependent=True)))
    assert "HL*4*3*22*1" in segments
    child = segments.index("HL*5*4*23")
    assert segments[child + 1 : child + 4] == [
        "DMG*D8*20100501*M",
        "NM1*QC*1*SMITH*TED",
        "TRN*1*1001-v2",
    ]
    assert validate(write_276(make_276(dependent=True))) == []
