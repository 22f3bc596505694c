"""Patient statements: run a cycle now, list them, download a PDF from the document store.

The daily ``statements`` deployment runs the same cycle; a patient who had a statement
within the cycle gets none, so running it here as well sends nobody two.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from claimdesk.billing import views as billing
from claimdesk.billing.statements import DEFAULT_CYCLE_DAYS
from claimdesk.errors import ClaimdeskError
from models.types import utcnow
from ui.components import auth
from ui.deps import get_document_store, get_engine

user = auth.page_user("billing.view")
engine = get_engine()
today = utcnow().date()
st.title("Statements")

if auth.can(user, "billing.post"):
    with st.form("statements.run"):
        row = st.columns(2)
        as_of = row[0].date_input("Statement date", today)
        cycle = row[1].number_input(
            "Cycle (days)", min_value=1, max_value=366, value=DEFAULT_CYCLE_DAYS
        )
        if st.form_submit_button("Run statement cycle", type="primary"):
            try:
                results = billing.run_statements(
                    engine,
                    username=user.username,
                    as_of=as_of or today,
                    cycle_days=int(cycle),
                    store=get_document_store(),
                )
            except ClaimdeskError as exc:
                st.error(str(exc))
            else:
                made = [r for r in results if r.created]
                due = sum(r.amount_due for r in made)
                st.success(f"{len(made)} statement(s) produced, ${due:,.2f} due in all.")

try:
    rows = billing.read_statements(engine, username=user.username)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
st.caption(f"{len(rows)} most recent statements")
st.dataframe(
    [
        {
            "Statement": s.statement_id,
            "Patient": f"balances?patient={s.patient_id}",
            "Date": s.statement_date,
            "Amount due": float(s.amount_due),
            "Claims": ", ".join(str(c) for c in s.claim_ids),
        }
        for s in rows
    ],
    hide_index=True,
    key="statements.table",
    column_config={
        "Patient": st.column_config.LinkColumn(display_text=r"balances\?patient=(\d+)"),
        "Amount due": st.column_config.NumberColumn(format="dollar"),
    },
)
with_pdf = [s.statement_id for s in rows if s.document_id is not None]
if with_pdf:
    pick = st.columns([2, 1])
    picked = pick[0].selectbox(
        "Statement", with_pdf, format_func=lambda i: f"statement {i}", key="statements.pick"
    )
    # The PDF is read (and the download audited) only when the button is clicked.
    pick[1].download_button(
        "Download PDF",
        partial(
            billing.statement_pdf,
            engine,
            username=user.username,
            statement_id=picked,
            store=get_document_store(),
        ),
        file_name=f"statement-{picked}.pdf",
        mime="application/pdf",
        key="statements.download",
    )
