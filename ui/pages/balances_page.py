"""Patient balances aged 30/60/90/120 days; one patient's claims and ledger on ``?patient=ID``.

The list shows ids and a masked member id; the name, birth date and address are only on
the detail, whose every opening is audited (``patient.viewed``).
"""

from __future__ import annotations

import streamlit as st

from claimdesk.billing import views as billing
from claimdesk.errors import ClaimdeskError
from claimdesk.reporting import patient_history
from models.types import utcnow
from ui.components import auth, charts
from ui.deps import get_engine
from ui.navigation import BALANCES, PAYMENTS

user = auth.page_user("billing.view")
engine = get_engine()
today = utcnow().date()


def _money(value: object) -> float:
    return float(value)  # type: ignore[arg-type]  # Decimal → the table's dollar column


def detail(patient_id: int) -> None:
    try:
        d = billing.read_patient_detail(
            engine, username=user.username, patient_id=patient_id, as_of=today
        )
    except ClaimdeskError as exc:
        st.error(str(exc))
        return
    st.title(f"Patient {d.patient_id}")
    st.markdown(f"**{d.name}** · born {d.birth_date:%Y-%m-%d} · account {d.account_number}")
    if d.address:
        st.markdown(d.address)
    for payer, member in d.member_ids:
        st.markdown(f"{payer}: member id `{member}`")
    cols = st.columns(3)
    cols[0].metric("Patient balance", f"${d.patient_balance:,.2f}")
    cols[1].metric("Claims", len(d.claims))
    cols[2].metric("Payments", len(d.payments))
    if auth.can(user, "billing.post"):
        st.markdown(f"[Post a payment]({PAYMENTS.url_path}?patient={patient_id})")
    left, right = st.columns(2)
    with left:
        st.subheader("Balance over time")
        if history := patient_history.balance_history(d, as_of=today):
            st.altair_chart(charts.balance_over_time(history), key="balances.history")
        else:
            st.write("Nothing posted yet.")
    with right:
        st.subheader("Patient balance by age, month by month")
        ageing = patient_history.ageing_history(d, as_of=today)
        if any(p.dollars for p in ageing):
            st.altair_chart(charts.ageing_over_time(ageing), key="balances.ageing")
        else:
            st.write("The patient has owed nothing so far.")
    st.subheader("Claims")
    st.dataframe(
        [
            {
                "Claim": c.claim_id,
                "Number": c.patient_control_number,
                "Service": c.service_from,
                "Payer": c.payer,
                "Status": c.status,
                "Charge": _money(c.balance.charge),
                "Insurance paid": _money(c.balance.paid_by_payers),
                "Adjustments": _money(c.balance.contractual + c.balance.written_off),
                "Patient paid": _money(c.balance.paid_by_patient),
                "Insurance owes": _money(c.balance.insurance_balance),
                "Patient owes": _money(c.balance.patient_balance),
            }
            for c in d.claims
        ],
        hide_index=True,
        key="balances.claims",
    )
    st.subheader("Ledger")
    st.dataframe(
        [
            {
                "Date": e.effective_date,
                "Claim": e.claim_id,
                "Kind": e.kind,
                "From": e.from_account,
                "To": e.to_account,
                "Amount": _money(e.amount),
                "Reason": e.reason,
            }
            for e in d.ledger
        ],
        hide_index=True,
        key="balances.ledger",
    )
    if d.payments:
        st.subheader("Payments")
        st.dataframe(
            [
                {
                    "Payment": p.payment_id,
                    "Received": p.received_on,
                    "Method": p.method,
                    "Amount": _money(p.amount),
                    "On account": _money(p.unapplied),
                    "Receipt": p.receipt_number,
                }
                for p in d.payments
            ],
            hide_index=True,
        )
    if d.plans:
        st.subheader("Payment plans")
        st.dataframe(
            [
                {
                    "Plan": p.plan_id,
                    "Total": _money(p.total_amount),
                    "Paid": _money(p.paid),
                    "Next due": p.next_due_date,
                    "Missed": p.missed,
                    "Status": p.status,
                }
                for p in d.plans
            ],
            hide_index=True,
        )
    if d.statements:
        st.subheader("Statements")
        st.dataframe(
            [
                {"Statement": s.statement_id, "Date": s.statement_date, "Due": _money(s.amount_due)}
                for s in d.statements
            ],
            hide_index=True,
        )
    st.markdown(f"[All balances]({BALANCES.url_path})")


patient = st.query_params.get("patient")
if patient:
    if patient.isdigit():
        detail(int(patient))
    else:
        st.error(f"{patient!r} is not a patient id.")
    st.stop()

st.title("Patient balances")
pick = st.columns(2)
as_of = pick[0].date_input("As of", today, key="balances.as_of")
min_age = pick[1].selectbox(
    "Only balances older than",
    [0, 31, 61, 91, 121],
    format_func=lambda d: f"{d} days" if d else "any age",
    key="balances.min_age",
)
try:
    rows = billing.read_balances(
        engine, username=user.username, as_of=as_of or today, min_age_days=min_age
    )
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
total = sum(r.total for r in rows)
st.caption(f"{len(rows)} patients owe ${total:,.2f}")
st.dataframe(
    [
        {
            "Patient": f"balances?patient={r.patient_id}",
            "Member": r.member_id,
            **{bucket: _money(r.buckets[bucket]) for bucket in billing.BUCKETS},
            "Total": _money(r.total),
            "Claims": r.claims,
        }
        for r in rows
    ],
    hide_index=True,
    key="balances.table",
    column_config={
        "Patient": st.column_config.LinkColumn("Patient", display_text=r"balances\?patient=(\d+)"),
        **{
            b: st.column_config.NumberColumn(b, format="dollar")
            for b in (*billing.BUCKETS, "Total")
        },
    },
)
