"""A claim's coverage in words (``?claim=ID``): copay, deductible and what remains of it,
coinsurance, out-of-pocket, plan dates, the other payer, and the visit's estimate."""

from __future__ import annotations

import streamlit as st

from claimdesk.eligibility.view import read_coverage
from claimdesk.errors import ClaimdeskError
from ui.components import auth
from ui.deps import get_engine

user = auth.page_user("claim.view_phi")
st.title("Coverage")
raw = st.query_params.get("claim") or st.text_input("Claim id", key="coverage.claim")
if not raw:
    st.info("Give a claim id (or open this page from a task) to see its coverage.")
    st.stop()
if not str(raw).isdigit():
    st.error(f"claim: {raw!r} is not a claim id (digits only).")
    st.stop()
try:
    view = read_coverage(get_engine(), username=user.username, claim_id=int(raw))
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()

checked = f"{view.checked_at:%Y-%m-%d %H:%M} UTC" if view.checked_at else "never checked"
st.caption(f"Claim {view.claim_id} · {view.payer} · 271 {checked} · {view.outcome or '—'}")
st.table({"": [label for label, _ in view.summary.labelled()],
          "What the payer said": [value for _, value in view.summary.labelled()]})  # fmt: skip
if view.estimate is not None:
    e = view.estimate
    st.metric("Patient's likely share", f"${e.patient:,.2f}", help=e.basis)
    st.caption(
        f"Of ${e.allowed:,.2f} allowed (from the {view.allowed_source}); payer ${e.payer:,.2f}. "
        "An estimate: the payer's 835 decides."
    )
