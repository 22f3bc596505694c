"""`claimdesk paper cms1500 | print | post-eob` against a real (SQLite) database and store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import Session
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings, get_settings
from models import Claim, Remittance
from tests.conftest import sign_in_cli
from tests.paper.conftest import make_paper_world, make_user, paper_claim
from tests.paper.test_paper_flow import eob_for

runner = CliRunner()


@pytest.fixture
def cli_world(
    databases: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    settings: Settings = databases.settings("sqlite", tmp_path / "data")
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("CLAIMDESK_CLOCK_SOURCE", "system")
    get_settings.cache_clear()
    engine = make_engine(settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        world = make_paper_world(session)
        claim = paper_claim(session, world, lines=2)
        make_user(session, "cli.spec", "specialist")
        ids = {"claim_id": claim.id, "payer_id": world.payer.id, "npi": world.billing_npi}
    sign_in_cli(settings, "cli.spec")  # what `claimdesk login cli.spec` leaves behind
    yield {"engine": engine, "tmp": tmp_path, **ids}
    engine.dispose()
    get_settings.cache_clear()


def test_paper_cli_prints_then_posts_the_eob(cli_world: dict[str, Any]) -> None:
    tmp: Path = cli_world["tmp"]
    claim_id = cli_world["claim_id"]
    one = tmp / "one.pdf"
    result = runner.invoke(app, ["paper", "cms1500", str(claim_id), "--out", str(one)])
    assert result.exit_code == 0, result.output
    assert cli_world["npi"] in PdfReader(one).pages[0].extract_text()

    result = runner.invoke(app, ["paper", "print", "--out", str(tmp / "forms"), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert [p["claim_id"] for p in printed["printed"]] == [claim_id]
    (form,) = (tmp / "forms").glob("*.pdf")
    assert form.name == f"cms1500-{claim_id}-v1.pdf"  # ids only in the file name, no PHI

    bad = eob_for(cli_world["payer_id"], claim_id)
    bad["claims"][0]["lines"][1]["adjustments"][0]["carc"] = "999"
    (tmp / "bad.json").write_text(json.dumps(bad))
    result = runner.invoke(app, ["paper", "post-eob", str(tmp / "bad.json")])
    assert result.exit_code == 2  # bad input
    assert "claims[0].lines[1].adjustments[0].carc" in result.output
    assert "Traceback" not in result.output

    good = tmp / "eob.json"
    good.write_text(json.dumps(eob_for(cli_world["payer_id"], claim_id)))
    result = runner.invoke(app, ["paper", "post-eob", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("posted")
    with Session(cli_world["engine"]) as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None and claim.status == "paid"
        assert session.get(Remittance, 1) is not None
