"""Queue filter widgets, kept in the URL (``st.query_params``) so a view is a link.

Owns the ``queue_filters.*`` session-state keys.
"""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from claimdesk.errors import ClaimdeskError
from claimdesk.workqueue.filters import DUE_WINDOWS, STATUSES, QueueFilters
from claimdesk.workqueue.queue import Choices

PREFIX = "queue_filters."
_FILTER_PARAMS = ("kind", "payer", "status", "assignee", "due", "min", "max", "reason", "sort")


def url_filters() -> QueueFilters:
    """The filters in the URL; a malformed link falls back to the defaults with a warning."""
    params = {k: st.query_params[k] for k in _FILTER_PARAMS if k in st.query_params}
    try:
        return QueueFilters.from_params(params)
    except ClaimdeskError as exc:
        st.warning(f"Ignoring the link's filters: {exc}")
        return QueueFilters()


def set_url_filters(filters: QueueFilters) -> None:
    for key in _FILTER_PARAMS:
        if key in st.query_params:
            del st.query_params[key]
    for key, value in filters.to_params().items():
        st.query_params[key] = value


def show(choices: Choices, *, can_work: bool) -> QueueFilters:
    """Render the filters (initialised from the URL) and return what they select."""
    current = url_filters()
    with st.expander("Filters", expanded=bool(current.to_params())):
        cols = st.columns(4)
        kinds = cols[0].multiselect(
            "Kind",
            choices.kinds,
            default=[k for k in current.kinds if k in choices.kinds],
            key=PREFIX + "kind",
        )
        payer_names = cols[1].multiselect(
            "Payer",
            list(choices.payers),
            default=[p for p in current.payer_ids if p in choices.payers],
            format_func=lambda pid: choices.payers.get(pid, str(pid)),
            key=PREFIX + "payer",
        )
        status = cols[2].selectbox(
            "Status", STATUSES, index=STATUSES.index(current.status), key=PREFIX + "status"
        )
        assignees = (
            ["", "me", "unassigned", *choices.workers]
            if can_work
            else [
                "",
                "unassigned",
                *choices.workers,
            ]
        )
        assignee = cols[3].selectbox(
            "Assignee",
            assignees,
            index=assignees.index(current.assignee) if current.assignee in assignees else 0,
            format_func=lambda a: a or "anyone",
            key=PREFIX + "assignee",
        )
        cols = st.columns(4)
        dues = ["", *DUE_WINDOWS]
        due = cols[0].selectbox(
            "Due",
            dues,
            index=dues.index(current.due or ""),
            format_func=lambda d: {"": "any time", "overdue": "overdue"}.get(d, f"within {d}"),
            key=PREFIX + "due",
        )
        min_amount = cols[1].number_input(
            "Amount from ($)",
            min_value=0.0,
            value=float(current.min_amount) if current.min_amount is not None else None,
            key=PREFIX + "min",
        )
        max_amount = cols[2].number_input(
            "Amount to ($)",
            min_value=0.0,
            value=float(current.max_amount) if current.max_amount is not None else None,
            key=PREFIX + "max",
        )
        sort = cols[3].radio(
            "Sort by",
            ("priority", "due"),
            index=0 if current.sort == "priority" else 1,
            horizontal=True,
            key=PREFIX + "sort",
        )
        reason = st.text_input(
            "Reason code",
            value=current.reason or "",
            placeholder="a CARC such as CO-16 or 197, or an eligibility outcome such as inactive",
            key=PREFIX + "reason",
        )
    try:
        chosen = QueueFilters(
            kinds=tuple(kinds),
            payer_ids=tuple(payer_names),
            status=status,
            assignee=assignee or None,
            due=due or None,
            min_amount=Decimal(str(min_amount)).quantize(Decimal("0.01"))
            if min_amount is not None
            else None,
            max_amount=Decimal(str(max_amount)).quantize(Decimal("0.01"))
            if max_amount is not None
            else None,
            reason=reason.strip() or None,
            sort=sort,
        )
    except ClaimdeskError as exc:
        st.error(str(exc))
        return current
    if chosen != current:
        set_url_filters(chosen)
    return chosen
