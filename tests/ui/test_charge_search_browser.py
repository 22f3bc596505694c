"""Charge entry and search in a real browser (Debian's Chromium through Playwright).

A specialist finds a demo patient by their name typed in lower case, picks the diagnosis
from the ICD-10-CM look-up by its words and the procedure by its code, sees the charge
filled from the payer's fee schedule, saves the draft claim, then follows the link to the
search page and finds the claim by its number (with the reason a specialist gives).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, col, select

from claimdesk.claims.fees import expected_allowed
from claimdesk.demo.generate import generate_demo_practice
from models import AuditEvent, Claim, ClaimLine, Coverage, Diagnosis, Patient
from tests.ui import test_browser as real_app

app_server = real_app.app_server
browser = real_app.browser
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(app_server: dict[str, Any]) -> dict[str, Any]:
    """The demo practice added to the running app's database; a patient billable today."""
    today = date.today()
    with Session(app_server["engine"], expire_on_commit=False) as session:
        generate_demo_practice(session, claims=6, seed=11)
        session.commit()
        for patient in session.exec(select(Patient).order_by(col(Patient.id))).all():
            first = session.exec(
                select(Coverage)
                .where(Coverage.patient_id == patient.id)
                .order_by(col(Coverage.coverage_order), col(Coverage.effective_from).desc())
            ).first()
            if first is None or first.effective_from > today:
                continue
            if first.effective_to is not None and first.effective_to < today:
                continue
            fee = expected_allowed(
                session, payer_id=first.payer_id, code="99213", modifier=None, on=today
            )
            if fee is not None and patient.last_name.isalpha():
                return {"patient": patient, "coverage": first, "fee": fee}
    pytest.fail("the demo practice has no patient with a coverage and a 99213 fee today")


def _fill(page: Any, label: str, text: str) -> None:
    box = page.get_by_label(label)
    box.fill(text)
    box.press("Enter")  # a Streamlit text input sends its value on Enter (or blur)


def _pick(page: Any, selectbox: str, option: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=selectbox).click()
    page.get_by_role("option", name=option).click()


def test_a_charge_entered_with_looked_up_codes_is_found_through_search(
    app_server: dict[str, Any], browser: Any, demo: dict[str, Any]
) -> None:
    patient: Patient = demo["patient"]
    page = real_app._sign_in(browser, app_server["url"], "spec1")
    page.get_by_role("link", name="Charge entry").click()
    page.get_by_role("heading", name="Charge entry").wait_for()

    _fill(page, "Patient name, account or member id", patient.last_name.lower())
    page.get_by_role("button", name="Find patient").click()
    page.get_by_role("button", name="Enter a charge for this patient").click()
    page.get_by_role("heading", name=f"{patient.last_name}, {patient.first_name}").wait_for()

    _fill(page, "Find a diagnosis (code or words)", "essential primary hypertension")
    _pick(page, "Diagnosis found", "I10 Essential (primary) hypertension")
    page.get_by_role("button", name="Add diagnosis").click()
    page.get_by_text("1. I10 Essential (primary) hypertension").wait_for()

    _fill(page, "Find a procedure (HCPCS words or code; CPT by code)", "99213")
    page.get_by_text(f"Fee schedule: ${demo['fee']:,.2f}").wait_for()
    assert page.get_by_label("Charge ($)").input_value() == f"{demo['fee']:.2f}"
    page.get_by_role("button", name="Add line").click()
    page.get_by_text("1. 99213").wait_for()
    real_app._shot(page, "charge-entry")
    page.get_by_role("button", name="Save draft claim").click()
    saved = page.get_by_text(re.compile(r"Saved draft claim CE\d+"))
    saved.wait_for()
    match = re.search(r"Saved draft claim (CE\d+) \(claim (\d+)", saved.inner_text())
    assert match
    pcn, claim_id = match.group(1), int(match.group(2))

    with Session(app_server["engine"]) as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None and claim.patient_control_number == pcn
        assert (claim.status, claim.patient_id, claim.coverage_id) == (
            "draft",
            patient.id,
            demo["coverage"].id,
        )
        line = session.exec(select(ClaimLine).where(ClaimLine.claim_id == claim_id)).one()
        assert (line.procedure_code, line.charge) == ("99213", Decimal(demo["fee"]))
        dx = session.exec(select(Diagnosis.code).where(Diagnosis.claim_id == claim_id)).all()
        assert list(dx) == ["I10"]

    # The success message links to the search, filled with the claim number.
    # The saved claim's button opens the search filled with the claim number.
    page.get_by_role("button", name="Find it in search").click()
    page.get_by_role("heading", name="Search patients and claims").wait_for()
    assert f"claim={pcn}" in page.url
    assert page.get_by_label("Name, account, member id or claim number").input_value() == pcn
    page.get_by_role("textbox", name="Why you are looking (kept in the audit log)").fill(
        "checking a new charge"
    )
    page.get_by_role("button", name="Search").click()
    page.get_by_text(f"Claim {pcn} (id {claim_id})").wait_for()
    page.get_by_text(f"{patient.last_name}, {patient.first_name}").first.wait_for()
    real_app._shot(page, "search-claim")
    with Session(app_server["engine"]) as session:
        event = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "phi.searched", AuditEvent.actor == "spec1")
            .order_by(col(AuditEvent.id).desc())
        ).first()
        assert event is not None and event.details["claim_ids"] == [claim_id]
        assert event.details["reason"] == "checking a new charge"
    page.context.close()
