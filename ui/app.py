"""claimdesk's work-queue app (entry point for `streamlit run ui/app.py`)."""

from __future__ import annotations

import streamlit as st

from ui.components import auth
from ui.deps import get_engine, get_settings
from ui.navigation import UI_DIR, pages_for_role

st.set_page_config(page_title="claimdesk", page_icon=":material/receipt_long:", layout="wide")
engine = get_engine()
user = auth.require_login(engine, get_settings())
specs = pages_for_role(user.role)
pages = [
    st.Page(
        str(UI_DIR / spec.path),
        title=spec.title,
        icon=spec.icon,
        url_path=spec.url_path,
        default=index == 0,
    )
    for index, spec in enumerate(specs)
]
with st.sidebar:
    st.caption(f"Signed in as **{user.display_name}** ({user.role})")
    auth.logout_button(engine)
st.navigation(pages).run()
