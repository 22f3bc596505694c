"""One task: the claim's story, the payer's answer, documents, comments and the decision."""

from __future__ import annotations

import streamlit as st

from claimdesk.errors import ClaimdeskError
from claimdesk.reporting import flow_runs
from claimdesk.workqueue import queue, task_charts, task_view
from ui.components import auth, charts, learned_fix, task_decision
from ui.deps import get_document_store, get_engine, get_settings
from ui.navigation import QUEUE

user = auth.page_user("task.view")
engine = get_engine()
raw_id = st.query_params.get("task")
if not raw_id or not raw_id.isdigit():
    st.title("Task")
    st.info("Open a task from the work queue (or a link with `?task=ID`).")
    st.markdown(f"[Go to the work queue]({QUEUE.url_path})")
    st.stop()
task_id = int(raw_id)
try:
    view = task_view.read_task_view(
        engine,
        username=user.username,
        task_id=task_id,
        prefect_api_url=get_settings().prefect_api_url,
    )
except ClaimdeskError as exc:
    st.title(f"Task {task_id}")
    st.error(str(exc))
    st.stop()

task, claim = view.task, view.claim
st.title(f"Task {task_id} · {task.kind.replace('_', ' ')}")
reason = view.reason
st.info(f"**Why:** {reason.why}  \n**What to do:** {reason.action}")
due = f"{task.due_at:%Y-%m-%d %H:%M} UTC" if task.due_at else "no deadline"
flow_link = ""
if view.flow_run_url and task.flow_run_id:
    # The run's state from Prefect: a person sees it suspended, then resumed and completed.
    try:
        settings = get_settings()
        run_state = flow_runs.read_flow_run_state(
            settings.prefect_api_url, task.flow_run_id, auth=settings.prefect_api_auth_string
        )
    except flow_runs.PrefectUnavailable:
        run_state = "state unknown"
    flow_link = f" · [flow run]({view.flow_run_url}) {run_state}"
st.caption(
    f"Status **{task.status}** · priority {task.priority} · due {due} · "
    f"assignee {view.assignee or 'nobody'}{flow_link}"
)

can_work = auth.can(user, "task.claim")
if can_work and task.status in ("open", "claimed"):
    left, right, _ = st.columns([1, 1, 6])
    if task.status == "open" and left.button("Claim", key="task.claim"):
        try:
            queue.claim(engine, username=user.username, task_id=task_id)
        except ClaimdeskError as exc:
            st.warning(str(exc))
        else:
            st.rerun()
    if task.status == "claimed" and right.button("Unclaim", key="task.unclaim"):
        try:
            queue.unclaim(engine, username=user.username, task_id=task_id)
        except ClaimdeskError as exc:
            st.warning(str(exc))
        else:
            st.rerun()

tabs = st.tabs(["Claim", "Payer's answer", "Documents", "Timeline", "Comments", "Decision"])
with tabs[0]:
    if claim is None:
        st.info("This task names no claim.")
    else:
        cols = st.columns(3)
        cols[0].metric("Claim", claim.patient_control_number)
        cols[1].metric("Charge", f"${claim.total_charge:,.2f}")
        cols[2].metric("Status", claim.status)
        st.write(
            f"Service {claim.service_from} to {claim.service_to} · place of service "
            f"{claim.place_of_service} · version {claim.version} · frequency {claim.frequency_code}"
        )
        if view.patient:
            p = view.patient
            st.subheader("Patient")
            st.write(
                f"{p.last_name}, {p.first_name} · born {p.birth_date} · gender {p.gender} · "
                f"account {p.account_number}"
            )
        if view.coverage:
            c = view.coverage
            st.subheader("Coverage")
            st.write(
                f"{view.payer.name if view.payer else '?'} · member {c.member_id} · group "
                f"{c.group_number or '-'} · plan {c.plan_name or '-'} · {c.relationship} · "
                f"effective {c.effective_from} to {c.effective_to or 'open'}"
            )
        if money := task_charts.task_money(view):
            st.subheader("Where the money went")
            st.altair_chart(charts.waterfall(money), key="task.waterfall")
        st.subheader("Lines")
        st.dataframe(
            [
                {
                    "#": line.line_number,
                    "Code": line.procedure_code,
                    "Modifiers": " ".join(line.modifiers),
                    "Units": float(line.units),
                    "Charge": float(line.charge),
                    "Pointers": ",".join(str(x) for x in line.diagnosis_pointers),
                    "Date": line.service_date,
                }
                for line in view.lines
            ],
            hide_index=True,
        )
        st.subheader("Diagnoses")
        st.write(", ".join(f"{d.position}: {d.code}" for d in view.diagnoses) or "none")
        st.subheader("Eligibility")
        if not view.eligibility:
            st.write("No eligibility check on file.")
        for check in view.eligibility:
            st.write(f"{check.requested_at:%Y-%m-%d} · outcome **{check.outcome or 'pending'}**")
            if check.benefits:
                st.dataframe(check.benefits, hide_index=True)
