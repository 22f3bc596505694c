"""The patient-billing pages through AppTest: every page for every role, and what each does.

One seeded SQLite database per module (tests/ui/conftest.py) with, on top of the queue's
users and tasks: a patient owing $50.00 on a posted 835, a patient's overpayment turned
into a refund task, a statement in the document store, a payment plan, and bank deposits
(one matched to its 835, one not).
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from claimdesk.billing import views as billing_views
from claimdesk.billing.deposits import import_bank_csv, match_deposits
from claimdesk.billing.payments import post_patient_payment
from claimdesk.billing.plans import create_plan
from claimdesk.billing.refunds import find_credit_balances
from claimdesk.billing.statements import run_statement_cycle
from claimdesk.db import make_engine, session_scope
from claimdesk.documents import make_document_store
from claimdesk.errors import PermissionDenied
from models import AuditEvent, Refund, User
from models.types import utcnow
from tests.billing.helpers import posted_claim
from tests.ui.seed import UI_DIR, USERS, signed_in
from ui.navigation import BILLING_PAGES, PAGE_ROLES, pages_for_role

TIMEOUT = 60
ONE_PER_ROLE = list({role: name for name, role in reversed(USERS.items())}.values())


@pytest.fixture(scope="module")
def billing_data(app_data: dict[str, Any]) -> dict[str, Any]:
    settings = app_data["settings"]
    engine = make_engine(settings)
    today = utcnow().date()
    paid_on = (today - timedelta(days=45)).strftime("%Y%m%d")
    with session_scope(engine) as session:
        lead = session.exec(select(User).where(User.username == "lead1")).one()
        owing, _ = posted_claim(session, pay_date=paid_on, trace="UITRN1")  # owes 50.00
        over, _ = posted_claim(session, pay_date=paid_on, trace="UITRN2")
        post_patient_payment(
            session, user=lead, patient_id=over.patient_id, amount=Decimal("65.00"),
            method="cash", received_on=today, source_key="ui-over",
            allocations={over.id or 0: Decimal("65.00")},
        )  # fmt: skip
        [refund_id] = find_credit_balances(session, as_of=today)
        [statement] = run_statement_cycle(
            session, as_of=today, store=make_document_store(settings), user=lead
        )
        create_plan(
            session, user=lead, patient_id=owing.patient_id, total_amount=Decimal("50.00"),
            installment_amount=Decimal("25.00"), cadence_days=30, start_date=today,
        )  # fmt: skip
        bank = f"date,amount,trace_number\n{today},100.00,UITRN1\n{today},9.99,NOSUCH\n"
        import_bank_csv(session, user=lead, data=bank.encode(), source_file="bank.csv")
        match_deposits(session, as_of=today, user=lead)
        refund = session.get(Refund, refund_id)
        assert refund is not None
        data = {
            "patient_id": owing.patient_id,
            "claim_id": owing.id,
            "refund_task_id": refund.review_task_id,
            "statement_id": statement.statement_id,
        }
    engine.dispose()
    return data


def run_page(path: str, username: str | None, **params: str) -> AppTest:
    at = AppTest.from_file(str(UI_DIR / path), default_timeout=TIMEOUT)
    if username:
        at.session_state["auth.user"] = signed_in(username)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def texts(at: AppTest) -> str:
    """Every text the page shows, tables included (to look for PHI)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [t.value for t in at.title] + [df.value.to_csv() for df in at.dataframe]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("username", ONE_PER_ROLE)
@pytest.mark.parametrize("page", BILLING_PAGES, ids=lambda p: p.url_path)
def test_billing_page_for_role_renders_or_refuses(
    app_env: Any, billing_data: dict[str, Any], username: str, page: Any
) -> None:
    at = run_page(page.path, username)
    assert not at.exception, at.exception
    if USERS[username] in PAGE_ROLES[page.action]:
        assert not errors(at), errors(at)
        assert at.title and at.dataframe, "an allowed page shows its title and its table"
    else:
        assert any("does not give access" in e for e in errors(at))
        assert not at.dataframe, "a refused page shows no data"


def test_billing_page_without_sign_in_refuses(app_env: Any) -> None:
    # Every billing page opens with the same auth.page_user guard; one run shows it.
    assert errors(run_page("pages/balances_page.py", None)) == ["Sign in first."]


