"""Bank deposits: import the bank's CSV, match deposits to 835s, see what is left.

Matching pairs a deposit with the 835 of the same trace number (TRN02) and amount
(BPR02), each at most once; the rest become review tasks in the queue.
"""

from __future__ import annotations

from collections import Counter

import streamlit as st

from claimdesk.billing import views as billing
from claimdesk.errors import ClaimdeskError
from models.types import utcnow
from ui.components import auth
from ui.deps import get_engine

user = auth.page_user("billing.reconcile")
engine = get_engine()
today = utcnow().date()
STATUSES = ("all", "unmatched", "mismatch", "matched")
st.title("Deposits")

if auth.can(user, "billing.post"):
    left, right = st.columns(2)
    with left:
        upload = st.file_uploader(
            "Bank file (CSV: date, amount, trace_number, payer_name, reference)",
            type=["csv"],
            key="deposits.file",
        )
        if st.button("Import", key="deposits.import", disabled=upload is None):
            assert upload is not None
            try:
                imported = billing.import_deposits(
                    engine, username=user.username, data=upload.getvalue(), file_name=upload.name
                )
            except ClaimdeskError as exc:
                st.error(str(exc))
            else:
                st.success(
                    f"{len(imported.created_ids)} deposit(s) imported, "
                    f"{len(imported.skipped_rows)} already known."
                )
    with right:
        as_of = st.date_input("Match as of", today, key="deposits.as_of")
        if st.button("Match deposits to 835s", type="primary", key="deposits.match"):
            try:
                matched = billing.match_deposits(
                    engine, username=user.username, as_of=as_of or today
                )
            except ClaimdeskError as exc:
                st.error(str(exc))
            else:
                st.success(
                    f"{len(matched.matched)} matched, {len(matched.task_ids)} review task(s) "
                    f"opened, {len(matched.cancelled_task_ids)} closed by a match."
                )
else:
    st.info(f"Your role ({user.role}) can read deposits but not import or match them.")

show = st.radio("Show", STATUSES, horizontal=True, key="deposits.status")
try:
    rows = billing.read_deposits(
        engine, username=user.username, status=None if show == "all" else show
    )
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
counts = Counter(r.status for r in rows)
cols = st.columns(3)
for col, status in zip(cols, STATUSES[1:], strict=True):
    col.metric(status.capitalize(), counts.get(status, 0))
st.dataframe(
    [
        {
            "Deposit": r.deposit_id,
            "Bank date": r.bank_date,
            "Amount": float(r.amount),
            "Trace": r.trace_number,
            "From": r.payer_name,
            "Status": r.status,
            "835": r.remittance_id,
            "Difference": float(r.difference) if r.difference is not None else None,
        }
        for r in rows
    ],
    hide_index=True,
    key="deposits.table",
    column_config={
        "Amount": st.column_config.NumberColumn(format="dollar"),
        "Difference": st.column_config.NumberColumn(format="dollar"),
    },
)
