"""Admins: who can sign in, with which role."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from claimdesk.access import auth as accounts
from claimdesk.errors import ClaimdeskError
from models.users import ROLES
from ui.components import auth
from ui.deps import get_engine

user = auth.page_user("user.manage")
engine = get_engine()
st.title("Users")
try:
    users = accounts.list_users(engine, username=user.username)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
st.dataframe([asdict(u) for u in users], hide_index=True)
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