def test_billing_pages_per_role_in_the_navigation() -> None:
    def billing(role: str) -> set[str]:
        return {p.url_path for p in pages_for_role(role)} & {p.url_path for p in BILLING_PAGES}

    assert billing("specialist") == {"balances", "statements", "payments"}
    everything = {"balances", "statements", "payments", "deposits", "refunds"}
    for role in ("lead", "manager", "auditor", "admin"):
        assert billing(role) == everything, role
    assert pages_for_role("manager")[0].url_path == "dashboard"


def test_balances_list_masks_member_ids_and_the_detail_shows_phi_audited(
    app_env: Any, app_data: dict[str, Any], billing_data: dict[str, Any]
) -> None:
    at = run_page("pages/balances_page.py", "spec1")
    frame = at.dataframe[0].value
    row = frame[frame["Patient"] == f"balances?patient={billing_data['patient_id']}"].iloc[0]
    assert row["Member"].startswith("••") and not row["Member"].startswith("MEM")
    assert (row["31-60"], row["Total"]) == (50.0, 50.0)
    assert "Testpatient" not in texts(at), "no name in the list"

    detail = run_page("pages/balances_page.py", "spec1", patient=str(billing_data["patient_id"]))
    assert not errors(detail), errors(detail)
    assert "Testpatient" in texts(detail) and "MEM" in texts(detail)
    claims, ledger = detail.dataframe[0].value, detail.dataframe[1].value
    assert claims.iloc[0]["Patient owes"] == 50.0 and claims.iloc[0]["Charge"] == 200.0
    assert {"charge", "payment", "adjustment", "transfer"} == set(ledger["Kind"])
    assert "PR-2" in set(ledger["Reason"])
    engine = make_engine(app_data["settings"])
    with Session(engine) as session:
        viewed = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "patient.viewed",
                AuditEvent.entity_id == billing_data["patient_id"],
            )
        ).all()
    engine.dispose()
    assert [e.actor for e in viewed] == ["spec1"]


def test_balances_detail_of_an_unknown_patient_is_an_error_not_a_traceback(
    app_env: Any, billing_data: dict[str, Any]
) -> None:
    at = run_page("pages/balances_page.py", "aud1", patient="999999")
    assert not at.exception
    assert errors(at) == ["no patient 999999"]


def test_posting_a_payment_through_the_page_lowers_the_balance_once(
    app_env: Any, billing_data: dict[str, Any]
) -> None:
    patient = str(billing_data["patient_id"])
    at = run_page("pages/payments_page.py", "spec1", patient=patient)
    assert at.dataframe[0].value["Patient owes"].tolist() == [50.0]
    at.text_input(key="payments.amount").input("20.00")
    at.selectbox(key="payments.method").select("cash")
    at.button(key="payments.post").click().run()
    assert not errors(at), errors(at)
    assert "Posted: payment" in at.success[0].value
    assert "claim " in at.success[0].value and "$20.00" in at.success[0].value
    assert at.dataframe[0].value["Patient owes"].tolist() == [30.0]
    at.button(key="payments.post").click().run()  # the same form again: a double click
    assert "Already posted" in at.success[0].value
    assert at.dataframe[0].value["Patient owes"].tolist() == [30.0]
    detail = run_page("pages/balances_page.py", "spec1", patient=patient)
    assert detail.metric[0].value == "$30.00"
    engine = make_engine(app_env)
    with Session(engine) as session:
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.actor == "spec1")).all()
    engine.dispose()
    assert actions.count("patient_payment.posted") == 1
    assert "patient_balances.viewed" in actions


def test_a_refused_payment_names_the_field_and_posts_nothing(
    app_env: Any, billing_data: dict[str, Any]
) -> None:
    patient = str(billing_data["patient_id"])
    at = run_page("pages/payments_page.py", "lead1", patient=patient)
    before = at.dataframe[0].value["Patient owes"].tolist()
    at.text_input(key="payments.amount").input("12.345")
    at.button(key="payments.post").click().run()
    assert errors(at) and errors(at)[0].startswith("amount:")
    at.text_input(key="payments.amount").input("10.00")
    at.selectbox(key="payments.method").select("check")
    at.button(key="payments.post").click().run()
    assert errors(at) and errors(at)[0].startswith("reference:")
    assert at.dataframe[0].value["Patient owes"].tolist() == before


