"""The app's pictures (Altair), drawn from the data functions in ``claimdesk.reporting`` and
``claimdesk.workqueue.task_charts``; each takes their rows and returns a chart.

Amounts arrive as ``Decimal`` and are drawn as dollars; rates arrive as fractions.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from claimdesk.billing.collections import BUCKETS
from claimdesk.reporting.patient_history import AgeingPoint, BalancePoint
from claimdesk.reporting.trends import RATE_KPIS, HeatCell, KpiPoint, WeekRisk
from claimdesk.workqueue.task_charts import LANES, MoneyStep, TimelinePoint

_DOLLARS = alt.Axis(format="$,.0f")


def timeline(points: Sequence[TimelinePoint]) -> alt.Chart:
    """The claim's story: one lane per kind of step, hover for what and who."""
    frame = pd.DataFrame(
        [{"at": p.at, "lane": p.lane, "what": p.label, "who": p.who} for p in points]
    )
    return (
        alt.Chart(frame, height=40 + 32 * len(LANES))
        .mark_circle(size=120, opacity=0.85)
        .encode(
            x=alt.X("at:T", title=None),
            y=alt.Y("lane:N", sort=list(LANES), title=None),
            color=alt.Color("lane:N", sort=list(LANES), legend=None),
            tooltip=[alt.Tooltip("at:T", format="%Y-%m-%d %H:%M"), "what:N", "who:N"],
        )
    )


def waterfall(steps: Sequence[MoneyStep]) -> alt.Chart:
    """Charge → allowed → adjustments → paid → patient → still open, as floating bars."""
    frame = pd.DataFrame(
        [
            {
                "order": i,
                "step": s.label,
                "start": float(s.start),
                "end": float(s.end),
                "amount": float(s.amount),
                "kind": "level" if s.total else ("less" if s.amount < 0 else "more"),
            }
            for i, s in enumerate(steps)
        ]
    )
    order = [s.label for s in steps]
    return (
        alt.Chart(frame)
        .mark_bar(size=28)
        .encode(
            x=alt.X("step:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=90)),
            y=alt.Y("start:Q", title="dollars", axis=_DOLLARS),
            y2="end:Q",
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(
                    domain=["level", "less", "more"], range=["#4c78a8", "#e45756", "#54a24b"]
                ),
                legend=None,
            ),
            tooltip=["step:N", alt.Tooltip("amount:Q", format="$,.2f")],
        )
    )


def balance_over_time(points: Sequence[BalancePoint]) -> alt.Chart:
    frame = pd.DataFrame(
        [
            {"day": p.day.isoformat(), "who owes": who, "dollars": float(amount)}
            for p in points
            for who, amount in (("patient", p.patient), ("insurance", p.insurance))
        ]
    )
    return (
        alt.Chart(frame)
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("dollars:Q", axis=_DOLLARS),
            color="who owes:N",
            tooltip=["day:T", "who owes:N", alt.Tooltip("dollars:Q", format="$,.2f")],
        )
    )


def ageing_over_time(points: Sequence[AgeingPoint]) -> alt.Chart:
    frame = pd.DataFrame(
        [
            {"month": p.month_end.strftime("%Y-%m"), "age": p.bucket, "dollars": float(p.dollars)}
            for p in points
        ]
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=None),
            y=alt.Y("dollars:Q", axis=_DOLLARS, stack=True),
            color=alt.Color("age:N", sort=list(BUCKETS), title="days"),
            order=alt.Order("age_order:Q"),
            tooltip=["month:O", "age:N", alt.Tooltip("dollars:Q", format="$,.2f")],
        )
        .transform_calculate(age_order=f"indexof({list(BUCKETS)!r}, datum.age)".replace("'", '"'))
    )


def _kpi_frame(points: Sequence[KpiPoint], names: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "month": p.month.isoformat(),
                "kpi": p.title,
                "value": p.value,
                "definition": p.definition,
            }
            for p in points
            if p.kpi in names and p.value is not None
        ]
    )


def kpi_rates(points: Sequence[KpiPoint]) -> alt.Chart:
    """The rates by month; hovering a point shows the KPI's definition (HFMA, MGMA)."""
    frame = _kpi_frame(points, RATE_KPIS)
    return (
        alt.Chart(frame)
        .mark_line(point=alt.OverlayMarkDef(size=70))
        .encode(
            x=alt.X("month:T", timeUnit="yearmonth", title=None),
            y=alt.Y("value:Q", axis=alt.Axis(format="%"), title=None),
            color=alt.Color("kpi:N", title=None),
            tooltip=[
                "kpi:N",
                alt.Tooltip("month:T", timeUnit="yearmonth", title="month"),
                alt.Tooltip("value:Q", format=".1%"),
                "definition:N",
            ],
        )
    )


def kpi_days(points: Sequence[KpiPoint]) -> alt.Chart:
    frame = _kpi_frame(points, ["days_in_ar"])
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("month:T", timeUnit="yearmonth", title=None),
            y=alt.Y("value:Q", title="days in A/R"),
            tooltip=[
                alt.Tooltip("month:T", timeUnit="yearmonth", title="month"),
                alt.Tooltip("value:Q", title="days", format=".1f"),
                "definition:N",
            ],
        )
    )


def denial_heatmap(cells: Sequence[HeatCell]) -> alt.Chart:
    frame = pd.DataFrame(
        [
            {
                "payer": c.payer,
                "CARC class": c.carc_class.replace("_", " "),
                "denial rate": c.rate,
                "denied": c.denied,
                "adjudicated": c.adjudicated,
            }
            for c in cells
        ]
    )
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("CARC class:N", axis=alt.Axis(labelAngle=-30)),
            y=alt.Y("payer:N", title=None),
            color=alt.Color(
                "denial rate:Q", scale=alt.Scale(scheme="reds"), legend=alt.Legend(format="%")
            ),
            tooltip=[
                "payer:N",
                "CARC class:N",
                alt.Tooltip("denial rate:Q", format=".1%"),
                "denied:Q",
                "adjudicated:Q",
            ],
        )
    )


def at_risk_by_week(rows: Sequence[WeekRisk]) -> alt.Chart:
    frame = pd.DataFrame(
        [{"week": r.week, "dollars": float(r.dollars), "tasks": r.tasks} for r in rows]
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("week:O", sort=[r.week for r in rows], title="due in the week of"),
            y=alt.Y("dollars:Q", axis=_DOLLARS),
            color=alt.condition(
                alt.datum.week == "overdue", alt.value("#e45756"), alt.value("#4c78a8")
            ),
            tooltip=["week:O", alt.Tooltip("dollars:Q", format="$,.2f"), "tasks:Q"],
        )
    )
