"""Managers: queue health, flow runs and KPIs, refreshing on their own."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import altair as alt
import pandas as pd
import streamlit as st

from claimdesk.clock import today as clock_today
from claimdesk.errors import ClaimdeskError
from claimdesk.reporting import dashboard, patient_kpis, rate_changes, trends
from claimdesk.reporting import flow_runs as prefect_runs
from models.types import utcnow
from ui.components import auth, charts
from ui.deps import get_engine, get_settings
from ui.navigation import QUEUE

# Charts redraw on their own this often (seconds): fresh enough to watch a queue drain.
QUEUE_REFRESH_S = 30
FLOWS_REFRESH_S = 60
_DUE_FOR_BUCKET = {"overdue": "overdue", "<24h": "24h", "1-3d": "3d", "3-7d": "7d"}

user = auth.page_user("dashboard.view")
engine = get_engine()
st.title("Dashboard")


@st.fragment(run_every=QUEUE_REFRESH_S)
def queue_health() -> None:
    try:
        health = dashboard.read_queue_health(engine, username=user.username)
    except ClaimdeskError as exc:
        st.error(str(exc))
        return
    st.caption(f"Queue as of {health.generated_at:%H:%M:%S} UTC")
    depth = pd.DataFrame(health.depth, columns=["kind", "status", "tasks"])
    total_open = int(depth["tasks"].sum()) if not depth.empty else 0
    past_sla = sum(n for _, n in health.past_sla)
    at_risk = sum(float(s) for b, s, _ in health.dollars_at_risk if b in ("overdue", "<24h"))
    cols = st.columns(3)
    cols[0].metric("Open or claimed tasks", total_open)
    cols[1].metric("Past SLA", past_sla)
    cols[2].metric("Dollars due within 24 h or overdue", f"${at_risk:,.2f}")
    left, right = st.columns(2)
    with left:
        st.subheader("Queue depth by kind")
        if not depth.empty:
            st.altair_chart(
                alt.Chart(depth).mark_bar().encode(x="kind:N", y="tasks:Q", color="status:N"),
                width="stretch",
            )
    with right:
        st.subheader("Ageing by kind")
        ageing = pd.DataFrame(health.ageing, columns=["kind", "age", "tasks"])
        if not ageing.empty:
            st.altair_chart(
                alt.Chart(ageing)
                .mark_bar()
                .encode(
                    x="kind:N",
                    y="tasks:Q",
                    color=alt.Color("age:N", sort=list(dashboard.AGE_BUCKETS)),
                ),
                width="stretch",
            )
    left, right = st.columns(2)
    with left:
        st.subheader("Dollars at risk by deadline")
        risk = pd.DataFrame(
            [(b, float(s), n) for b, s, n in health.dollars_at_risk],
            columns=["deadline", "dollars", "tasks"],
        )
        if not risk.empty:
            st.altair_chart(
                alt.Chart(risk)
                .mark_bar()
                .encode(
                    x=alt.X("deadline:N", sort=list(dashboard.DEADLINE_BUCKETS)),
                    y="dollars:Q",
                    tooltip=["deadline", "dollars", "tasks"],
                ),
                width="stretch",
            )
    with right:
        st.subheader("Claimed per specialist")
        per = pd.DataFrame(health.per_specialist, columns=["specialist", "kind", "tasks"])
        if not per.empty:
            st.altair_chart(
                alt.Chart(per).mark_bar().encode(x="specialist:N", y="tasks:Q", color="kind:N"),
                width="stretch",
            )
    days = dashboard.THROUGHPUT_DAYS
    st.subheader(f"Throughput: resolved per specialist per day (last {days} days)")
    through = pd.DataFrame(health.throughput, columns=["specialist", "day", "resolved"])
    if through.empty:
        st.write("Nothing resolved yet.")
    else:
        st.altair_chart(
            alt.Chart(through)
            .mark_line(point=True)
            .encode(x="day:T", y="resolved:Q", color="specialist:N"),
            width="stretch",
        )
    st.subheader("Tasks behind the charts")
    kinds = sorted({k for k, _, _ in health.depth})
    pick = st.columns([2, 2, 1])
    kind = pick[0].selectbox("Kind", ["", *kinds], format_func=lambda k: k or "all kinds")
    bucket = pick[1].selectbox(
        "Deadline", ["", *_DUE_FOR_BUCKET], format_func=lambda b: b or "any deadline"
    )
    params = {"status": "active"}
    if kind:
        params["kind"] = kind
    if bucket:
        params["due"] = _DUE_FOR_BUCKET[bucket]
    # A plain link: the queue reads its filters from the URL, so the link is the drill-down.
    pick[2].markdown(f"[Open in the queue]({QUEUE.url_path}?{urlencode(params)})")


@st.fragment(run_every=FLOWS_REFRESH_S)
def flow_runs() -> None:
    st.header("Flow runs (last 24 h)")
    settings = get_settings()
    try:
        runs = prefect_runs.read_flow_runs(
            settings.prefect_api_url, auth=settings.prefect_api_auth_string
        )
    except prefect_runs.PrefectUnavailable as exc:
        st.warning(str(exc))
        return
    if not runs:
        st.write("No flow runs in the last 24 hours.")
        return
    frame = pd.DataFrame(
        [{"deployment": r.deployment, "state": r.state_name, "at": r.at} for r in runs]
    )
    frame["hour"] = frame["at"].dt.floor("h")
    st.altair_chart(
        alt.Chart(frame)
        .mark_bar()
        .encode(x="hour:T", y="count():Q", color="state:N", column="deployment:N"),
    )
    base = (settings.prefect_api_url or "").rstrip("/").removesuffix("/api")
    for label, group in prefect_runs.needs_attention(runs).items():
        st.subheader(f"{label.capitalize()} ({len(group)})")
        if label == "suspended":
            st.caption(
                "Runs paused for a decision. A denial waiting for its review has no run "
                "yet (the decision starts it): the queue's open tasks count all waiting work."
            )
        if group:
            st.dataframe(
                [
                    {
                        "Run": f"{base}/runs/flow-run/{r.id}",
                        "Name": r.name,
                        "Deployment": r.deployment,
                        "State": r.state_name,
                        "At": r.at,
                    }
                    for r in group
                ],
                hide_index=True,
                column_config={"Run": st.column_config.LinkColumn("Run", display_text="open")},
            )


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


@st.fragment(run_every=QUEUE_REFRESH_S * 10)
def kpis() -> None:
    st.header("Revenue-cycle KPIs")
    today = utcnow().date()
    period = st.date_input(
        "Dates of service", (today - timedelta(days=90), today), key="dashboard.kpi_period"
    )
    if not isinstance(period, tuple) or len(period) != 2:
        st.info("Pick the first and the last date of service.")
        return
    try:
        k = dashboard.read_kpis(
            engine, username=user.username, date_from=period[0], date_to=period[1]
        )
    except ClaimdeskError as exc:
        st.error(str(exc))
        return
    st.caption(f"{k.claims_in_cohort} claims served in the period (see docs/kpis.md)")
    cols = st.columns(4)
    cols[0].metric("Clean-claim rate", _pct(k.clean_claim_rate))
    cols[1].metric("First-pass acceptance", _pct(k.first_pass_acceptance))
    cols[2].metric("Denial rate", _pct(k.denial_rate))
    cols[3].metric("Net collection rate", _pct(k.net_collection_rate))
    cols = st.columns(4)
    cols[0].metric("Days in A/R", "n/a" if k.days_in_ar is None else f"{k.days_in_ar}")
    cols[1].metric("A/R over 90 days", _pct(k.ar_over_90_share))
    cols[2].metric("Appeal overturn rate", _pct(k.appeal_overturn_rate))
    cols[3].metric(
        "Timely-filing losses",
        f"${k.timely_filing_losses_amount:,.2f}",
        f"{k.timely_filing_losses_count} claims",
        delta_color="off",
    )
    by_payer = pd.DataFrame(
        [(p, float(r) * 100) for p, r in k.denial_rate_by_payer.items() if r is not None],
        columns=["payer", "denial rate %"],
    )
    if not by_payer.empty:
        st.altair_chart(
            alt.Chart(by_payer).mark_bar().encode(x="payer:N", y="denial rate %:Q"),
            width="stretch",
        )


@st.fragment(run_every=QUEUE_REFRESH_S * 10)
def kpi_trends() -> None:
    st.header("Trends by month of service")
    try:
        t = trends.read_trends(engine, username=user.username)
    except ClaimdeskError as exc:
        st.error(str(exc))
        return
    left, right = st.columns([2, 1])
    with left:
        st.subheader("KPIs by month")
        st.caption("Hover a point for the KPI's definition (HFMA MAP Keys, MGMA).")
        if any(p.value is not None for p in t.kpis):
            st.altair_chart(charts.kpi_rates(t.kpis), width="stretch", key="dashboard.kpi_rates")
        else:
            st.write("No claims served in the last months.")
    with right:
        st.subheader("Days in A/R")
        if any(p.kpi == "days_in_ar" and p.value is not None for p in t.kpis):
            st.altair_chart(charts.kpi_days(t.kpis), width="stretch", key="dashboard.kpi_days")
    left, right = st.columns(2)
    with left:
        st.subheader("Denial rate by payer and CARC class")
        if t.heatmap:
            st.altair_chart(
                charts.denial_heatmap(t.heatmap), width="stretch", key="dashboard.heatmap"
            )
        else:
            st.write("No denials among the adjudicated claims.")
    with right:
        st.subheader("Dollars at risk by deadline week")
        if t.at_risk:
            st.altair_chart(
                charts.at_risk_by_week(t.at_risk), width="stretch", key="dashboard.at_risk"
            )
        else:
            st.write("No open task has a deadline.")


@st.fragment(run_every=QUEUE_REFRESH_S * 10)
def patient_billing() -> None:
    st.header("Patient balances and cash")
    try:
        k = patient_kpis.read_patient_kpis(engine, username=user.username, as_of=utcnow().date())
    except ClaimdeskError as exc:
        st.error(str(exc))
        return
    d = k.deposits
    cols = st.columns(4)
    cols[0].metric(
        "Patient A/R",
        f"${sum(k.ageing.values()):,.2f}",
        f"{k.patients_owing} patients",
        delta_color="off",
    )
    cols[1].metric(
        "Deposits matched", d.matched_count, f"${d.matched_amount:,.2f}", delta_color="off"
    )
    cols[2].metric(
        "Deposits unmatched",
        d.unmatched_deposits_count,
        f"{d.mismatched_count} amount differ",
        delta_color="off",
    )
    cols[3].metric(
        "Refunds pending",
        k.refunds_pending_count,
        f"${k.refunds_pending_amount:,.2f}",
        delta_color="off",
    )
    left, right = st.columns(2)
    with left:
        st.subheader("Patient A/R ageing")
        ageing = pd.DataFrame(
            [(b, float(a)) for b, a in k.ageing.items()], columns=["age", "dollars"]
        )
        st.altair_chart(
            alt.Chart(ageing)
            .mark_bar()
            .encode(x=alt.X("age:N", sort=list(k.ageing)), y="dollars:Q", tooltip=["dollars"]),
            width="stretch",
        )
    with right:
        st.subheader("Patient collections per month")
        collected = pd.DataFrame(
            [(m, float(a)) for m, a in k.collections_by_month], columns=["month", "dollars"]
        )
        if collected.empty:
            st.write("No patient payments yet.")
        else:
            st.altair_chart(
                alt.Chart(collected)
                .mark_bar()
                .encode(x="month:O", y="dollars:Q", tooltip=["month", "dollars"]),
                width="stretch",
            )
    st.subheader("Deposit reconciliation")
    recon = pd.DataFrame(
        [
            ("deposits matched", d.matched_count, float(d.matched_amount)),
            ("deposits unmatched", d.unmatched_deposits_count, float(d.unmatched_deposits_amount)),
            ("835s without a deposit", d.unmatched_835_count, float(d.unmatched_835_amount)),
        ],
        columns=["status", "count", "dollars"],
    )
    st.altair_chart(
        alt.Chart(recon)
        .mark_bar()
        .encode(x="status:N", y="dollars:Q", color="status:N", tooltip=["count", "dollars"]),
        width="stretch",
    )


@st.fragment(run_every=QUEUE_REFRESH_S * 10)
def rate_cuts() -> None:
    settings = get_settings()
    try:
        flags = rate_changes.read_rate_cuts(
            engine, settings, username=user.username, today=clock_today(settings)
        )
    except ClaimdeskError as exc:
        st.warning(f"Rate changes could not be read: {exc}")
        return
    st.header("Payer rate cuts (learned from the 835s)")
    if not flags:
        st.write(f"No payer cut a rate in the last {settings.learning_window_days} days.")
    for flag in flags:
        st.warning(flag, icon=":material/trending_down:")


queue_health()
rate_cuts()
flow_runs()
kpis()
kpi_trends()
patient_billing()
