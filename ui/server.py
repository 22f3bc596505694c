"""The app server: Streamlit's ASGI app with the session-cookie route (``ui/session_routes``).

``claimdesk up`` runs ``streamlit run ui/server.py``; the pages are ``ui/app.py``'s, which
also runs alone (``streamlit run ui/app.py``, AppTest), only without a cookie that keeps a
reload signed in.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from ui.session_routes import routes

# Pages come from ui/app.py's st.navigation only. Streamlit would take ui/pages/ for an
# old-style pages folder until the first st.navigation call of the process, and answer
# that process's first link to /task with "Page not found".
PagesManager.uses_pages_directory = False
app = st.App("app.py", routes=routes())
