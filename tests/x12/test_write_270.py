"""270 writer: exact segments, HL levels, SE count; our TR3 checks find nothing."""

from __future__ import annotations

from claimdesk.x12._write_270 import write_270
from claimdesk.x12.validate import check_tr3, validate
from tests.x12.strategies import make_270


def _segments(data: bytes) -> list[str]:
    return [s for s in data.decode("ascii").split("~") if s]


def test_write_270_subscriber_inquiry_segments() -> None:
    segments = _segments(write_270(make_270()))
    assert segments[1] == "GS*HS*CLAIMDESK*PAYERSIM*20240305*1407*17*X*005010X279A1"
    assert segments[2:] == [
        "ST*270*0001*005010X279A1",
        "BHT*0022*13*ELIG1*20240305*1407",
        "HL*1**20*1",
        "NM1*PR*2*ACME HEALTH*****PI*00435",
        "HL*2*1*21*1",
        "NM1*1P*1*KILDARE*BEN****XX*1000000020",
        "HL*3*2*22*0",
        "TRN*1*93175-012547*9877281234",
        "NM1*IL*1*SMITH*MARY****MI*11122333301",
        "DMG*D8*19781014*F",
        "DTP*291*D8*20240305",
        "EQ*30",
        "SE*13*0001",
        "GE*1*17",
        "IEA*1*000000905",
    ]


def test_write_270_dependent_inquiry_has_hl_23_under_the_subscriber() -> None:
    segments = _segments(write_270(make_270(dependent=True)))
    assert "HL*3*2*22*1" in segments
    child = segments.index("HL*4*3*23*0")
    assert segments[child + 1 : child + 3] == [
        "TRN*1*93175-012547*9877281234",
        "NM1*03*1*SMITH*TED",
    ]
    assert segments[-1] == "IEA*1*000000905"
    assert segments[-3] == f"SE*{len(segments) - 4}*0001"


def test_write_270_output_passes_our_tr3_checks() -> None:
    for dependent in (False, True):
        data = write_270(make_270(dependent=dependent))
        assert check_tr3(data) == []
        assert validate(data) == []
