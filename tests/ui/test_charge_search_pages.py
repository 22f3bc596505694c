"""Charge entry and search pages through Streamlit's AppTest: a refusal is shown at the fields
it names and stores nothing; a missing fee is said and named; a practice with several
billing providers asks which one bills; the search asks a specialist
(not a lead) for a reason, and a ``?claim=`` link fills the claim-number search."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, func, select

from claimdesk.db import make_engine
from models import Claim
from tests.ui.test_ui_pages import errors, run_page


def _claims(app_data: dict[str, Any]) -> int:
    engine = make_engine(app_data["settings"])
    try:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(Claim)).one()
    finally:
        engine.dispose()


def test_a_refused_charge_is_shown_at_its_fields_and_nothing_is_stored_then_saved(
    app_env: Any, app_data: dict[str, Any]
) -> None:
    before = _claims(app_data)
    at = run_page("pages/charge_entry_page.py", "spec1")
    at.text_input(key="ce.query").input("testpatient")
    at.button(key="ce.find").click().run()
    at.button(key="ce.use").click().run()
    assert not at.exception and not errors(at)
    at.button(key="ce.save").click().run()
    shown = errors(at)
    assert "diagnoses: add at least one ICD-10-CM diagnosis" in shown
    assert "lines: add at least one service line" in shown
    assert "Not saved: 2 problem(s), shown above." in shown

    at.text_input(key="ce.dx.query").input("I10").run()
    at.button(key="ce.dx.add").click().run()
    at.text_input(key="ce.px.query").input("99213").run()
    assert at.text_input(key="ce.px.charge").value == ""  # the seeded payers have no fees
    assert "Not on the fee schedule" in [c.value for c in at.caption]
    at.button(key="ce.px.add").click().run()
    at.button(key="ce.save").click().run()
    shown = errors(at)
    assert "charge: the fee schedule has no amount for the code: give one" in shown
    assert "Not saved: 1 problem(s), shown above." in shown

    # The seeded practice bills under several providers: the form asks which one.
    at.selectbox(key="ce.bill").select_index(1).run()
    at.text_input(key="ce.px.charge").input("80.00").run()
    at.button(key="ce.line.remove.1").click().run()
    at.button(key="ce.px.add").click().run()
    at.button(key="ce.save").click().run()
    assert not errors(at), errors(at)
    assert at.success[0].value.startswith("Saved draft claim CE")
    assert _claims(app_data) == before + 1


def test_search_asks_a_specialist_for_a_reason_and_a_lead_searches_without(
    app_env: Any,
) -> None:
    specialist = run_page("pages/search_page.py", "spec1")
    specialist.text_input(key="search.query").input("testpatient")
    specialist.button[0].click().run()
    assert any("needs a reason" in e for e in errors(specialist))
    lead = run_page("pages/search_page.py", "lead1")
    assert not [t for t in lead.text_input if t.key == "search.reason"]
    lead.text_input(key="search.query").input("TESTPATIENT")
    lead.button[0].click().run()
    assert not errors(lead)
    names = [m.value for m in lead.markdown if m.value.startswith("**Testpatient, ")]
    assert names and all("born 1970-01-01" in n for n in names)


def test_a_claim_link_fills_the_claim_number_search(app_env: Any) -> None:
    at = run_page("pages/search_page.py", "lead1", claim="CLM-XYZ")
    assert at.selectbox(key="search.by").value == "claim"
    assert at.text_input(key="search.query").value == "CLM-XYZ"
