"""The denial task's learned fix: the correction the office's own history says gets paid,
offered as one click ("added GP: 14 of 15 paid"). Submitted exactly as the decision form's
corrected claim is: ``resolve.check_decision``, then ``resolve.submit_decision``."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine

from claimdesk.access.auth import SignedInUser
from claimdesk.errors import ClaimdeskError, ReviewConflict
from claimdesk.learning import fixes
from claimdesk.workqueue import resolve
from claimdesk.workqueue.task_view import TaskView
from ui.deps import get_resumer


def _words(value: object) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def offer(engine: Engine, user: SignedInUser, view: TaskView) -> None:
    """Draw the learned fix for ``view``'s denial, if there is one (nothing otherwise)."""
    task = view.task
    if task.kind != "denial" or task.id is None:
        return
    try:
        found = fixes.read_learned_fix(engine, username=user.username, task_id=task.id)
    except ClaimdeskError as exc:
        st.warning(f"The learned fix could not be read: {exc}")
        return
    if found is None:
        return
    line = found.decision["corrections"]["lines"][0]
    with st.container(border=True):
        st.markdown(f"**Learned fix for line {found.line_number}:** {found.words}")
        st.caption(
            f"Sends the claim corrected: line {found.line_number} "
            + ", ".join(
                f"{name.replace('_', ' ')} {_words(value)}"
                for name, value in line.items()
                if name != "line_number"
            )
        )
        if not st.button("Apply the learned fix", key=f"learned_fix.{task.id}", type="primary"):
            return
    problems = resolve.check_decision(task.kind, found.decision)
    if problems:
        st.error("The learned fix does not fit this claim: " + "; ".join(problems))
        return
    try:
        outcome = resolve.submit_decision(
            engine,
            username=user.username,
            task_id=task.id,
            decision=found.decision,
            resumer=get_resumer(),
        )
    except ReviewConflict as exc:
        st.warning(f"Someone else got there first: {exc}")
    except ClaimdeskError as exc:
        st.error(str(exc))
    else:
        st.success(f"Decision #{outcome.decision_id}: {outcome.message}.")
