"""`claimdesk rules suggest | backtest | approve` over hand-made history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.db import make_engine, session_scope
from claimdesk.settings import Settings, get_settings
from models import AuditEvent, LearnedRule, User
from tests.conftest import sign_in_cli
from tests.learning.history import Line, office

runner = CliRunner()
RULE = '{"payer_id": "SIMBLU", "kind": "required_modifier", "procedure_code": "97110", '


@pytest.fixture
def cli_env(fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(fresh_settings.data_dir))
    monkeypatch.setenv("CLAIMDESK_CLOCK_SOURCE", "system")
    if fresh_settings.database_url is not None:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", fresh_settings.database_url.get_secret_value())
    else:
        monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(fresh_settings)
    served = datetime.now(UTC).date() - timedelta(days=20)
    with session_scope(engine) as session:
        session.add(User(username="lou", role="lead", password_hash="x"))
        session.add(User(username="sam", role="specialist", password_hash="x"))
        blu = office(session, "SIMBLU")
        for _ in range(5):
            blu.claim([Line("97110", denied="4")], served=served, paid_on=served)
        for _ in range(5):
            blu.claim([Line("97110", modifiers=("GP",))], served=served, paid_on=served)
    engine.dispose()
    yield fresh_settings
    get_settings.cache_clear()


def test_suggest_backtest_and_approve(cli_env: Settings) -> None:
    suggested = runner.invoke(app, ["rules", "suggest", "--json"])
    assert suggested.exit_code == 0, suggested.output
    [item] = json.loads(suggested.output)
    assert item["rule"]["words"] == (
        "SIMBLU: 97110 without GP → hold; CO-4, 5 of 5 denied, 0 of 5 with GP denied; "
        "$700 in 90 days"
    )
    assert item["backtest"]["denials_caught"] == 5
    again = runner.invoke(app, ["rules", "suggest", "--json"])
    assert [i["id"] for i in json.loads(again.output)] == [item["id"]]  # kept once
    by_id = runner.invoke(app, ["rules", "backtest", str(item["id"]), "--json"])
    assert by_id.exit_code == 0, by_id.output
    assert json.loads(by_id.output)["claims_held"] == 5
    hand = runner.invoke(app, ["rules", "backtest", RULE + '"modifier": "59"}'])
    assert hand.exit_code == 0, hand.output
    assert "would have held 10 of 10 claims: 5 denied lines caught ($700.00), 5 paid" in hand.output
    sign_in_cli(cli_env, "sam")
    refused = runner.invoke(app, ["rules", "approve", str(item["id"])])
    assert refused.exit_code == 1
    assert "may not rules.approve" in refused.output
    sign_in_cli(cli_env, "lou")
    done = runner.invoke(app, ["rules", "approve", str(item["id"]), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["pack"].endswith("+learned.1")
    with Session(make_engine(cli_env)) as session:
        row = session.get(LearnedRule, item["id"])
        assert row is not None and row.status == "approved"
        refusals = session.exec(select(AuditEvent).where(AuditEvent.action == "access.refused"))
        assert [e.actor for e in refusals] == ["sam"]


def test_bad_rules_are_refused_by_what_and_where(cli_env: Settings) -> None:
    missing = runner.invoke(app, ["rules", "backtest", RULE + '"modifier": null}'])
    assert missing.exit_code == 2
    assert "names its modifier" in missing.output and "Traceback" not in missing.output
    broken = runner.invoke(app, ["rules", "backtest", "{not json"])
    assert broken.exit_code == 2 and "RULE_JSON_OR_ID" in broken.output
    unknown = runner.invoke(app, ["rules", "backtest", "999"])
    assert unknown.exit_code == 1 and "learned rule 999 does not exist" in unknown.output
    nobody = runner.invoke(app, ["rules", "approve", "999"])  # nobody signed in
    assert nobody.exit_code == 1 and "sign in with `claimdesk login`" in nobody.output


def test_a_candidate_pack_is_backtested_whole(cli_env: Settings) -> None:
    pack = "[" + RULE + '"modifier": "GP"}, ' + RULE + '"modifier": "59"}]'
    result = runner.invoke(app, ["rules", "backtest", pack, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["claims_held"] == 10  # each claim counted once
    bad = runner.invoke(app, ["rules", "backtest", "[" + RULE + '"modifier": "GP"}, {}]'])
    assert bad.exit_code == 2 and "rule 2: payer_id: Field required" in bad.output