with tabs[1]:
    if view.payer_answer:
        st.dataframe(
            [
                {
                    "Code": c.code,
                    "Meaning": c.meaning,
                    "Amount": float(c.amount) if c.amount is not None else None,
                }
                for c in view.payer_answer
            ],
            hide_index=True,
        )
    else:
        st.write("No answer from the payer yet.")
    if task.context:
        st.caption("Why this task exists")
        st.json(task.context)
with tabs[2]:
    if not view.documents:
        st.write("No documents linked to this claim.")
    for document in view.documents:
        with st.expander(f"{document.kind} · {document.direction} · {document.size} bytes"):
            if st.button("Open", key=f"task.doc.{document.id}"):
                try:
                    content = task_view.read_document(
                        engine,
                        get_document_store(),
                        username=user.username,
                        document_id=document.id or 0,
                    )
                except ClaimdeskError as exc:
                    st.error(str(exc))
                else:
                    if content.text is not None:
                        st.code(content.text, language=None)
                    st.download_button(
                        "Download",
                        content.data,
                        file_name=content.filename,
                        mime=content.content_type,
                        key=f"task.download.{document.id}",
                    )
    if auth.can(user, "task.resolve") and claim is not None:
        with st.form("task.attach", clear_on_submit=True):
            upload = st.file_uploader("Attach a file (appeal letter, records)")
            kind = st.selectbox("Kind", task_view.ATTACHMENT_KINDS)
            if st.form_submit_button("Attach") and upload is not None:
                try:
                    task_view.attach_document(
                        engine,
                        get_document_store(),
                        username=user.username,
                        task_id=task_id,
                        data=upload.getvalue(),
                        content_type=upload.type or "application/octet-stream",
                        kind=kind,
                    )
                except ClaimdeskError as exc:
                    st.error(str(exc))
                else:
                    st.success("Attached.")
with tabs[3]:
    if view.timeline:
        st.altair_chart(charts.timeline(task_charts.timeline_points(view)), key="task.timeline")
    st.dataframe(
        [{"When": e.at, "What": e.source, "Who": e.actor, "Detail": e.text} for e in view.timeline],
        hide_index=True,
    )
    if view.flow_run_url:
        st.link_button("Open the flow run in Prefect", view.flow_run_url)
with tabs[4]:
    for at, who, body in view.comments:
        st.markdown(f"**{who}** · {at:%Y-%m-%d %H:%M}")
        st.text(body)
    if auth.can(user, "task.comment"):
        with st.form("task.comment", clear_on_submit=True):
            body = st.text_area("Add a comment", key="task.comment.body")
            if st.form_submit_button("Add comment"):
                try:
                    task_view.add_comment(
                        engine, username=user.username, task_id=task_id, body=body
                    )
                except ClaimdeskError as exc:
                    st.error(str(exc))
                else:
                    st.rerun()
with tabs[5]:
    # Owned here: the task whose decision form this session last showed.
    form_shown = st.session_state.pop("task.form_shown", None) == task_id
    if task.status not in ("open", "claimed"):
        if form_shown and view.decided_by != user.username:
            st.warning(
                f"Task {task_id} was {task.status} by {view.decided_by or 'someone else'} "
                "while you had it open; your decision was not recorded."
            )
        st.info(f"This task is {task.status}.")
        if view.decision:
            st.json(view.decision)
    elif not auth.can(user, "task.resolve"):
        st.info("Your role can read this task but not decide it.")
    else:
        st.session_state["task.form_shown"] = task_id
        learned_fix.offer(engine, user, view)
        task_decision.decide(engine, user, view)
