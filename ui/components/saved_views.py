"""Saved views: open one (its filters go into the URL), save the current filters, share.

Owns the ``saved_views.*`` session-state keys.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine

from claimdesk.errors import ClaimdeskError
from claimdesk.workqueue import saved_views
from claimdesk.workqueue.filters import QueueFilters
from ui.components.queue_filters import PREFIX, set_url_filters


def _apply(filters: QueueFilters) -> None:
    set_url_filters(filters)
    for key in list(st.session_state.keys()):
        if str(key).startswith(PREFIX):
            del st.session_state[key]


def show(engine: Engine, *, username: str, filters: QueueFilters) -> None:
    if "view" in st.query_params:  # a shared link: ?view=ID
        try:
            view = saved_views.read_view(
                engine, username=username, view_id=int(st.query_params["view"])
            )
        except (ClaimdeskError, ValueError) as exc:
            st.warning(f"That saved view cannot be opened: {exc}")
        else:
            del st.query_params["view"]
            _apply(view.filters)
            st.rerun()
    views = saved_views.list_views(engine, username=username)
    with st.expander("Saved views"):
        if views:
            left, right = st.columns([3, 1])
            chosen = left.selectbox(
                "View",
                views,
                format_func=lambda v: f"{v.name} ({v.owner}{', shared' if v.shared else ''})",
                key="saved_views.choice",
            )
            if right.button("Open view", key="saved_views.open") and chosen is not None:
                _apply(chosen.filters)
                st.rerun()
            if chosen is not None and chosen.shared:
                st.caption(f"Share this view with the link `?view={chosen.id}`.")
        with st.form("saved_views.save"):
            name = st.text_input("Save the current filters as", key="saved_views.name")
            shared = st.checkbox("Share with everyone", key="saved_views.shared")
            if st.form_submit_button("Save view"):
                try:
                    saved_views.save_view(
                        engine, username=username, name=name, filters=filters, shared=shared
                    )
                except ClaimdeskError as exc:
                    st.error(str(exc))
                else:
                    st.success(f"Saved view {name!r}.")
