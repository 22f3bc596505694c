"""Admins: payers, their rules (timely filing, appeals, status cadence) and connectivity.

Credentials are *references* only: the name of an environment variable or the path of a
secret file, never the secret (the checks refuse one that looks like a secret without
repeating it). Saved through ``claimdesk.intake.office_edit``, the checks and the audited
write of ``claimdesk office import``; a refused value shows at its field.
"""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from claimdesk.errors import ClaimdeskError
from claimdesk.intake import office_edit
from claimdesk.intake.office_schema import CREDENTIAL_FIELDS
from ui.components import auth
from ui.components.field_form import FieldForm, change_words, flash
from ui.deps import get_engine

NEW = "new"
KINDS = ("commercial", "medicare", "medicaid")
CHANNELS = ("electronic", "paper")
APPEAL_HELP = (
    "One level a line: level, name, window in days, when the clock starts "
    "(notice, notice+5, decision, ...). For example: 1, redetermination, 120, notice+5"
)

user = auth.page_user("office.manage")
engine = get_engine()
st.title("Payers")
flash()
try:
    office = office_edit.read_office(engine, username=user.username)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
payers = {p["payer_id"]: p for p in office.payers}
if payers:
    st.dataframe(
        [
            {
                "EDI id": p["payer_id"],
                "Name": p["name"],
                "Kind": p["kind"],
                "Claims": p["claim_channel"],
                "Timely filing (days)": p["timely_filing_days"],
                "Status every (hours)": p["status_poll_interval_hours"],
                "Appeal levels": len(p["appeal_levels"]),
                "Endpoint": p["connectivity"].get("endpoint") or "payer simulator",
            }
            for p in office.payers
        ],
        hide_index=True,
    )
picked = st.selectbox(
    "Payer to edit",
    [*payers, NEW],
    format_func=lambda pid: "Add a payer" if pid == NEW else f"{payers[pid]['name']} ({pid})",
    key="admin_payers.pick",
)
payer: dict[str, Any] = payers.get(picked or NEW) or {
    "kind": "commercial",
    "claim_channel": "electronic",
    "timely_filing_days": 365,
    "status_poll_interval_hours": 24,
    "appeal_levels": [],
    "prior_auth_codes": [],
    "connectivity": {},
    "address": None,
    "accepts_replacement_claims": True,
    "electronic_appeals": False,
}
link: dict[str, Any] = payer["connectivity"]
form = FieldForm(f"admin_payers.{picked}")


def levels_text(levels: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{lv.get('level')}, {lv.get('name', 'appeal')}, {lv.get('window_days')}, "
        f"{lv.get('clock_starts', 'notice')}"
        for lv in levels
    )


def levels_from(text: str) -> list[dict[str, Any]]:
    """Each line's four values by name; the section model checks them (by line, as index)."""
    out = []
    for line in text.splitlines():
        if line.strip():
            parts = [part.strip() for part in line.split(",")]
            names = ("level", "name", "window_days", "clock_starts")
            out.append(dict(zip(names, parts, strict=False)))
    return out


def by_line(problems: dict[str, list[str]]) -> dict[str, list[str]]:
    """An appeal level's problem by its line in the text area (appeal_levels[0] is line 1)."""
    out: dict[str, list[str]] = {}
    for name, messages in problems.items():
        match = re.fullmatch(r"appeal_levels\[(\d+)\]\.?(.*)", name)
        if match:
            line, field = int(match.group(1)) + 1, match.group(2)
            where = f"line {line}: {field}: " if field else f"line {line}: "
            out.setdefault("appeal_levels", []).extend(where + m for m in messages)
        else:
            out[name] = messages
    return out


