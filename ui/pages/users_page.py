"""Admins: who can sign in, with which role; locks, second factors and SSO identities."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from claimdesk.access import accounts as account_admin
from claimdesk.access import auth as accounts
from claimdesk.errors import ClaimdeskError, ValidationFailed
from models.users import ROLES
from ui.components import auth
from ui.components.field_form import FieldForm, flash
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
flash()
try:
    view = account_admin.read_accounts(engine, username=user.username)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
st.dataframe([asdict(u) for u in view.users], hide_index=True)
names = [u.username for u in view.users]

change_form = FieldForm("users.change")
with st.form("users.change"):
    st.subheader("Change an account")
    user_col, change_col, role_col = st.columns(3)
    target = change_form.select("user", "User", names, None, where=user_col)
    change: str = (
        change_form.select(
            "change", "Change", list(CHANGE_LABELS), None, where=change_col,
            format_func=lambda c: CHANGE_LABELS[c],
        )
        or "enable"
    )  # fmt: skip
    new_role = change_form.select(
        "role", "New role (for a role change)", ROLES, None, where=role_col
    )
    new_password = change_form.text(
        "password", "New password (for a password reset)", "", type="password"
    )
    # Users from `claimdesk office import` come in disabled and without a password.
    enable_too = change_form.check(
        "enable_too", "With a password reset, enable the account too", True
    )
    change_form.end()
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
            if change == "password" and enable_too:
                account_admin.manage_account(
                    engine, username=user.username, target=target or "", change="enable"
                )
                done += "; the account is enabled"
        except ValidationFailed as exc:
            change_form.show({exc.field: [str(exc)]})
        except ClaimdeskError as exc:
            change_form.show({"": [str(exc)]})
        else:
            change_form.saved(done)

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
add_form = FieldForm("users.add")
with st.form("users.add"):
    st.subheader("Add a user")
    cols = st.columns(3)
    new_username = add_form.text("username", "Username", "", where=cols[0])
    role = add_form.select("role", "Role", ROLES, None, where=cols[1])
    name = add_form.text("name", "Display name", "", where=cols[2])
    password = add_form.text("password", "Initial password", "", type="password")
    add_form.end()
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
        except ValidationFailed as exc:
            add_form.show({exc.field: [str(exc)]})
        except ClaimdeskError as exc:
            add_form.show({"": [str(exc)]})
        else:
            add_form.saved(f"User {new_username!r} added.")
