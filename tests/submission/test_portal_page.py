"""The Portal files page through Streamlit's AppTest, on a real migrated database and store.

A specialist exports the ready claims (a download appears for each batch written, and
the batch is listed to download again), posts an 835 file for two of them, and sees a
malformed acknowledgement refused with its position. The same stage functions as the
command line, so the page's own work is checked here: what it calls, shows and audits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from claimdesk.settings import get_settings
from models import AuditEvent, Claim, Payer, Submission
from tests.denials.builders_835 import remit
from tests.submission.portal_world import SPECIALIST, PortalWorld, make_portal_world, paid_clp
from ui.navigation import PORTAL_FILES, UI_DIR, pages_for_role

pytestmark = pytest.mark.slow
TIMEOUT = 120  # the first export scrubs (code sets load) and runs pyx12


@pytest.fixture(scope="module")
def world(databases: Any, tmp_path_factory: Any) -> Iterator[PortalWorld]:
    tmp = tmp_path_factory.mktemp("portal-page")
    world = make_portal_world(databases.settings("sqlite", tmp), tmp, claims=4)
    yield world
    world.engine.dispose()


@pytest.fixture
def page_env(world: PortalWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[PortalWorld]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(world.settings.data_dir))
    for name in ("CLAIMDESK_DATABASE_URL", "CLAIMDESK_PREFECT_API_URL", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield world
    get_settings.cache_clear()


def _page(username: str, role: str) -> AppTest:
    at = AppTest.from_file(str(UI_DIR / PORTAL_FILES.path), default_timeout=TIMEOUT)
    at.session_state["auth.user"] = {
        "id": 0,
        "username": username,
        "display_name": username,
        "role": role,
    }
    return at.run()


def test_the_page_exports_posts_and_refuses_a_malformed_file(page_env: PortalWorld) -> None:
    at = _page(SPECIALIST, "specialist")
    assert not at.exception and at.title[0].value == "Portal files"
    at.button(key="portal.export").click().run()
    assert not at.error, [e.value for e in at.error]
    assert "marked sent" in at.success[0].value
    with Session(page_env.engine) as session:
        claims = session.exec(select(Claim)).all()
        submissions = session.exec(select(Submission)).all()
    assert {c.status for c in claims} == {"sent"}
    assert {s.status for s in submissions} == {"sent"}
    listed = [b.key for b in at.button if b.key and b.key.endswith(".prepare")]
    assert sorted(listed) == sorted(f"portal.batch.{s.id}.prepare" for s in submissions)

    at.button(key="portal.export").click().run()  # a second export: nothing left
    assert any("Nothing ready" in i.value for i in at.info)

    at.button(key=listed[0]).click().run()  # download an exported batch again: audited
    assert not at.error, [e.value for e in at.error]

    payer_claims = [c for c in claims if c.payer_id == claims[0].payer_id]
    with Session(page_env.engine) as session:
        data = remit([paid_clp(session, c.id or 0) for c in payer_claims], trace="EFTPAGE1")
        payer = session.get(Payer, claims[0].payer_id)
        assert payer is not None
    at.file_uploader(key="portal.835").set_value(("remit.835", data, "text/plain")).run()
    # The builder's sender (GS02 PAYER) is no payer claimdesk knows: the person names it.
    at.text_input(key="portal.835.payer").input(payer.payer_id).run()
    at.button(key="portal.835.post").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.success[-1].value.startswith("1 set(s): 1 posted")
    with Session(page_env.engine) as session:
        statuses = {session.get(Claim, c.id).status for c in payer_claims}  # type: ignore[union-attr]
        actions = {
            (e.actor, e.action)
            for e in session.exec(select(AuditEvent).where(AuditEvent.actor == SPECIALIST))
        }
    assert statuses == {"paid"}
    assert {
        (SPECIALIST, "submission.exported"),
        (SPECIALIST, "submission.export_read"),
        (SPECIALIST, "remittance.file_imported"),
    } <= actions

    at.file_uploader(key="portal.ack").set_value(("x.999", b"ISA*00*  broken", "text/plain"))
    at.run()
    at.button(key="portal.ack.import").click().run()
    assert not at.exception
    assert any("segment" in e.value for e in at.error), [e.value for e in at.error]


def test_the_page_is_for_specialists_leads_and_managers(page_env: PortalWorld) -> None:
    at = _page("someone", "auditor")
    assert any("does not give access" in e.value for e in at.error)
    assert all(PORTAL_FILES in pages_for_role(r) for r in ("specialist", "lead", "manager"))
    assert not any(PORTAL_FILES in pages_for_role(r) for r in ("auditor", "admin"))
