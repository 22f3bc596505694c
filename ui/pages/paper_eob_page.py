"""Specialists: post a paper EOB by hand, picking each adjustment's group and CARC in words.

The entry is checked and posted by ``paper_eob`` exactly like an 835:
same matching, ledger, denials and secondary billing; a refusal names the field.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from claimdesk.errors import ClaimdeskError
from claimdesk.remittance import paper_eob
from ui.components import auth
from ui.deps import get_document_store, get_engine

# The page's action: the roles that may post a paper EOB (the service checks them again).
user = auth.page_user("task.comment")
engine = get_engine()
st.title("Paper EOB")
st.caption(
    "Type what the payer's paper explanation of benefits says. It is balanced and posted "
    "like an 835: each line's charge = paid + adjustments, the check total = the sum paid."
)
try:
    payers = paper_eob.read_payers(engine, username=user.username)
    codes = paper_eob.routing_choices()
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
if not payers:
    st.info("No payers yet.")
    st.stop()
names = {pid: f"{name} (paper)" if paper else name for pid, name, paper in payers}
payer_id = st.selectbox("Payer", list(names), format_func=names.__getitem__, key="eob.payer")
head = st.columns(4)
check = head[0].text_input("Check or EFT number", key="eob.check")
method = head[1].selectbox(
    "Paid by",
    ["CHK", "ACH"],
    format_func={"CHK": "Check", "ACH": "EFT"}.__getitem__,
    key="eob.method",
)
paid_on = head[2].date_input("Payment date", key="eob.date")
total = head[3].text_input("Check total", placeholder="0.00", key="eob.total")

try:
    claims = paper_eob.read_awaiting_claims(engine, username=user.username, payer_id=payer_id)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
if not claims:
    st.info("No claim of this payer is waiting for an answer.")
    st.stop()
by_id = {c.claim_id: c for c in claims}
picked = st.multiselect(
    "Claims on this EOB",
    list(by_id),
    format_func=lambda i: (
        f"{by_id[i].patient_control_number} · {by_id[i].service_from} · "
        f"${by_id[i].total_charge:,.2f} · {by_id[i].status}"
    ),
    key="eob.claims",
)


def _codes(text: str) -> list[str]:
    return [c.strip().upper() for c in text.split(",") if c.strip()]


def _group_words(code: str) -> str:
    return f"{code} · {codes['groups'][code]}"


def _carc_words(code: str) -> str:
    return f"{code} · {codes['carcs'][code]}"


entry_claims: list[dict[str, Any]] = []
for claim_id in picked:
    claim = by_id[claim_id]
    key = f"eob.{claim_id}"
    with st.container(border=True):
        st.subheader(f"Claim {claim.patient_control_number} · billed ${claim.total_charge:,.2f}")
        top = st.columns(3)
        paid = top[0].text_input("Paid on the claim", placeholder="0.00", key=f"{key}.paid")
        payer_claim = top[1].text_input("Payer's claim number", key=f"{key}.payer_claim")
        remarks = top[2].text_input("Claim remark codes (RARC, comma-separated)", key=f"{key}.rarc")
        lines: list[dict[str, Any]] = []
        for line in claim.lines:
            lkey = f"{key}.{line.line_number}"
            st.markdown(
                f"**Line {line.line_number}** · {line.procedure_code} "
                f"{' '.join(line.modifiers)} · billed ${line.charge:,.2f}"
            )
            row = st.columns([1, 1, 1, 2])
            line_paid = row[0].text_input("Paid", placeholder="0.00", key=f"{lkey}.paid")
            allowed = row[1].text_input("Allowed (optional)", key=f"{lkey}.allowed")
            count = row[2].number_input("Adjustments", 0, 6, 1, key=f"{lkey}.count")
            line_remarks = row[3].text_input("Remark codes", key=f"{lkey}.rarc")
            adjustments = []
            for n in range(int(count)):
                pick = st.columns([2, 4, 1])
                group = pick[0].selectbox(
                    "Group", list(codes["groups"]), format_func=_group_words, key=f"{lkey}.{n}.g"
                )
                carc = pick[1].selectbox(
                    "Reason (CARC)",
                    list(codes["carcs"]),
                    format_func=_carc_words,
                    key=f"{lkey}.{n}.c",
                )
                amount = pick[2].text_input("Amount", placeholder="0.00", key=f"{lkey}.{n}.a")
                adjustments.append({"group": group, "carc": carc, "amount": amount.strip()})
            lines.append(
                {
                    "line_number": line.line_number,
                    "paid": line_paid.strip(),
                    **({"allowed": allowed.strip()} if allowed.strip() else {}),
                    "adjustments": adjustments,
                    "remark_codes": _codes(line_remarks),
                }
            )
        entry_claims.append(
            {
                "claim_id": claim_id,
                "paid": paid.strip(),
                "payer_claim_number": payer_claim.strip(),
                "remark_codes": _codes(remarks),
                "lines": lines,
            }
        )

if st.button("Post EOB", type="primary", key="eob.post", disabled=not picked):
    entry = {
        "payer_id": payer_id,
        "check_number": check.strip(),
        "payment_method": method,
        "payment_date": paid_on.isoformat() if paid_on else "",
        "total": total.strip(),
        "claims": entry_claims,
    }
    try:
        report = paper_eob.submit_paper_eob(
            engine, username=user.username, data=json.dumps(entry), store=get_document_store()
        )
    except ClaimdeskError as exc:
        st.error(str(exc))
    else:
        outcome = ", ".join(report.outcomes)
        st.success(
            f"{outcome.capitalize()}: remittance {list(report.remittance_ids)}, "
            f"claims {list(report.claim_ids)}."
        )
        if report.denial_ids:
            st.warning(f"Denials to work: {list(report.denial_ids)} (they are in the queue).")
        if report.secondary_claim_ids:
            st.info(f"Billed to the secondary payer: {list(report.secondary_claim_ids)}.")
