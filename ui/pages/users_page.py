"""Admins: who can sign in, with which role; locks, second factors and SSO identities."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from claimdesk.access import accounts as account_admin
from claimdesk.access import auth as accounts
from claimdesk.errors import ClaimdeskError
from models.users import ROLES
from ui.components import auth
from ui.deps import get_engine

CHANGE_LABELS = {
    "disable": "Disable",
    "enable": "Enable",
    "role": "Change role",
    "password": "Reset password",
    "unlock": "Unlock sign-in",
    "reset_totp": "Reset second factor",
}

user = auth.page_user("user.manage")
engine = get_engine()
st.title("Users")
try:
    view = account_admin.read_accounts(engine, username=user.username)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
st.dataframe([asdict(u) for u in view.users], hide_index=True)
names = [u.username for u in view.users]

with st.form("users.change", clear_on_submit=True):
    st.subheader("Change an account")
    user_col, change_col, role_col = st.columns(3)
    target = user_col.selectbox("User", names)
    change: str = (
        change_col.selectbox("Change", list(CHANGE_LABELS), format_func=lambda c: CHANGE_LABELS[c])
        or "enable"
    )
    new_role = role_col.selectbox("New role (for a role change)", ROLES)
    new_password = st.text_input("New password (for a password reset)", type="password")
    if st.form_submit_button("Apply"):
        try:
            done = account_admin.manage_account(
                engine,
                username=user.username,
                target=target or "",
                change=change,
                role=new_role,
                password=new_password,
            )
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            st.success(done)

st.subheader("Sign-in locks")
if not view.locks:
    st.caption("No account or address is locked.")
for lock in view.locks:
    what_col, until_col, button_col = st.columns([3, 2, 1])
    what_col.write(f"{lock.scope} **{lock.key}**: {lock.failures} failures")
    until_col.write(f"until {lock.locked_until:%Y-%m-%d %H:%M} UTC")
    if button_col.button("Unlock", key=f"users.unlock.{lock.scope}.{lock.key}"):
        try:
            done = account_admin.manage_account(
                engine,
                username=user.username,
                target=lock.key,
                change="unlock" if lock.scope == "account" else "unlock_address",
            )
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            st.success(done)

st.subheader("Single sign-on identities")
st.caption(
    "An identity signs in by its provider's issuer and subject only. Link a waiting one "
    "after checking with the person that it is theirs; the email is what the provider said."
)
if view.identities:
    st.dataframe([asdict(i) for i in view.identities], hide_index=True)
    with st.form("users.link"):
        identity_col, link_col = st.columns(2)
        identity_id = identity_col.selectbox(
            "Identity",
            [i.id for i in view.identities],
            format_func=lambda i: next(
                f"{r.id}: {r.email or r.subject} ({r.username or 'waiting'})"
                for r in view.identities
                if r.id == i
            ),
        )
        link_to = link_col.selectbox("Link to", ["(unlink)", *names])
        if st.form_submit_button("Save link"):
            try:
                done = account_admin.manage_identity(
                    engine,
                    username=user.username,
                    identity_id=int(identity_id or 0),
                    target=None if link_to == "(unlink)" else link_to,
                )
            except ClaimdeskError as exc:
                st.error(str(exc))
            else:
                st.success(done)
else:
    st.caption("No single sign-on identity has signed in yet.")
with st.form("users.add", clear_on_submit=True):
    st.subheader("Add a user")
    cols = st.columns(3)
    new_username = cols[0].text_input("Username")
    role = cols[1].selectbox("Role", ROLES)
    name = cols[2].text_input("Display name")
    password = st.text_input("Initial password", type="password")
    if st.form_submit_button("Add user"):
        try:
            accounts.create_user(
                engine,
                username=user.username,
                new_username=new_username,
                role=role,
                password=password,
                name=name,
            )
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            st.success(f"User {new_username!r} added.")
