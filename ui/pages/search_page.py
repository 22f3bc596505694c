"""Patient and claim search: by name (any alphabet), account number, member id, claim number.

``claimdesk.reporting.search`` checks the role, asks a reason of a role that works some
queues only, and audits every search with what it showed. The results link to the
records' own pages (balances, coverage, tasks), which audit each opening. Owns the
``search.*`` session keys; ``?claim=NUMBER`` starts a claim-number search.
"""

from __future__ import annotations

import streamlit as st

from claimdesk.errors import ClaimdeskError
from claimdesk.reporting.search import SEARCH_BY, PatientHit, needs_reason, search
from ui.components import auth
from ui.deps import get_engine
from ui.navigation import BALANCES, CHARGE_ENTRY, COVERAGE, TASK

user = auth.page_user("phi.search")
engine = get_engine()
state = st.session_state
st.title("Search patients and claims")
if (given := st.query_params.get("claim")) and state.get("search.linked") != given:
    state["search.linked"] = given  # a deep link fills the form once
    state["search.by"], state["search.query"] = "claim", given

with st.form("search.form"):
    left, right = st.columns([1, 3])
    by = left.selectbox("Search by", list(SEARCH_BY), format_func=SEARCH_BY.__getitem__,
                        key="search.by")  # fmt: skip
    query = right.text_input("Name, account, member id or claim number", key="search.query")
    reason = ""
    if needs_reason(user.role):
        reason = st.text_input(
            "Why you are looking (kept in the audit log)",
            key="search.reason",
            help="Your role works some queues only: a search outside them needs a reason.",
        )
    submitted = st.form_submit_button("Search")
if submitted:
    try:
        state["search.hits"] = search(
            engine, username=user.username, query=query, by=by, reason=reason
        )
    except ClaimdeskError as exc:
        state.pop("search.hits", None)
        st.error(str(exc))
hits: list[PatientHit] | None = state.get("search.hits")
if hits is None:
    st.caption("Names are found however they are typed: 'nunez' finds Nuñez. Every search is "
               "audited.")  # fmt: skip
    st.stop()
if not hits:
    st.info("Nothing matches.")
st.caption(f"{len(hits)} patient(s). Member ids show their last four characters only.")
for hit in hits:
    with st.container(border=True):
        st.markdown(
            f"**{hit.name}** · born {hit.birth_date:%Y-%m-%d} · account `{hit.account_number}`"
        )
        if hit.member_ids:
            st.caption(" · ".join(hit.member_ids))
        links = []
        if auth.can(user, BALANCES.action):
            links.append(f"[Balances and ledger]({BALANCES.url_path}?patient={hit.patient_id})")
        if auth.can(user, CHARGE_ENTRY.action):
            links.append(f"[Enter a charge]({CHARGE_ENTRY.url_path}?patient={hit.patient_id})")
        if links:
            st.markdown(" · ".join(links))
        if not hit.claims:
            st.caption("No claims.")
        for c in hit.claims:
            tasks = " ".join(f"[task {t}]({TASK.url_path}?task={t})" for t in c.task_ids)
            coverage = (
                f" · [coverage]({COVERAGE.url_path}?claim={c.claim_id})"
                if auth.can(user, COVERAGE.action)
                else ""
            )
            st.markdown(
                f"Claim **{c.patient_control_number}** (id {c.claim_id}) · {c.payer} · "
                f"{c.service_from:%Y-%m-%d} · ${c.total_charge:,.2f} · `{c.status}`"
                f"{coverage}{' · ' + tasks if tasks else ''}"
            )
