"""Keyset paging: a stack of cursors, reset when the filters change. Owns ``pager.*`` keys."""

from __future__ import annotations

import streamlit as st

from claimdesk.workqueue.filters import Cursor


def current(key: str, filters_signature: str) -> tuple[Cursor | None, int]:
    """The cursor of the page to show and its number (1-based)."""
    stack_key, sig_key = f"pager.{key}.stack", f"pager.{key}.sig"
    if st.session_state.get(sig_key) != filters_signature:
        st.session_state[sig_key] = filters_signature
        st.session_state[stack_key] = []
    stack: list[Cursor] = st.session_state.setdefault(stack_key, [])
    return (stack[-1] if stack else None), len(stack) + 1


def controls(key: str, next_cursor: Cursor | None) -> None:
    stack: list[Cursor] = st.session_state.setdefault(f"pager.{key}.stack", [])
    left, right, _ = st.columns([1, 1, 6])
    if left.button("◀ Previous", key=f"pager.{key}.prev", disabled=not stack):
        stack.pop()
        st.rerun()
    if right.button("Next page ▶", key=f"pager.{key}.next", disabled=next_cursor is None):
        assert next_cursor is not None
        stack.append(next_cursor)
        st.rerun()
