"""`claimdesk statements | payments | deposits | refunds | balances` against a migrated database.

The commands run through Typer's CliRunner with the database named by ``CLAIMDESK_*``
environment variables, as a person would run them; what they change is read back from
the database (and the statement PDFs from the files they wrote).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from claimdesk.claims.ledger import claim_balance
from claimdesk.cli.main import app
from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings, get_settings
from models import Deposit, PatientPayment, User
from models.types import utcnow
from tests.billing.helpers import posted_claim
from tests.conftest import DB_BACKENDS, sign_in_cli

runner = CliRunner()
TODAY = utcnow().date()
PAID_ON = TODAY - timedelta(days=70)  # the patient's share arose 70 days ago: "61-90"


@pytest.fixture(scope="module", params=DB_BACKENDS)
def billing_db(
    request: pytest.FixtureRequest, databases: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A migrated database: a lead, an auditor, two patients owing $50.00 each on a posted 835."""
    settings = databases.settings(request.param, tmp_path_factory.mktemp("cli"))
    engine = make_engine(settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        session.add(User(username="lead9", role="lead", password_hash="x"))
        session.add(User(username="aud9", role="auditor", password_hash="x"))
        first, _ = posted_claim(session, pay_date=f"{PAID_ON:%Y%m%d}", trace="CLITRN1")
        second, _ = posted_claim(session, pay_date=f"{PAID_ON:%Y%m%d}", trace="CLITRN2")
        ids = {"claims": [first.id, second.id], "patients": [first.patient_id, second.patient_id]}
    engine.dispose()
    return {"settings": settings, **ids}


@pytest.fixture
def cli_env(billing_db: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    settings: Settings = billing_db["settings"]
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(settings.data_dir))
    if settings.database_url is not None:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", settings.database_url.get_secret_value())
    else:
        monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    sign_in_cli(settings, "lead9")  # what `claimdesk login lead9` leaves behind
    yield settings
    get_settings.cache_clear()


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def test_balances_ageing_lists_who_owes_by_age(
    cli_env: Settings, billing_db: dict[str, Any]
) -> None:
    result = runner.invoke(app, ["balances", "ageing", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["patient_id"]: r for r in json.loads(result.output)}
    for patient in billing_db["patients"]:
        assert (rows[patient]["61-90"], rows[patient]["total"]) == ("50.00", "50.00")
        assert rows[patient]["0-30"] == "0.00"
    older = runner.invoke(app, ["balances", "ageing", "--min-age-days", "91"])
    assert older.exit_code == 0 and "0 patient(s) owing" in older.output


def test_statements_run_writes_a_pdf_per_patient_with_the_amount_due(
    cli_env: Settings, billing_db: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "statements"
    result = runner.invoke(app, ["statements", "run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"2 statement(s) for {TODAY}; PDFs in {out}" in result.output
    pdfs = sorted(out.glob("statement-*.pdf"))
    assert len(pdfs) == 2
    for pdf in pdfs:
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF")
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        assert "$50.00" in text and "$200.00" in text, text
    again = runner.invoke(app, ["statements", "run", "--out", str(out)])
    assert "0 statement(s)" in again.output  # one per cycle


def test_payments_post_applies_to_the_named_claim_and_refuses_a_card_number(
    cli_env: Settings, billing_db: dict[str, Any]
) -> None:
    claim, patient = billing_db["claims"][0], billing_db["patients"][0]
    args = ["payments", "post", "--patient", str(patient)]
    result = runner.invoke(
        app, [*args, "--amount", "20.00", "--method", "check", "--reference", "1042",
              "--claim", f"{claim}=20.00", "--key", "till-7"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "posted; receipt R" in result.output and f"claim {claim}: 20.00" in result.output
    with _session(cli_env) as session:
        assert claim_balance(session, claim).patient_balance == Decimal("30.00")
        payments = session.exec(select(func.count()).select_from(PatientPayment)).one()
    card = runner.invoke(
        app, [*args, "--amount", "5.00", "--method", "card", "--reference", "4111111111111111"]
    )
    assert card.exit_code == 2 and "looks like a card number" in card.output  # bad input
    assert card.exception is None or isinstance(card.exception, SystemExit)
    sign_in_cli(cli_env, "aud9")
    auditor = runner.invoke(
        app, ["payments", "post", "--patient", str(patient), "--amount", "5.00", "--method", "cash"]
    )
    assert auditor.exit_code == 1 and "may not billing.post" in auditor.output
    with _session(cli_env) as session:
        assert session.exec(select(func.count()).select_from(PatientPayment)).one() == payments


def test_deposits_import_takes_a_good_file_and_refuses_a_malformed_one_whole(
    cli_env: Settings, tmp_path: Path
) -> None:
    good = tmp_path / "bank.csv"
    good.write_text(
        "date,amount,trace_number,payer_name,reference\n"
        f"{TODAY},100.00,CLITRN1,ACME HEALTH,B1\n{TODAY},100.00,CLITRN2,ACME HEALTH,B2\n"
    )
    result = runner.invoke(app, ["deposits", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 deposit(s) imported, 0 already known" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"date,amount,trace_number\n{TODAY},10.00,T1\n{TODAY},1O.00,T2\n{TODAY},5.00,T3\n"
    )
    refused = runner.invoke(app, ["deposits", "import", str(bad)])
    assert refused.exit_code == 2, refused.output
    assert "row 3, column 'amount': '1O.00' is not an amount" in refused.output
    assert "nothing was imported" in refused.output
    assert "Traceback" not in refused.output and isinstance(refused.exception, SystemExit)
    with _session(cli_env) as session:
        assert session.exec(select(func.count()).select_from(Deposit)).one() == 2
    matched = runner.invoke(app, ["deposits", "match"])
    assert matched.exit_code == 0 and "2 matched" in matched.output


def test_refunds_list_scans_for_a_credit_and_shows_amount_payee_and_task(
    cli_env: Settings, billing_db: dict[str, Any]
) -> None:
    claim, patient = billing_db["claims"][1], billing_db["patients"][1]
    paid = runner.invoke(
        app, ["payments", "post", "--patient", str(patient),
              "--amount", "65.00", "--method", "cash", "--claim", f"{claim}=65.00"],
    )  # fmt: skip
    assert paid.exit_code == 0, paid.output
    result = runner.invoke(app, ["refunds", "list", "--scan", "--json"])
    assert result.exit_code == 0, result.output
    [refund] = json.loads(result.output)
    assert (refund["claim_id"], refund["to"], refund["amount"]) == (claim, "patient", "15.00")
    assert refund["deadline"] is None and refund["task_id"] is not None
    text = runner.invoke(app, ["refunds", "list"])
    assert "1 refund(s)" in text.output and "15.00" in text.output
