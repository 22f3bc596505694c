"""KPIs on a dozen claims whose values were worked out by hand (see docs/kpis.md)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.db import make_engine, session_scope
from claimdesk.denials.decisions import write_off_denial
from claimdesk.migrate import upgrade_database
from claimdesk.remittance.posting import post_remittance
from claimdesk.reporting.kpis import compute_kpis
from claimdesk.review.tasks import ensure_review_task
from claimdesk.settings import get_settings
from models import Appeal, Claim, Denial, Payer, Submission, SubmissionClaim
from tests.denials.builders_835 import Clp, Svc, remit
from tests.factories import make_claim, make_payer

D = Decimal
OCT_1, OCT_31 = date(2026, 10, 1), date(2026, 10, 31)


def _claim(session: Session, payer: Payer, served: date, charge: str, status: str) -> Claim:
    return make_claim(
        session,
        payer=payer,
        status=status,
        service_from=served,
        service_to=served,
        lines=[
            {
                "procedure_code": "99213",
                "charge": D(charge),
                "diagnosis_pointers": [1],
                "service_date": served,
            }
        ],
    )


def _submitted(session: Session, claim: Claim, *outcomes: str | None) -> None:
    """One submission per outcome (v1, v2 ...)."""
    for version, outcome in enumerate(outcomes, start=1):
        number = uuid.uuid4().int % 10**9
        submission = Submission(
            payer_id=claim.payer_id,
            interchange_control_number=f"{number:09d}",
            group_control_number="1",
            set_control_number="1",
            payload_id=str(uuid.uuid4()),
            status="acknowledged",
        )
        session.add(submission)
        session.flush()
        session.add(
            SubmissionClaim(
                submission_id=submission.id or 0,
                claim_id=claim.id or 0,
                claim_version=version,
                outcome=outcome,
            )
        )
    session.flush()


def _task(
    session: Session,
    kind: str,
    claim: Claim,
    *,
    age_days: int,
    due_in: int | None,
    status: str = "open",
) -> None:
    now = datetime.now(UTC)
    task = ensure_review_task(
        session=session,
        kind=kind,
        claim_id=claim.id,
        claim_version=claim.version,
        payer_id=claim.payer_id,
    )
    task.created_at = now - timedelta(days=age_days, minutes=1)
    task.due_at = None if due_in is None else now + timedelta(days=due_in)
    task.status = status
    session.add(task)
    session.flush()


def _one_line(
    claim: Claim,
    paid: str,
    cas: dict[str, tuple[tuple[str, str], ...]],
    status: str = "1",
    patient: str = "0",
) -> Clp:
    charge = str(claim.total_charge)
    return Clp(
        claim.patient_control_number,
        status,
        charge,
        paid,
        patient,
        payer_claim=f"P{claim.id}",
        services=(Svc("99213", charge, paid, cas, ref=f"{claim.id}-1"),),
    )


def build_kpi_practice(session: Session) -> dict[str, int]:
    """Twelve claims in October 2026 (and three older or voided), payers A and B."""
    a, b = make_payer(session), make_payer(session, kind="medicare")
    c1 = _claim(session, a, date(2026, 10, 5), "100", "accepted")
    c2 = _claim(session, a, date(2026, 10, 6), "200", "accepted")
    c3 = _claim(session, a, date(2026, 10, 7), "300", "accepted")
    c4 = _claim(session, a, date(2026, 10, 8), "100", "accepted")
    c5 = _claim(session, b, date(2026, 10, 10), "400", "accepted")
    c6 = _claim(session, b, date(2026, 10, 12), "200", "accepted")
    c7 = _claim(session, b, date(2026, 10, 15), "150", "accepted")
    _claim(session, a, date(2026, 10, 20), "100", "ready")  # c8: not billed yet
    _claim(session, a, date(2026, 6, 15), "500", "sent")  # c9: 138 days old
    _claim(session, b, date(2026, 9, 10), "250", "accepted")  # c10: 51 days old
    c11 = _claim(session, a, date(2026, 10, 25), "120", "sent")
    _claim(session, a, date(2026, 10, 28), "80", "voided")  # c12
    for claim in (c1, c2, c4, c5, c6, c7):
        _submitted(session, claim, "accepted")
    _submitted(session, c3, "rejected", "accepted")
    _submitted(session, c11, None)
    _task(session, "scrub", c2, age_days=30, due_in=None, status="resolved")
    _task(session, "eligibility", c7, age_days=30, due_in=None, status="resolved")

    pay_a = remit(
        [
            _one_line(c1, "80", {"CO": (("45", "20"),)}),
            _one_line(c2, "150", {"CO": (("45", "30"),), "PR": (("2", "20"),)}, patient="20"),
            _one_line(c3, "0", {"CO": (("50", "300"),)}, status="4"),
        ],
        trace="KPI-A",
        pay_date="20261025",
    )
    pay_b = remit(
        [
            _one_line(c5, "300", {"CO": (("45", "100"),)}),
            _one_line(c6, "0", {"CO": (("29", "200"),)}, status="4"),
            _one_line(c7, "100", {"CO": (("45", "20"), ("16", "30"))}),
        ],
        trace="KPI-B",
        pay_date="20261018",
    )
    post_remittance(session, document_bytes_or_parsed=pay_a, payer_id=a.id or 0, document_id=None)
    post_remittance(session, document_bytes_or_parsed=pay_b, payer_id=b.id or 0, document_id=None)
    denials = {d.claim_id: d for d in session.exec(select(Denial)).all()}
    write_off_denial(session, denials[c6.id], actor="test", today=date(2026, 10, 20))
    for claim, decided, outcome in [
        (c3, datetime(2026, 10, 29, tzinfo=UTC), "overturned"),
        (c7, datetime(2026, 10, 30, tzinfo=UTC), "upheld"),
        (c7, datetime(2026, 9, 30, tzinfo=UTC), "upheld"),  # decided before the period
    ]:
        denial = denials[claim.id]
        session.add(
            Appeal(
                denial_id=denial.id or 0,
                claim_id=claim.id or 0,
                level=1,
                deadline=date(2027, 2, 1),
                outcome=outcome,
                decided_at=decided,
            )
        )
    # Posting opened each denial's review task; c6's was worked (the write-off above).
    _task(session, "denial", c6, age_days=0, due_in=None, status="resolved")
    _task(session, "denial", c3, age_days=3, due_in=-1)
    _task(session, "denial", c7, age_days=10, due_in=5)
    _task(session, "remittance", c1, age_days=40, due_in=None)
    session.flush()
    return {"a": a.id or 0, "b": b.id or 0}


def expected(payers: dict[str, int]) -> dict[str, Any]:
    """Worked out by hand in docs/kpis.md ("Worked example")."""
    return {
        "date_from": "2026-10-01",
        "date_to": "2026-10-31",
        "payer_id": None,
        "claims_in_cohort": 9,
        "clean_claim_rate": "0.6250",  # c1 c4 c5 c6 c11 of 8 submitted
        "first_pass_acceptance": "0.8571",  # 6 of 7 answered
        "denial_rate": "0.5000",  # c3 c6 c7 of 6 adjudicated
        "denial_rate_by_payer": {str(payers["a"]): "0.3333", str(payers["b"]): "0.6667"},
        "denial_rate_by_carc": {"CO-16": "0.1667", "CO-29": "0.1667", "CO-50": "0.1667"},
        "ar_total": "1320.00",
        "days_in_ar": "24.5",  # 1320 / (1670 / 31)
        "ar_over_90_share": "0.3788",  # 500 / 1320
        "net_collection_rate": "0.4200",  # 630 / (1670 - 170)
        "appeal_overturn_rate": "0.5000",
        "timely_filing_losses_count": 1,
        "timely_filing_losses_amount": "200.00",
        "queues": [
            {
                "kind": "denial",
                "open": 2,
                "oldest_days": 10,
                "buckets": {"0-1": 0, "2-7": 1, "8-30": 1, "31+": 0},
                "past_sla": 1,
            },
            {
                "kind": "remittance",
                "open": 1,
                "oldest_days": 40,
                "buckets": {"0-1": 0, "2-7": 0, "8-30": 0, "31+": 1},
                "past_sla": 0,
            },
        ],
        "tasks_past_sla": 1,
    }


def test_compute_kpis_gives_the_hand_worked_values(session: Session) -> None:
    payers = build_kpi_practice(session)
    kpis = compute_kpis(session, date_from=OCT_1, date_to=OCT_31)
    assert kpis.model_dump(mode="json") == expected(payers)


def test_compute_kpis_for_one_payer(session: Session) -> None:
    payers = build_kpi_practice(session)
    kpis = compute_kpis(session, date_from=OCT_1, date_to=OCT_31, payer_id=payers["b"])
    assert kpis.claims_in_cohort == 3  # c5 c6 c7
    assert (kpis.denial_rate, kpis.clean_claim_rate) == (D("0.6667"), D("0.6667"))
    assert kpis.net_collection_rate == D("0.6349")  # 400 / (750 - 120)
    assert kpis.ar_total == D("280.00")  # c7 30 + c10 250
    assert kpis.appeal_overturn_rate == D("0.0000")


def test_compute_kpis_on_an_empty_database_has_no_rates(session: Session) -> None:
    kpis = compute_kpis(session, date_from=OCT_1, date_to=OCT_31)
    assert kpis.claims_in_cohort == 0 and kpis.denial_rate is None and kpis.days_in_ar is None


def test_cli_kpis_json_gives_the_hand_worked_values(
    databases: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = databases.settings("sqlite", tmp_path)
    engine = make_engine(settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        payers = build_kpi_practice(session)
    engine.dispose()
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["kpis", "--json", "--from", "2026-10-01", "--to", "2026-10-31"]
        )
        table = CliRunner().invoke(app, ["kpis", "--from", "2026-10-01", "--to", "2026-10-31"])
        wrong = CliRunner().invoke(app, ["kpis", "--from", "2026-11-01", "--to", "2026-10-31"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == expected(payers)
    assert table.exit_code == 0 and "Net collection rate" in table.output
    assert "42.0%" in table.output
    assert wrong.exit_code == 2  # bad input
