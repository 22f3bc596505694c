"""Patient payments (cash, check, card reference) with receipts, and payment plans.

A payment goes to named claims, to the oldest balance first, or on account; the same
form posted twice (a double click) is one payment. Missed installments become review
tasks in the queue (the daily ``statements`` flow); here they show as counts per plan.
"""

from __future__ import annotations

import uuid
from functools import partial

import streamlit as st

from claimdesk.billing import views as billing
from claimdesk.errors import ClaimdeskError
from models.patient_billing import PAYMENT_METHODS
from models.types import utcnow
from ui.components import auth
from ui.deps import get_document_store, get_engine

user = auth.page_user("billing.view")
engine = get_engine()
can_post = auth.can(user, "billing.post")
today = utcnow().date()
RESULT_KEY, NONCE_KEY = "payments.result", "payments.nonce"
APPLY = {
    "oldest": "Oldest balance first",
    "claims": "To the claims I name",
    "account": "On account",
}
st.title("Payments")


def post_form() -> None:
    st.header("Post a payment")
    if done := st.session_state.get(RESULT_KEY):
        state = "Posted" if done.created else "Already posted (the same form again)"
        parts = ", ".join(f"claim {c}: ${a:,.2f}" for c, a in done.applied) or "nothing applied"
        st.success(
            f"{state}: payment {done.payment_id}, receipt {done.receipt_number}. {parts}; "
            f"on account ${done.on_account:,.2f}."
        )
        if done.receipt_document_id:
            st.download_button(
                "Download receipt",
                partial(
                    billing.receipt_pdf,
                    engine,
                    username=user.username,
                    payment_id=done.payment_id,
                    store=get_document_store(),
                ),
                file_name=f"receipt-{done.receipt_number}.pdf",
                mime="application/pdf",
                key="payments.receipt",
            )
        if st.button("Post another payment", key="payments.another"):
            st.session_state.pop(RESULT_KEY, None)
            st.session_state[NONCE_KEY] = uuid.uuid4().hex
            st.rerun()
    given = st.query_params.get("patient", "")
    patient_id = st.number_input(
        "Patient id",
        min_value=1,
        step=1,
        value=int(given) if given.isdigit() else None,
        key="payments.patient",
    )
    if not patient_id:
        return
    try:
        owed = billing.read_open_claims(engine, username=user.username, patient_id=patient_id)
        plans = billing.read_plans(
            engine, username=user.username, status="active", patient_id=patient_id
        )
    except ClaimdeskError as exc:
        st.error(str(exc))
        return
    st.dataframe(
        [
            {
                "Claim": c.claim_id,
                "Number": c.patient_control_number,
                "Service": c.service_from,
                "Patient owes": float(c.patient_balance),
            }
            for c in owed
        ],
        hide_index=True,
        key="payments.owed",
        column_config={"Patient owes": st.column_config.NumberColumn(format="dollar")},
    )
    st.caption(f"Open patient balance ${sum(c.patient_balance for c in owed):,.2f}")
    row = st.columns(4)
    amount = row[0].text_input("Amount", placeholder="0.00", key="payments.amount")
    method = row[1].selectbox("Method", PAYMENT_METHODS, key="payments.method")
    reference = row[2].text_input("Check number or card authorisation", key="payments.reference")
    received = row[3].date_input("Received on", today, key="payments.received")
    apply = st.radio(
        "Apply", list(APPLY), format_func=APPLY.__getitem__, horizontal=True, key="payments.apply"
    )
    allocations: dict[int, str] = {}
    if apply == "claims":
        for c in owed:
            allocations[c.claim_id] = st.text_input(
                f"Claim {c.patient_control_number} (owes ${c.patient_balance:,.2f})",
                key=f"payments.claim.{c.claim_id}",
            )
    plan_ids = [0, *(p.plan_id for p in plans)]
    plan_id = st.selectbox(
        "Toward payment plan",
        plan_ids,
        format_func=lambda i: f"plan {i}" if i else "no plan",
        key="payments.plan",
    )
    if st.button("Post payment", type="primary", key="payments.post"):
        nonce = st.session_state.setdefault(NONCE_KEY, uuid.uuid4().hex)
        token = f"{nonce}|{patient_id}|{amount}|{method}|{reference}|{received}|{allocations}"
        try:
            result = billing.post_payment(
                engine,
                username=user.username,
                patient_id=patient_id,
                amount=amount,
                method=method,
                reference=reference,
                received_on=received or today,
                allocations=allocations,
                on_account=apply == "account",
                plan_id=plan_id or None,
                form_token=token,
                store=get_document_store(),
            )
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            st.session_state[RESULT_KEY] = result
            st.rerun()  # the balances above are read again


def plans_section() -> None:
    st.header("Payment plans")
    if can_post:
        with st.form("payments.plan_form", clear_on_submit=True):
            st.subheader("New plan")
            row = st.columns(5)
            patient_id = row[0].number_input("Patient id", min_value=1, step=1, value=None)
            total = row[1].text_input("Total", placeholder="0.00")
            installment = row[2].text_input("Each installment", placeholder="0.00")
            every = row[3].number_input("Every (days)", min_value=1, max_value=366, value=30)
            start = row[4].date_input("First due", today)
            if st.form_submit_button("Create plan"):
                try:
                    plan_id = billing.create_plan(
                        engine,
                        username=user.username,
                        patient_id=int(patient_id or 0),
                        total=total,
                        installment=installment,
                        cadence_days=int(every),
                        start_date=start or today,
                    )
                except ClaimdeskError as exc:
                    st.error(str(exc))
                else:
                    st.success(f"Payment plan {plan_id} created.")
    missed_only = st.toggle("Only plans with missed installments", key="payments.missed_only")
    try:
        plans = billing.read_plans(engine, username=user.username)
    except ClaimdeskError as exc:
        st.error(str(exc))
        return
    st.dataframe(
        [
            {
                "Plan": p.plan_id,
                "Patient": f"balances?patient={p.patient_id}",
                "Total": float(p.total_amount),
                "Installment": float(p.installment_amount),
                "Every (days)": p.cadence_days,
                "Paid": float(p.paid),
                "Next due": p.next_due_date,
                "Missed": p.missed,
                "Status": p.status,
            }
            for p in plans
            if p.missed or not missed_only
        ],
        hide_index=True,
        key="payments.plans",
        column_config={
            "Patient": st.column_config.LinkColumn(display_text=r"balances\?patient=(\d+)"),
            **{k: st.column_config.NumberColumn(format="dollar") for k in ("Total", "Paid")},
        },
    )


if can_post:
    post_form()
else:
    st.info(f"Your role ({user.role}) can read payments but not post them.")
st.header("Recent payments")
try:
    payments = billing.read_payments(engine, username=user.username)
except ClaimdeskError as exc:
    st.error(str(exc))
else:
    st.dataframe(
        [
            {
                "Payment": p.payment_id,
                "Patient": f"balances?patient={p.patient_id}",
                "Received": p.received_on,
                "Method": p.method,
                "Reference": p.reference or "",
                "Amount": float(p.amount),
                "On account": float(p.unapplied),
                "Receipt": p.receipt_number or "",
            }
            for p in payments
        ],
        hide_index=True,
        key="payments.list",
        column_config={
            "Patient": st.column_config.LinkColumn(display_text=r"balances\?patient=(\d+)"),
            **{k: st.column_config.NumberColumn(format="dollar") for k in ("Amount", "On account")},
        },
    )
plans_section()
