"""Benefits in plain words: a hand-written 271 read, labelled, and a visit estimated."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from claimdesk.db import make_engine, session_scope
from claimdesk.eligibility.benefits import estimate_patient_share, stored_benefits, summarize
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from claimdesk.x12 import Eligibility271, iter_transactions
from models import AuditEvent, Claim, EligibilityCheck, FeeSchedule, User
from tests.factories import make_claim, make_payer

ISA = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLAIMD"
    "ESK      *261102*1200*^*00501*000000004*0*T*:~"
)
BODY = (
    "BHT*0022*11*REQ1*20261102*1200~HL*1**20*1~NM1*PR*2*ACME*****PI*12345~"
    "HL*2*1*21*1~NM1*1P*2*CLINIC*****XX*1234567893~"
    "HL*3*2*22*0~TRN*2*TRACE1*9877281234~NM1*IL*1*NUÑEZ*ANA****MI*M100~"
    "DMG*D8*19700101*F~DTP*346*D8*20260101~DTP*347*D8*20261231~"
    "EB*1*IND*30**GOLD PPO~MSG*REFERRAL NOT REQUIRED~"
    "EB*B*IND*98*HM*GOLD PPO*27*30.00*****Y~"
    "EB*B*IND*98*HM*GOLD PPO*27*60.00*****N~"
    "EB*C*IND*30*HM**23*1500.00*****Y~"
    "EB*C*IND*30*HM**29*400.00*****Y~"
    "EB*A*IND*30*HM****0.20****Y~"
    "EB*G*IND*30*HM**23*5000.00*****Y~"
    "EB*G*IND*30*HM**29*3200.00*****Y~"
    "EB*R**30*MB*MEDICARE PART B~LS*2120~NM1*PR*2*ACME MEDICARE*****PI*SIMMCR~LE*2120~"
)


def two_seventy_one() -> Eligibility271:
    body = BODY
    text = (
        f"{ISA}GS*HB*P*C*20261102*1200*4*X*005010X279A1~ST*271*0001*005010X279A1~{body}"
        f"SE*{body.count('~') + 2}*0001~GE*1*4~IEA*1*000000004~"
    )
    [parsed] = list(iter_transactions(text))
    assert isinstance(parsed.transaction, Eligibility271)
    return parsed.transaction


def test_a_271_reads_as_labelled_amounts() -> None:
    summary = summarize(stored_benefits(two_seventy_one()))
    assert summary.active and summary.plan == "GOLD PPO"
    assert (summary.plan_begins, summary.plan_ends) == (date(2026, 1, 1), date(2026, 12, 31))
    assert summary.copays == {"office visit (professional)": Decimal("30.00")}  # in network
    assert (summary.deductible, summary.deductible_remaining) == (Decimal("1500"), Decimal("400"))
    assert summary.coinsurance == Decimal("0.20")
    assert (summary.out_of_pocket, summary.out_of_pocket_remaining) == (
        Decimal("5000"),
        Decimal("3200"),
    )
    assert (summary.other_payer, summary.other_payer_id) == ("ACME MEDICARE", "SIMMCR")
    assert summary.messages == ("REFERRAL NOT REQUIRED",)
    labels = dict(summary.labelled())
    assert labels["Deductible remaining"] == "$400.00"
    assert labels["Coinsurance"] == "20%"
    assert labels["Copay: office visit (professional)"] == "$30.00"


def test_the_estimate_uses_the_copay_then_deductible_and_coinsurance() -> None:
    summary = summarize(stored_benefits(two_seventy_one()))
    visit = estimate_patient_share(summary, Decimal("180.00"))
    assert (visit.patient, visit.payer) == (Decimal("30.00"), Decimal("150.00"))
    # A service with no copay: the $400 left of the deductible, then 20% of the rest.
    surgery = estimate_patient_share(summary, Decimal("1400.00"), service_type="50")
    assert surgery.patient == Decimal("400.00") + Decimal("200.00")
    assert "deductible $400.00" in surgery.basis and "20% coinsurance" in surgery.basis
    # Capped by what is left of the out-of-pocket maximum.
    big = estimate_patient_share(summary, Decimal("50000.00"), service_type="50")
    assert big.patient == Decimal("3200")


def test_no_active_coverage_is_self_pay() -> None:
    estimate = estimate_patient_share(summarize([]), Decimal("120.00"))
    assert (estimate.patient, estimate.payer) == (Decimal("120.00"), Decimal("0"))


@pytest.fixture
def coverage_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, int]:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    engine = make_engine(settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        payer = make_payer(session)
        claim: Claim = make_claim(session, payer=payer)
        session.add(User(username="spec1", role="specialist", password_hash="x"))
        session.add(
            EligibilityCheck(
                coverage_id=claim.coverage_id,
                claim_id=claim.id,
                responded_at=datetime(2026, 11, 2, 12, tzinfo=UTC),
                outcome="active",
                benefits=stored_benefits(two_seventy_one()),
            )
        )
        session.add(
            FeeSchedule(
                payer_id=payer.id or 0, code="99213", effective_from=date(2020, 1, 1),
                expected_allowed=Decimal("95.00"),
            )
        )  # fmt: skip
        claim_id = claim.id or 0
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(tmp_path))
    from claimdesk.settings import get_settings

    get_settings.cache_clear()
    return engine, claim_id


def test_the_coverage_page_shows_labelled_amounts_and_the_estimate(
    coverage_db: tuple[Engine, int],
) -> None:
    engine, claim_id = coverage_db
    ui = Path(__file__).resolve().parents[2] / "ui" / "pages" / "coverage_page.py"
    at = AppTest.from_file(str(ui), default_timeout=60)
    at.session_state["auth.user"] = {
        "id": 0, "username": "spec1", "display_name": "spec1", "role": "specialist"
    }  # fmt: skip
    at.query_params["claim"] = str(claim_id)
    at.run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    table: Any = at.table[0].value
    rows = dict(zip(table.iloc[:, 0], table.iloc[:, 1], strict=True))
    assert rows["Deductible"] == "$1,500.00" and rows["Deductible remaining"] == "$400.00"
    assert rows["Coinsurance"] == "20%" and rows["Out-of-pocket remaining"] == "$3,200.00"
    assert rows["Other payer"] == "ACME MEDICARE (SIMMCR)"
    # 99213 allowed $95.00 by the fee schedule, within the $30 copay's reach: the copay.
    assert at.metric[0].label == "Patient's likely share" and at.metric[0].value == "$30.00"
    with session_scope(engine) as session:
        viewed = session.exec(
            select(AuditEvent).where(AuditEvent.action == "coverage.viewed")
        ).all()
        assert viewed and viewed[0].claim_id == claim_id