with st.form(f"admin_payers.form.{picked}"):
    st.subheader("Payer")
    id_col, name_col = st.columns([1, 2])
    values: dict[str, Any] = {
        "payer_id": form.text(
            "payer_id", "EDI payer id", payer.get("payer_id"), where=id_col, disabled=picked != NEW
        ),
        "name": form.text("name", "Name", payer.get("name"), where=name_col),
    }
    kind_col, channel_col, sbr_col = st.columns(3)
    values["kind"] = form.select("kind", "Kind", KINDS, payer["kind"], where=kind_col)
    values["claim_channel"] = form.select(
        "claim_channel", "Claims go", CHANNELS, payer["claim_channel"], where=channel_col
    )
    values["claim_filing_indicator"] = form.text(
        "claim_filing_indicator",
        "Claim filing indicator (SBR09; blank: from the kind)",
        payer.get("claim_filing_indicator"),
        where=sbr_col,
    )
    st.subheader("Rules")
    days_col, hours_col = st.columns(2)
    values["timely_filing_days"] = form.number(
        "timely_filing_days", "Timely filing (days)", payer["timely_filing_days"], step=1,
        where=days_col,
    )  # fmt: skip
    values["status_poll_interval_hours"] = form.number(
        "status_poll_interval_hours", "Ask for claim status every (hours)",
        payer["status_poll_interval_hours"], step=1, where=hours_col,
    )  # fmt: skip
    levels = form.area(
        "appeal_levels", "Appeal levels", levels_text(payer["appeal_levels"]), help=APPEAL_HELP
    )
    values["appeal_levels"] = levels_from(levels)
    flags = st.columns(2)
    values["electronic_appeals"] = form.check(
        "electronic_appeals", "Takes appeals electronically", payer["electronic_appeals"],
        where=flags[0],
    )  # fmt: skip
    values["accepts_replacement_claims"] = form.check(
        "accepts_replacement_claims", "Takes replacement claims (frequency 7)",
        payer["accepts_replacement_claims"], where=flags[1],
    )  # fmt: skip
    codes = form.text(
        "prior_auth_codes",
        "Codes needing a prior authorization (comma-separated)",
        ", ".join(payer["prior_auth_codes"]),
    )
    values["prior_auth_codes"] = [c.strip() for c in codes.split(",") if c.strip()]

    st.subheader("Connectivity (CORE)")
    st.caption(
        "Leave the endpoint blank for the payer simulator. Credentials: give the name of an "
        "environment variable (…_env) or the absolute path of a secret file (…_file), never "
        "the secret itself."
    )
    conn: dict[str, Any] = {}
    left, right = st.columns(2)
    conn["endpoint"] = form.text(
        "connectivity.endpoint", "Endpoint URL", link.get("endpoint"), where=left
    )
    conn["appeal_endpoint"] = form.text(
        "connectivity.appeal_endpoint", "Appeal endpoint URL", link.get("appeal_endpoint"),
        where=right,
    )  # fmt: skip
    left, right, third = st.columns(3)
    conn["sender_id"] = form.text(
        "connectivity.sender_id", "Sender id", link.get("sender_id"), where=left
    )
    conn["receiver_id"] = form.text(
        "connectivity.receiver_id", "Receiver id", link.get("receiver_id"), where=right
    )
    conn["username"] = form.text(
        "connectivity.username", "Username (not a secret)", link.get("username"), where=third
    )
    columns = st.columns(4)
    for index, name in enumerate(CREDENTIAL_FIELDS):
        what, source = name.rsplit("_", 1)
        label = what.replace("_", " ").capitalize() + (
            " (env variable)" if source == "env" else " (secret file)"
        )
        conn[name] = form.text(
            f"connectivity.{name}", label, link.get(name), where=columns[index % 4]
        )
    conn["production"] = form.check(
        "connectivity.production", "Production (ISA15 P)", link.get("production", False)
    )
    with st.expander("Payer address (needed when claims go on paper)"):
        address = payer.get("address") or {}
        first, second = st.columns(2)
        values["address"] = {
            "line1": form.text("address.line1", "Street", address.get("line1"), where=first),
            "line2": form.text("address.line2", "Suite", address.get("line2"), where=second),
        }
        city, state, postal = st.columns([3, 1, 2])
        values["address"]["city"] = form.text(
            "address.city", "City", address.get("city"), where=city
        )
        values["address"]["state"] = form.text(
            "address.state", "State", address.get("state"), where=state
        )
        values["address"]["postal_code"] = form.text(
            "address.postal_code", "ZIP", address.get("postal_code"), where=postal
        )
    # Limits and the other connectivity settings are kept as stored (office import sets them).
    for name in ("rate_limit_per_s", "timeout_s", "max_concurrency"):
        if name in payer:
            values[name] = payer[name]
    for name in ("max_retries", "failure_threshold", "cooldown_s", "batch_timeout_s"):
        if name in link:
            conn[name] = link[name]
    values["connectivity"] = conn
    form.end()
    if st.form_submit_button("Save payer"):
        try:
            changes = office_edit.save_payer(
                engine, username=user.username, values=values, adding=picked == NEW
            )
        except office_edit.EditRefused as exc:
            form.show(by_line(exc.problems))
        except ClaimdeskError as exc:
            form.show({"": [str(exc)]})
        else:
            form.saved(change_words(changes))
