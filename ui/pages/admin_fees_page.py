"""Admins: fee schedules, payer × code × modifier × effective dates → expected allowed.

Add or change one row, or upload the CSV ``claimdesk office import`` takes (columns
payer, code, modifier, effective_from, effective_to, allowed), all of it or nothing.
Saved through ``claimdesk.intake.office_edit``; a refused value shows at its field,
a refused CSV by its line.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from claimdesk.errors import ClaimdeskError
from claimdesk.intake import office_edit
from claimdesk.intake.office_read import FEE_COLUMNS
from ui.components import auth
from ui.components.field_form import FieldForm, change_words, flash
from ui.deps import get_engine

NEW = "new"

user = auth.page_user("office.manage")
engine = get_engine()
st.title("Fee schedules")
flash()
try:
    office = office_edit.read_office(engine, username=user.username)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
payer_names = {p["payer_id"]: p["name"] for p in office.payers}
if not payer_names:
    st.info("Add a payer first (Payers page); each rate belongs to one.")
    st.stop()

shown_payer = st.selectbox(
    "Show the rates of",
    ["", *payer_names],
    format_func=lambda pid: "every payer" if not pid else f"{payer_names[pid]} ({pid})",
    key="admin_fees.show",
)
rows = [r for r in office.fee_rows if not shown_payer or r["payer"] == shown_payer]
if rows:
    st.dataframe(
        [
            {
                "Payer": r["payer"],
                "Code": r["code"],
                "Modifier": r["modifier"] or "",
                "From": r["effective_from"],
                "To": r["effective_to"],
                "Allowed": f"{r['allowed']:.2f}",
            }
            for r in rows
        ],
        hide_index=True,
    )
else:
    st.caption("No rates yet.")


def row_key(r: dict[str, Any]) -> str:
    return f"{r['payer']}|{r['code']}|{r['modifier'] or ''}|{r['effective_from'].isoformat()}"


by_key = {row_key(r): r for r in rows}
picked = st.selectbox(
    "Rate to edit",
    [NEW, *by_key],
    format_func=lambda k: "Add a rate" if k == NEW else k.replace("|", " ").replace("  ", " "),
    key="admin_fees.pick",
)
row: dict[str, Any] = by_key.get(picked or NEW) or {
    "payer": shown_payer or next(iter(payer_names)),
    "effective_from": date(date.today().year, 1, 1),  # contracts mostly start a year
    "effective_to": None,
    "allowed": None,
}
existing = picked != NEW
if existing:
    st.caption(
        "A rate is known by its payer, code, modifier and start date; to change the rate from "
        "a date, give this one an end date and add the new rate from the next day."
    )
form = FieldForm(f"admin_fees.{picked}")
with st.form(f"admin_fees.form.{picked}"):
    payer_col, code_col, modifier_col = st.columns([2, 1, 1])
    values: dict[str, Any] = {
        "payer": form.select(
            "payer", "Payer", list(payer_names), row["payer"], where=payer_col,
            format_func=lambda pid: f"{payer_names[pid]} ({pid})", disabled=existing,
        ),
        "code": form.text(
            "code", "CPT/HCPCS code", row.get("code"), where=code_col, disabled=existing
        ),
        "modifier": form.text(
            "modifier", "Modifier", row.get("modifier"), where=modifier_col, disabled=existing
        ),
    }  # fmt: skip
    from_col, to_col, allowed_col = st.columns(3)
    values["effective_from"] = from_col.date_input(
        "Effective from",
        value=row["effective_from"],
        min_value=date(2000, 1, 1),
        key=form.key("effective_from"),
        disabled=existing,
    )
    form.slots["effective_from"] = from_col.empty()
    values["effective_to"] = to_col.date_input(
        "Effective to (blank: open)",
        value=row["effective_to"],
        min_value=date(2000, 1, 1),
        key=form.key("effective_to"),
    )
    form.slots["effective_to"] = to_col.empty()
    allowed = row["allowed"]
    values["allowed"] = form.text(
        "allowed", "Expected allowed ($)", None if allowed is None else f"{allowed:.2f}",
        where=allowed_col,
    )  # fmt: skip
    form.end()
    if st.form_submit_button("Save rate"):
        try:
            changes = office_edit.save_fee_row(
                engine, username=user.username, values=values, adding=not existing
            )
        except office_edit.EditRefused as exc:
            form.show(exc.problems)
        except ClaimdeskError as exc:
            form.show({"": [str(exc)]})
        else:
            form.saved(change_words(changes))

st.subheader("Upload a fee-schedule CSV")
st.caption(
    f"Columns: {', '.join(FEE_COLUMNS)} (modifier and effective_to may be blank). The same "
    "file as `claimdesk office import` reads; all of it is taken or none."
)
upload = FieldForm("admin_fees.upload")
with st.form(upload.key("form")):
    data = st.file_uploader("Fee schedule (.csv)", type=["csv"], key=upload.key("file"))
    upload.slots["file"] = st.empty()
    upload.end()
    if st.form_submit_button("Import CSV"):
        if data is None:
            upload.show({"file": ["choose a CSV file first"]})
        else:
            try:
                changes = office_edit.import_fee_csv(
                    engine, username=user.username, data=data.getvalue(), filename=data.name
                )
            except office_edit.EditRefused as exc:
                upload.show(
                    {"file": [f"{k}: {' '.join(v)}" if k != "file" else " ".join(v)
                              for k, v in exc.problems.items()]}
                )  # fmt: skip
            except ClaimdeskError as exc:
                upload.show({"file": [str(exc)]})
            else:
                upload.saved(change_words(changes))
