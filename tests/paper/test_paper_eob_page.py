"""The paper EOB page through Streamlit's AppTest, on a real migrated database and store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from models import Claim, Document
from tests.paper.conftest import make_paper_world, make_user, paper_claim
from ui.navigation import PAPER_EOB, UI_DIR, pages_for_role

# Generous: the shared machine can be slow to import pandas and altair on first use.
TIMEOUT = 60


@pytest.fixture(scope="module")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("eob-app"))
    engine = make_engine(settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        world = make_paper_world(session)
        claims = [paper_claim(session, world, lines=2, status="sent") for _ in range(2)]
        make_user(session, "page.spec", "specialist")
        ids = {"payer_id": world.payer.id, "claim_ids": [c.id for c in claims]}
    return {"settings": settings, "engine": engine, **ids}


@pytest.fixture
def page_env(app_db: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(app_db["settings"].data_dir))
    for name in ("CLAIMDESK_DATABASE_URL", "CLAIMDESK_PREFECT_API_URL", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    yield app_db


def _page(username: str, role: str) -> AppTest:
    at = AppTest.from_file(str(UI_DIR / PAPER_EOB.path), default_timeout=TIMEOUT)
    at.session_state["auth.user"] = {
        "id": 0,
        "username": username,
        "display_name": username,
        "role": role,
    }
    return at.run()


def _fill(at: AppTest, claim_id: int, *, line2_paid: str) -> AppTest:
    at.text_input(key="eob.check").input("CHK-PAGE-1")
    at.text_input(key="eob.total").input("170.00")
    at.multiselect(key="eob.claims").select(claim_id).run()
    key = f"eob.{claim_id}"
    at.text_input(key=f"{key}.paid").input("170.00")
    at.number_input(key=f"{key}.1.count").set_value(2)
    at.number_input(key=f"{key}.2.count").set_value(2).run()
    for line, paid, write_off in ((1, "80.00", "5.00"), (2, line2_paid, "10.00")):
        lkey = f"{key}.{line}"
        at.text_input(key=f"{lkey}.paid").input(paid)
        at.selectbox(key=f"{lkey}.0.g").select("CO")
        at.selectbox(key=f"{lkey}.0.c").select("45")
        at.text_input(key=f"{lkey}.0.a").input(write_off)
        at.selectbox(key=f"{lkey}.1.g").select("PR")
        at.selectbox(key=f"{lkey}.1.c").select("2")
        at.text_input(key=f"{lkey}.1.a").input("15.00" if line == 1 else "10.00")
    return at.run()


def test_paper_eob_page_posts_an_eob_picked_in_plain_english(page_env: dict[str, Any]) -> None:
    claim_id = page_env["claim_ids"][0]
    at = _page("page.spec", "specialist")
    assert not at.exception and at.title[0].value == "Paper EOB"
    # The CARC picker speaks plain English from the routing table.
    carc = at.selectbox(key="eob.payer")  # payer list: the paper payer first
    assert "(paper)" in str(carc.options[0])
    at = _fill(at, claim_id, line2_paid="90.00")
    picker = at.selectbox(key=f"eob.{claim_id}.1.0.c")
    assert any("written off" in str(option) for option in picker.options)
    at.button(key="eob.post").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith("Posted")
    with Session(page_env["engine"]) as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None and claim.status == "paid"
        assert session.exec(select(Document).where(Document.kind == "paper_eob")).first()


def test_paper_eob_page_shows_the_refusal_and_posts_nothing(page_env: dict[str, Any]) -> None:
    claim_id = page_env["claim_ids"][1]
    at = _fill(_page("page.spec", "specialist"), claim_id, line2_paid="95.00")
    at.button(key="eob.post").click().run()
    assert not at.exception
    assert any("claims[0].lines[1]" in e.value for e in at.error), [e.value for e in at.error]
    with Session(page_env["engine"]) as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None and claim.status == "sent"


def test_paper_eob_page_is_for_specialists_leads_and_managers(page_env: dict[str, Any]) -> None:
    at = _page("someone", "auditor")
    assert any("does not give access" in e.value for e in at.error)
    assert all(PAPER_EOB in pages_for_role(r) for r in ("specialist", "lead", "manager"))
    assert not any(PAPER_EOB in pages_for_role(r) for r in ("auditor", "admin"))
