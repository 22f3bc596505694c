"""Leads: scrub rules the office's own denials suggest, with their evidence and backtest;
approve one (the scrub holds such claims from the next one on) or dismiss it with a reason.
Managers read. Every read and decision goes through claimdesk.learning (checked, audited)."""

from __future__ import annotations

import streamlit as st

from claimdesk.clock import today
from claimdesk.errors import ClaimdeskError
from claimdesk.learning import suggestions
from ui.components import auth
from ui.deps import get_engine, get_settings

user = auth.page_user(suggestions.VIEW)
engine = get_engine()
settings = get_settings()
st.title("Suggested scrub rules")
st.caption(
    f"Learned from this office's own 835s over the last {settings.learning_window_days} days: "
    "a payer × code whose lines are denied one way and paid the other. The backtest replays "
    "the rule over the window's claims: what it would have held."
)
can_decide = auth.can(user, "rules.approve")
if flash := st.session_state.pop("suggestions.flash", None):
    st.success(flash)

if st.button("Look for new suggestions", key="suggestions.find"):
    try:
        found = suggestions.find_suggestions(
            engine, settings, username=user.username, today=today(settings)
        )
    except ClaimdeskError as exc:
        st.error(str(exc))
    else:
        st.success(f"{len(found)} suggestion(s) in the window.")

try:
    rules = suggestions.read_rules(engine, username=user.username)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
if not rules:
    st.info("No suggested or approved rule yet.")


def _show(rule: suggestions.RuleView) -> None:
    st.subheader(f"#{rule.id} · {rule.pattern} · {rule.status}")
    st.write(rule.words)
    st.caption(f"Fix: {rule.fix}")
    cols = st.columns(4)
    if rule.denied:
        cols[0].metric("Denied (held side)", f"{rule.denied[0]} of {rule.denied[1]}")
    if rule.other_side_denied:
        cols[1].metric(
            "Denied (other side)", f"{rule.other_side_denied[0]} of {rule.other_side_denied[1]}"
        )
    if rule.dollars is not None:
        cols[2].metric("Dollars denied", f"${rule.dollars:,.2f}")
    cols[3].metric("CARC", rule.carc or "-")
    test = rule.backtest
    again = st.session_state.get(f"suggestions.again.{rule.id}")
    if isinstance(again, suggestions.RuleBacktest):
        test = again
    if st.button("Backtest again over today's window", key=f"suggestions.backtest.{rule.id}"):
        try:
            test = suggestions.backtest_again(
                engine, settings, username=user.username, rule_id=rule.id, today=today(settings)
            )
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            st.session_state[f"suggestions.again.{rule.id}"] = test
    if test is not None:
        st.markdown("**Backtest**" + (" (again, today)" if test is not rule.backtest else ""))
        cols = st.columns(4)
        cols[0].metric("Denials caught", test.denials_caught)
        cols[1].metric("Dollars caught", f"${test.dollars_caught:,.2f}")
        cols[2].metric("False holds (paid claims held)", test.false_holds)
        cols[3].metric("Claims held", f"{test.claims_held} of {test.claims_replayed}")
    if rule.status != "suggested":
        st.caption(f"{rule.status} by {rule.decided_by or '?'}: {rule.decision_reason or ''}")
        return
    if not can_decide:
        st.caption("A lead approves or dismisses it.")
        return
    with st.form(f"suggestions.decide.{rule.id}"):
        reason = st.text_input("Reason (needed to dismiss)", key=f"suggestions.reason.{rule.id}")
        left, right = st.columns(2)
        approve = left.form_submit_button("Approve", type="primary")
        dismiss = right.form_submit_button("Dismiss")
    if approve or dismiss:
        try:
            done = suggestions.decide_rule(
                engine,
                username=user.username,
                rule_id=rule.id,
                decision="approve" if approve else "dismiss",
                reason=reason,
            )
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            # Shown after the rerun that draws the rule in its new status.
            st.session_state["suggestions.flash"] = f"Rule #{done.id} {done.status}."
            st.rerun()


for rule in rules:
    with st.container(border=True):
        _show(rule)