def test_payments_page_is_read_only_for_the_auditor_and_the_service_refuses_too(
    app_env: Any, billing_data: dict[str, Any], tmp_path: Any
) -> None:
    at = run_page("pages/payments_page.py", "aud1", patient=str(billing_data["patient_id"]))
    assert any("can read payments but not post" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "payments.post"]
    plans = at.dataframe[-1].value
    assert plans["Installment"].tolist() == [25.0]
    from claimdesk.documents import LocalDocumentStore

    with pytest.raises(PermissionDenied):
        billing_views.post_payment(
            make_engine(app_env), username="aud1", patient_id=billing_data["patient_id"],
            amount="5.00", method="cash", reference="", received_on=utcnow().date(),
            allocations={}, on_account=False, plan_id=None, form_token="t",
            store=LocalDocumentStore(tmp_path),
        )  # fmt: skip


def test_statements_page_lists_runs_and_offers_the_pdf(
    app_env: Any, billing_data: dict[str, Any]
) -> None:
    at = run_page("pages/statements_page.py", "lead1")
    assert billing_data["statement_id"] in at.dataframe[0].value["Statement"].tolist()
    assert [getattr(d, "label", "") for d in at.get("download_button")] == ["Download PDF"]
    at.button[0].click().run()  # the form's "Run statement cycle"
    assert not errors(at), errors(at)
    assert "0 statement(s) produced" in at.success[0].value  # one cycle: nobody twice
    read_only = run_page("pages/statements_page.py", "mgr1")
    assert not read_only.button and read_only.dataframe


def test_deposits_page_imports_refuses_a_bad_file_and_matches(
    app_env: Any, billing_data: dict[str, Any]
) -> None:
    at = run_page("pages/deposits_page.py", "lead1")
    assert at.metric[0].value == "1" and at.metric[2].value == "1"  # unmatched, matched
    day = utcnow().date()
    at.file_uploader(key="deposits.file").set_value(
        ("bank.csv", f"date,amount,trace_number\n{day},12.5x,T9\n".encode(), "text/csv")
    )
    at.run()
    at.button(key="deposits.import").click().run()
    assert errors(at) == ["row 2, column 'amount': '12.5x' is not an amount; nothing was imported."]
    at.file_uploader(key="deposits.file").set_value(
        ("bank.csv", f"date,amount,trace_number\n{day},7.00,T9\n".encode(), "text/csv")
    )
    at.run()
    at.button(key="deposits.import").click().run()
    assert "1 deposit(s) imported" in at.success[0].value
    at.button(key="deposits.match").click().run()
    assert "0 matched" in at.success[-1].value
    assert at.metric[0].value == "2"
    unmatched = run_page("pages/deposits_page.py", "mgr1")
    assert not [b for b in unmatched.button if b.key in ("deposits.import", "deposits.match")]


def test_refunds_page_lists_amount_payee_deadline_and_links_the_task(
    app_env: Any, billing_data: dict[str, Any]
) -> None:
    at = run_page("pages/refunds_page.py", "mgr1")
    frame = at.dataframe[0].value
    assert frame["Task"].tolist() == [f"task?task={billing_data['refund_task_id']}"]
    assert (frame.iloc[0]["To"], frame.iloc[0]["Amount"]) == ("patient", 15.0)
    assert at.metric[1].value == "$15.00"


def test_dashboard_shows_patient_billing_kpis(app_env: Any, billing_data: dict[str, Any]) -> None:
    at = run_page("pages/dashboard_page.py", "mgr1")
    assert not at.exception and not errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Refunds pending"] == "1"
    assert metrics["Deposits matched"] == "1"
    assert metrics["Patient A/R"].startswith("$")
    fields = [
        {e["field"] for e in json.loads(c.proto.spec)["encoding"].values() if "field" in e}
        for c in at.get("vega_lite_chart")
    ]
    for chart in ({"age", "dollars"}, {"month", "dollars"}, {"status", "dollars"}):
        assert any(chart <= f for f in fields), (chart, fields)
