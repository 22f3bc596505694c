"""The task page's decision: the form in the office's words, submitted like the CLI's.

The decision is checked by ``resolve.check_decision`` (the kind's model) before it is
sent and by ``resolve.submit_decision`` (model, role, the kind's check) when it is; a
problem from either is shown at the field it names.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine

from claimdesk.access.auth import SignedInUser
from claimdesk.errors import ClaimdeskError, ReviewConflict, ValidationFailed
from claimdesk.workqueue import forms, resolve
from claimdesk.workqueue.task_view import TaskView
from ui.components import decision_form
from ui.deps import get_resumer, get_starter


def decide(engine: Engine, user: SignedInUser, view: TaskView) -> None:
    task = view.task
    task_id = task.id or 0
    try:
        lookups = forms.read_lookups(engine, username=user.username)
    except ClaimdeskError as exc:
        st.error(str(exc))
        return
    plan = forms.plan_form(view, lookups)
    drawn = decision_form.show(task.decision_schema, key=f"decision.{task_id}", plan=plan)
    if drawn.decision is None:
        return
    problems = resolve.check_decision(task.kind, drawn.decision)
    if problems:
        drawn.show_problems(problems)
        st.error("The decision is not complete: see the fields marked above.")
        return
    try:
        outcome = resolve.submit_decision(
            engine,
            username=user.username,
            task_id=task_id,
            decision=drawn.decision,
            resumer=get_resumer(),
            starter=get_starter(),
        )
    except ReviewConflict as exc:
        st.warning(f"Someone else got there first: {exc}")
    except ValidationFailed as exc:
        drawn.show_problems([str(exc)])
    except ClaimdeskError as exc:
        st.error(str(exc))
    else:
        st.success(f"Decision #{outcome.decision_id}: {outcome.message}.")
