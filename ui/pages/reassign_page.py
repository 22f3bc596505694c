"""Leads and managers move tasks between people, one or many at a time."""

from __future__ import annotations

import streamlit as st

from claimdesk.errors import ClaimdeskError
from claimdesk.workqueue import filters as queue_lists
from claimdesk.workqueue import queue
from ui.components import auth, pager, queue_filters
from ui.deps import get_engine

user = auth.page_user("task.reassign")
engine = get_engine()
st.title("Reassign tasks")
choices = queue.read_choices(engine, username=user.username)
filters = queue_filters.show(choices, can_work=False)
cursor, page_number = pager.current("reassign", repr(filters))
try:
    page = queue_lists.list_queue(engine, username=user.username, filters=filters, cursor=cursor)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
labels = {
    row.task_id: f"#{row.task_id} {row.kind} · {row.claim_number or '-'} · "
    f"{row.assignee or 'unassigned'} · {row.status}"
    for row in page.rows
}
with st.form("reassign.form"):
    chosen = st.multiselect(
        f"Tasks (page {page_number}, {page.total} match)",
        list(labels),
        format_func=lambda tid: labels[tid],
        key="reassign.tasks",
    )
    everyone = st.checkbox("All tasks on this page", key="reassign.all")
    target = st.selectbox("Move to", choices.workers, key="reassign.target")
    submitted = st.form_submit_button("Reassign", type="primary")
if submitted:
    task_ids = list(labels) if everyone else chosen
    if not task_ids or not target:
        st.error("Pick tasks and the person to move them to.")
    else:
        try:
            report = queue.reassign(
                engine, username=user.username, task_ids=task_ids, to_username=target
            )
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            st.success(f"Moved {len(report.moved)} task(s) to {target}.")
            if report.refused:
                st.warning(f"{len(report.refused)} task(s) could not be moved:")
                st.dataframe(
                    [{"Task": t, "Why": why} for t, why in report.refused], hide_index=True
                )
pager.controls("reassign", page.next_cursor)
