"""claimdesk's work-queue app (entry point for `streamlit run ui/app.py`)."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="claimdesk", page_icon=":material/receipt_long:", layout="wide")
st.title("claimdesk")
st.write(
    "The work queue is on its way. Until it lands, review tasks are worked with "
    "`claimdesk review list` and `claimdesk review resolve`, and flow runs are in the Prefect UI."
)
