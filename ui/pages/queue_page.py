"""The work queue: my tasks and the queues my role covers, 50 rows a page."""

from __future__ import annotations

import streamlit as st

from claimdesk.errors import ClaimdeskError
from claimdesk.workqueue import filters as queue_lists
from claimdesk.workqueue import queue
from ui.components import auth, pager, queue_filters, saved_views
from ui.deps import get_engine
from ui.navigation import TASK, UI_DIR

user = auth.page_user("task.view")
engine = get_engine()
if "task" in st.query_params:  # an old-style deep link to the app's root: ?task=ID
    st.switch_page(str(UI_DIR / TASK.path), query_params={"task": st.query_params["task"]})

st.title("Work queue")
NOTICES_KEY = "queue.notices"  # what the last claim/unclaim could not do, shown after the rerun
for notice in st.session_state.pop(NOTICES_KEY, []):
    st.warning(notice)
can_work = auth.can(user, "task.claim")
if can_work and st.button("Next task", type="primary", key="queue.next"):
    try:
        task_id = queue.take_next_task(engine, username=user.username)
    except ClaimdeskError as exc:
        st.error(str(exc))
    else:
        if task_id is None:
            st.info("Nothing open in your queues right now.")
        else:
            st.switch_page(str(UI_DIR / TASK.path), query_params={"task": str(task_id)})

choices = queue.read_choices(engine, username=user.username)
filters = queue_filters.show(choices, can_work=can_work)
saved_views.show(engine, username=user.username, filters=filters)
cursor, page_number = pager.current("queue", repr(filters))
try:
    page = queue_lists.list_queue(engine, username=user.username, filters=filters, cursor=cursor)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()

st.caption(
    f"{page.total}{'+' if page.capped else ''} tasks · page {page_number} · "
    f"sorted by {filters.sort}"
)
rows = [
    {
        "Task": f"task?task={row.task_id}",
        "Claim": row.claim_number,
        "Payer": row.payer,
        "Kind": row.kind.replace("_", " "),
        "Why · what to do": row.reason,
        "Amount": float(row.amount) if row.amount is not None else None,
        "Due": row.due_text,
        "Age": row.age,
        "Member": row.member_id,
        "Priority": row.priority,
        "Status": row.status,
        "Assignee": row.assignee or "",
    }
    for row in page.rows
]
selection = st.dataframe(
    rows,
    hide_index=True,
    on_select="rerun",
    selection_mode="multi-row",
    key="queue.table",
    column_config={
        "Task": st.column_config.LinkColumn("Task", display_text=r"task\?task=(\d+)"),
        "Amount": st.column_config.NumberColumn("Amount", format="dollar"),
        "Why · what to do": st.column_config.TextColumn("Why · what to do", width="large"),
    },
)
chosen = [page.rows[i].task_id for i in selection.selection.rows] if rows else []
if can_work and chosen:
    left, right, _ = st.columns([1, 1, 6])
    for label, action in (("Claim", queue.claim), ("Unclaim", queue.unclaim)):
        column = left if label == "Claim" else right
        if column.button(f"{label} {len(chosen)}", key=f"queue.{label.lower()}"):
            notices = []
            for task_id in chosen:
                try:
                    action(engine, username=user.username, task_id=task_id)
                except ClaimdeskError as exc:
                    notices.append(f"Task {task_id}: {exc}")
            st.session_state[NOTICES_KEY] = notices
            st.rerun()
pager.controls("queue", page.next_cursor)
