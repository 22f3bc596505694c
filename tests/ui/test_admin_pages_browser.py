"""The admin's office pages in a real browser: Debian's Chromium against `streamlit run`.

The same stack as ``test_browser`` (a migrated, seeded SQLite database; the app as a
subprocess; admins sign in with a TOTP code): an admin adds a provider after a wrong NPI
is refused at its field, changes a payer's timely-filing days and adds a fee-schedule
rate and uploads a fee CSV, and each lands in the database with its audit event.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, col, select

from models import AuditEvent, FeeSchedule, Payer, Provider
from tests.ui import test_browser as real_app

app_server = real_app.app_server
browser = real_app.browser

pytestmark = pytest.mark.browser

BAD_NPI = "1234567890"
GOOD_NPI = "1234567893"


def _events(engine: Any, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.actor == "admin1")
        return list(session.exec(query.order_by(col(AuditEvent.id))).all())


def _open(page: Any, link: str, heading: str) -> None:
    more = page.get_by_text(re.compile(r"^View \d+ more$"))
    if more.count():  # the sidebar folds the pages after the tenth
        more.first.click()
    page.get_by_role("link", name=link, exact=True).first.click()
    page.get_by_role("heading", name=heading).first.wait_for()


def test_an_admin_keeps_the_offices_own_data(app_server: Any, browser: Any) -> None:
    engine = app_server["engine"]
    with Session(engine) as session:
        providers_before = len(session.exec(select(Provider.id)).all())
    page = real_app._sign_in(browser, app_server["url"], "admin1")

    # A provider: a wrong NPI is refused under the NPI field, nothing stored; then added.
    _open(page, "Practice", "Practice and providers")
    npi = page.get_by_label("Provider NPI")
    npi.fill(BAD_NPI)
    page.get_by_label("First name").fill("Lena")
    page.get_by_label("Last name").fill("Fischer")
    page.get_by_role("button", name="Save provider").click()
    column = page.get_by_test_id("stColumn").filter(has=npi).last
    column.get_by_text("not a valid NPI").wait_for()
    real_app._shot(page, "admin-provider-refused")
    with Session(engine) as session:
        assert len(session.exec(select(Provider.id)).all()) == providers_before
    [refused] = _events(engine, "office.edit_refused")
    assert refused.details == {"via": "app", "fields": ["npi"]}

    npi.fill(GOOD_NPI)
    page.get_by_role("button", name="Save provider").click()
    page.get_by_text("provider").and_(page.get_by_text("created")).first.wait_for()
    with Session(engine) as session:
        provider = session.exec(select(Provider).where(Provider.npi == GOOD_NPI)).one()
    assert (provider.first_name, provider.last_name, provider.role) == (
        "Lena",
        "Fischer",
        "rendering",
    )
    assert len(_events(engine, "provider.created")) == 1

    # A payer's timely-filing days (the first payer, Acme Health, is the one shown).
    _open(page, "Payers", "Payers")
    page.get_by_label("Timely filing (days)").fill("120")
    page.get_by_role("button", name="Save payer").click()
    page.get_by_text("Saved: payer").wait_for()
    real_app._shot(page, "admin-payer-saved")
    with Session(engine) as session:
        acme = session.exec(select(Payer).where(Payer.name == "Acme Health")).one()
    assert acme.timely_filing_days == 120
    [updated] = _events(engine, "payer.updated")
    assert "timely_filing_days" in updated.details["fields"]

    # A fee-schedule rate for that payer.
    _open(page, "Fee schedules", "Fee schedules")
    page.get_by_label("CPT/HCPCS code").fill("99213")
    page.get_by_label("Expected allowed ($)").fill("92.00")
    page.get_by_role("button", name="Save rate").click()
    page.get_by_text("Saved: fee schedule").wait_for()
    page.get_by_role("cell", name="99213").or_(page.get_by_text("99213")).first.wait_for()
    real_app._shot(page, "admin-fee-saved")
    with Session(engine) as session:
        [rate] = session.exec(select(FeeSchedule)).all()
    assert (rate.payer_id, rate.code, rate.expected_allowed) == (acme.id, "99213", Decimal("92"))
    assert len(_events(engine, "fee_schedule.created")) == 1

    # The CSV `office import` takes, uploaded: its rows are added, audited by the file's name.
    csv = "payer,code,modifier,effective_from,effective_to,allowed\n"
    csv += f"{acme.payer_id},99214,,2026-01-01,,130.50\n"
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "acme-fees.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_text("acme-fees.csv").first.wait_for()
    page.get_by_role("button", name="Import CSV").click()
    page.get_by_text("fee schedule").and_(page.get_by_text("99214")).first.wait_for()
    with Session(engine) as session:
        codes = sorted(session.exec(select(FeeSchedule.code)).all())
    assert codes == ["99213", "99214"]
    assert _events(engine, "fee_schedule.created")[-1].details["file"] == "acme-fees.csv"
    page.context.close()
