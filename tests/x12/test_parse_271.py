"""271: subscriber/dependent, EB benefits, periods, entities and AAA rejections."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claimdesk.x12 import Eligibility271, X12SyntaxError, iter_transactions

ISA = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLAIMD"
    "ESK      *240102*1200*^*00501*000000004*0*T*:~"
)


def wrap(body: str) -> str:
    count = body.count("~") + 2
    return (
        f"{ISA}GS*HB*P*C*20240102*1200*4*X*005010X279A1~ST*271*0001*005010X279A1~{body}"
        f"SE*{count}*0001~GE*1*4~IEA*1*000000004~"
    )


def parse_one(text: str) -> Eligibility271:
    [parsed] = list(iter_transactions(text))
    assert isinstance(parsed.transaction, Eligibility271)
    return parsed.transaction


SOURCE = "BHT*0022*11*REQ1*20240102*1200~HL*1**20*1~NM1*PR*2*ACME*****PI*12345~"
RECEIVER = "HL*2*1*21*1~NM1*1P*2*CLINIC*****XX*1234567893~"


def test_parse_271_reads_dependent_benefits_with_periods_and_entities() -> None:
    eligibility = parse_one(
        wrap(
            SOURCE
            + RECEIVER
            + "HL*3*2*22*1~TRN*2*TRACE1*9877281234~NM1*IL*1*DOE*JOHN****MI*M100~"
            + "DMG*D8*19700101*M~DTP*346*D8*20240101~"
            + "HL*4*3*23*0~NM1*03*1*DOE*JANE~DMG*D8*20100505*F~"
            + "EB*1*FAM*30**GOLD PLAN~DTP*291*RD8*20240101-20241231~MSG*CALL FIRST~"
            + "EB*B*IND*1^33^98*HM*GOLD PLAN*27*25.00*****Y~"
            + "EB*A*IND*98*****0.2****N~"
            + "EB*L~LS*2120~NM1*P3*1*JONES*MARCUS****XX*1234567893~LE*2120~"
        )
    )
    assert eligibility.reference == "REQ1"
    assert eligibility.source is not None and eligibility.source.id == "12345"
    assert eligibility.subscriber is not None and eligibility.subscriber.member_id == "M100"
    assert eligibility.subscriber_periods[0].start == date(2024, 1, 1)
    assert eligibility.dependent is not None
    assert (eligibility.dependent.birth_date, eligibility.dependent.gender) == (
        date(2010, 5, 5),
        "F",
    )
    assert eligibility.trace_numbers == ("TRACE1",)
    active, copay, coinsurance, provider = eligibility.benefits
    assert (active.info_code, active.coverage_level, active.service_types) == ("1", "FAM", ("30",))
    assert active.member == "dependent"
    assert active.periods[0].end == date(2024, 12, 31)
    assert active.messages == ("CALL FIRST",)
    assert copay.service_types == ("1", "33", "98")
    assert (copay.amount, copay.in_network, copay.time_period) == (Decimal("25.00"), "Y", "27")
    assert (coinsurance.percent, coinsurance.in_network) == (Decimal("0.2"), "N")
    assert provider.related_entities[0].name == "MARCUS JONES"
    assert eligibility.rejections == ()


def test_parse_271_reads_aaa_rejections_by_level() -> None:
    eligibility = parse_one(
        wrap(
            SOURCE
            + RECEIVER
            + "HL*3*2*22*0~TRN*2*TRACE1*9877281234~NM1*IL*1*DOE*JOHN****MI*M100~AAA*N**72*C~"
        )
    )
    [rejection] = eligibility.rejections
    assert (rejection.level, rejection.valid, rejection.reason_code, rejection.follow_up_code) == (
        "subscriber",
        "N",
        "72",
        "C",
    )
    assert eligibility.benefits == ()


def test_parse_271_rejects_eb_outside_a_member_level() -> None:
    with pytest.raises(X12SyntaxError, match="segment 7 EB: EB outside a subscriber"):
        parse_one(wrap(SOURCE + "EB*1~"))


def test_parse_271_rejects_bad_benefit_amount() -> None:
    with pytest.raises(X12SyntaxError, match="EB07") as caught:
        parse_one(wrap(SOURCE + RECEIVER + "HL*3*2*22*0~NM1*IL*1*D~EB*B**1*HM**27*1,00~"))
    assert "1,00" not in str(caught.value)
