"""Credit balances to refund: amount, to whom, deadline. Decided on their review task.

Leads approve, post or dismiss a refund through the task's decision form (the queue's
``refund`` tasks); this page lists them and links each to its task.
"""

from __future__ import annotations

import streamlit as st

from claimdesk.billing import views as billing
from claimdesk.errors import ClaimdeskError
from models.types import utcnow
from ui.components import auth
from ui.deps import get_engine
from ui.navigation import TASK

user = auth.page_user("billing.reconcile")
engine = get_engine()
today = utcnow().date()
STATUSES = ("pending", "posted", "dismissed", "all")
st.title("Refunds")
status = st.selectbox("Status", STATUSES, key="refunds.status")
try:
    lines = billing.read_refunds(
        engine, username=user.username, status=None if status == "all" else status
    )
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
cols = st.columns(2)
cols[0].metric("Refunds", len(lines))
cols[1].metric("Amount", f"${sum(line.row.amount for line in lines):,.2f}")
late = [line.row.refund_id for line in lines if line.row.deadline and line.row.deadline < today]
if late and status == "pending":
    st.warning(f"Past the 60-day deadline: refunds {late}.")
st.dataframe(
    [
        {
            "Refund": line.row.refund_id,
            "Task": f"{TASK.url_path}?task={line.row.review_task_id}"
            if line.row.review_task_id
            else None,
            "Claim": line.row.claim_id,
            "To": line.to_whom,
            "Amount": float(line.row.amount),
            "Identified": line.row.identified_on,
            "Deadline": line.row.deadline,
            "Status": line.row.status,
        }
        for line in lines
    ],
    hide_index=True,
    key="refunds.table",
    column_config={
        "Task": st.column_config.LinkColumn("Task", display_text=r"task\?task=(\d+)"),
        "Amount": st.column_config.NumberColumn(format="dollar"),
    },
)
st.caption("Open a refund's task to approve, post or dismiss it.")
