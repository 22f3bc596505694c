"""Charge entry: find the patient, pick the coverage, look the codes up, save a draft claim.

Everything is checked and stored by ``claimdesk.intake.charge_entry`` (the claim import's
own path); this page only gathers the values. A refusal is shown at each field it names.
Owns the ``ce.*`` session keys. ``?patient=ID`` opens the form for that patient.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import streamlit as st

from claimdesk.clock import today as clock_today
from claimdesk.errors import ClaimdeskError
from claimdesk.intake import charge_entry as ce
from claimdesk.intake import code_lookup
from claimdesk.intake.code_lookup import CodeChoice
from claimdesk.intake.problems import ImportRefused
from ui.components import auth
from ui.deps import get_engine, get_settings
from ui.navigation import COVERAGE, SEARCH, UI_DIR

user = auth.page_user(ce.ACTION)
engine = get_engine()
code_lookup.warm_up()  # the code set reads while the patient is being found
try:
    today = clock_today(get_settings())  # the demo's simulated day, else the calendar's
except ClaimdeskError:
    today = date.today()
state = st.session_state
state.setdefault("ce.diagnoses", [])  # [(code, label)]
state.setdefault("ce.lines", [])  # [dict of a LineEntry and its label]
state.setdefault("ce.problems", {})  # (where, field) → reason
FIND_BY: dict[ce.FindBy, str] = {
    "name": "Name",
    "account": "Account number",
    "member_id": "Member id",
}
st.title("Charge entry")


def problem(where: str, name: str) -> None:
    """The refusal's words for this field, shown under it."""
    if reason := state["ce.problems"].get((where, name)):
        st.error(f"{name.replace('_', ' ')}: {reason}", icon=":material/error:")


def _clear() -> None:
    state["ce.diagnoses"], state["ce.lines"], state["ce.problems"] = [], [], {}


# --- the patient ----------------------------------------------------------------------
given = st.query_params.get("patient")
if given and given.isdigit() and state.get("ce.patient") is None:
    state["ce.patient"] = int(given)
with st.expander("Find the patient", expanded=state.get("ce.patient") is None):
    left, right = st.columns([1, 3])
    by = left.selectbox("Find by", list(FIND_BY), format_func=FIND_BY.__getitem__, key="ce.by")
    query = right.text_input("Patient name, account or member id", key="ce.query")
    if st.button("Find patient", key="ce.find") and query.strip():
        try:
            state["ce.found"] = ce.find_patients(engine, username=user.username, query=query, by=by)
        except ClaimdeskError as exc:
            st.error(str(exc))
    found: list[ce.PatientChoice] = state.get("ce.found", [])
    if "ce.found" in state and not found:
        st.info("No patient matches.")
    if found:
        labels = {p.patient_id: p.label for p in found}
        chosen = st.selectbox("Patient", list(labels), format_func=labels.__getitem__)
        if st.button("Enter a charge for this patient", key="ce.use"):
            state["ce.patient"] = chosen
            _clear()
            st.rerun()
patient_id: int | None = state.get("ce.patient")
if patient_id is None:
    st.info("Find the patient first (by name, account number or member id).")
    st.stop()
try:
    form = ce.read_charge_form(engine, username=user.username, patient_id=patient_id)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()
st.subheader(form.patient.label)
problem("claim", "patient")
if not form.coverages:
    st.warning("This patient has no coverage on file: add one before billing a payer.")
    st.stop()

# --- the visit ------------------------------------------------------------------------
visit = st.columns(2)
coverages = {c.coverage_id: c.label for c in form.coverages}
with visit[0]:
    coverage_id = st.selectbox(
        "Coverage billed", list(coverages), format_func=coverages.__getitem__, key="ce.coverage"
    )
    problem("claim", "coverage")
with visit[1]:
    service_date = st.date_input("Date of service", value=today, max_value=today, key="ce.dos")
    problem("claim", "service_date")
more = st.columns(3)
providers: dict[int | None, str] = {None: "— (the billing provider)"}
providers.update({p.provider_id: p.label for p in form.rendering})
with more[0]:
    rendering = st.selectbox(
        "Rendering provider", list(providers), format_func=providers.__getitem__, key="ce.rend"
    )
    problem("claim", "rendering_provider")
places = dict(form.places_of_service)
with more[1]:
    place = st.selectbox(
        "Place of service",
        list(places),
        index=list(places).index("11") if "11" in places else 0,
        format_func=places.__getitem__,
        key="ce.pos",
    )
    problem("claim", "place_of_service")
with more[2]:
    pcn = st.text_input("Claim number (empty: the next CE number)", key="ce.pcn")
    problem("claim", "patient_control_number")
if len(form.billing) > 1:  # otherwise the practice's one billing provider bills
    billers = {p.provider_id: p.label for p in form.billing}
    st.selectbox("Billing provider", list(billers), format_func=billers.__getitem__, key="ce.bill")
    problem("claim", "billing_provider")
on = service_date if isinstance(service_date, date) else today


def _look_up(kind: str, text: str) -> list[CodeChoice]:
    if not text.strip():
        return []
    try:
        return ce.look_up_codes(
            engine,
            username=user.username,
            kind=kind,  # type: ignore[arg-type]
            text=text,
            on=on,
            coverage_id=coverage_id,
        )
    except ClaimdeskError as exc:
        st.error(str(exc))
        return []


# --- diagnoses ------------------------------------------------------------------------
st.subheader("Diagnoses (ICD-10-CM)")
problem("claim", "diagnoses")
for n, (_code, label) in enumerate(state["ce.diagnoses"], start=1):
    row = st.columns([8, 1])
    row[0].markdown(f"**{n}.** {label}")
    if row[1].button("Remove", key=f"ce.dx.remove.{n}"):
        state["ce.diagnoses"].pop(n - 1)
        st.rerun()
    problem(f"diagnosis {n}", "code")
dx_text = st.text_input("Find a diagnosis (code or words)", key="ce.dx.query")
dx_found = _look_up("diagnosis", dx_text)
if dx_text.strip() and not dx_found:
    st.caption("No billable ICD-10-CM code for the date of service matches.")
if dx_found:
    dx_labels = {c.code: c.label for c in dx_found}
    dx_pick = st.selectbox(
        "Diagnosis found", list(dx_labels), format_func=dx_labels.__getitem__, key="ce.dx.pick"
    )
    if st.button("Add diagnosis", key="ce.dx.add") and dx_pick:
        if dx_pick not in [c for c, _ in state["ce.diagnoses"]]:
            state["ce.diagnoses"].append((dx_pick, dx_labels[dx_pick]))
        st.rerun()
    st.caption(f"From {dx_found[0].source}.")

# --- service lines --------------------------------------------------------------------
st.subheader("Service lines")
problem("claim", "lines")
for n, line in enumerate(state["ce.lines"], start=1):
    row = st.columns([4, 2, 1, 1, 1.5, 1.5])
    row[0].markdown(f"**{n}.** {line['label']}")
    row[1].write(" ".join(line["modifiers"]) or "no modifier")
    row[2].write(f"× {line['units']}")
    row[3].write("dx " + ",".join(str(p) for p in line["diagnosis_pointers"]))
    row[4].write(f"${Decimal(line['charge']):,.2f}" if line["charge"] else "fee schedule")
    if row[5].button("Remove", key=f"ce.line.remove.{n}"):
        state["ce.lines"].pop(n - 1)
        st.rerun()
    for name in ("procedure_code", "modifiers", "units", "diagnosis_pointers", "charge"):
        problem(f"line {n}", name)  # the fields _LINE_FIELDS names
px_text = st.text_input("Find a procedure (HCPCS words or code; CPT by code)", key="ce.px.query")
px_found = _look_up("procedure", px_text)
if px_text.strip() and not px_found:
    st.caption("No HCPCS code for the date of service matches; a CPT code is 5 characters.")
if px_found:
    px_labels = {c.code: c.label for c in px_found}
    cols = list(st.columns([4, 2, 1, 2, 2]))
    px_pick = cols[0].selectbox(
        "Procedure found", list(px_labels), format_func=px_labels.__getitem__, key="ce.px.pick"
    )
    modifiers = cols[1].text_input("Modifiers (space between)", key="ce.px.mods")
    units = cols[2].number_input("Units", min_value=1, max_value=9999, value=1, key="ce.px.units")
    numbers = list(range(1, len(state["ce.diagnoses"]) + 1)) or [1]
    pointers = cols[3].multiselect("Diagnoses it treats", numbers, default=[1], key="ce.px.ptr")
    mods = modifiers.upper().split()
    fee_key = (px_pick, tuple(mods), units, coverage_id, on)
    if state.get("ce.fee_key") != fee_key:  # the code, modifiers or units changed: refill
        state["ce.fee_key"] = fee_key
        try:
            fee = ce.fee_for(
                engine,
                username=user.username,
                coverage_id=coverage_id,
                code=px_pick,
                on=on,
                modifiers=mods,
                units=Decimal(units),
            )
        except ClaimdeskError:
            fee = None
        state["ce.fee"] = fee
        state["ce.px.charge"] = f"{fee:.2f}" if fee is not None else ""
    charge = cols[4].text_input("Charge ($)", key="ce.px.charge")
    fee_now = state.get("ce.fee")
    cols[4].caption(
        f"Fee schedule: ${fee_now:,.2f}" if fee_now is not None else "Not on the fee schedule"
    )
    if st.button("Add line", key="ce.px.add") and px_pick:
        state["ce.lines"].append(
            {
                "procedure_code": px_pick,
                "label": px_labels[px_pick],
                "modifiers": mods,
                "units": str(units),
                "diagnosis_pointers": sorted(pointers),
                "charge": charge.strip(),
            }
        )
        state.pop("ce.fee_key", None)
        st.rerun()


# --- saving ---------------------------------------------------------------------------
_CLAIM_FIELDS = {
    "patient", "coverage", "service_date", "rendering_provider", "place_of_service",
    "patient_control_number", "diagnoses", "lines", "billing_provider",
}  # fmt: skip
_LINE_FIELDS = {"procedure_code", "modifiers", "units", "diagnosis_pointers", "charge"}


def _shown_at_a_field(where: str, name: str) -> bool:
    if where == "claim":
        return name in _CLAIM_FIELDS
    if where.startswith("diagnosis "):
        return name == "code"
    return where.startswith("line ") and name in _LINE_FIELDS


def _save() -> None:
    lines: list[dict[str, Any]] = state["ce.lines"]
    entry = ce.ChargeEntry(
        patient_id=patient_id,
        coverage_id=state.get("ce.coverage"),
        service_date=state.get("ce.dos"),
        diagnoses=[code for code, _ in state["ce.diagnoses"]],
        lines=[
            ce.LineEntry(
                procedure_code=line["procedure_code"],
                charge=line["charge"] or None,
                modifiers=line["modifiers"],
                units=line["units"],
                diagnosis_pointers=line["diagnosis_pointers"],
            )
            for line in lines
        ],
        place_of_service=state.get("ce.pos") or "11",
        rendering_provider_id=state.get("ce.rend"),
        billing_provider_id=state.get("ce.bill") if len(form.billing) > 1 else None,
        patient_control_number=state.get("ce.pcn") or None,
    )
    state.pop("ce.saved", None)
    try:
        saved = ce.save_charge(engine, username=user.username, entry=entry, today=today)
    except ImportRefused as exc:
        state["ce.problems"] = {(p.where, p.field): p.reason for p in exc.problems}
        # A problem no field of this page shows (the practice's billing provider) is said here.
        elsewhere = [str(p) for p in exc.problems if not _shown_at_a_field(p.where, p.field)]
        state["ce.notice"] = (
            "error",
            f"Not saved: {len(exc.problems)} problem(s), shown above."
            + "".join(f"  \n{line}" for line in elsewhere),
        )
    except ClaimdeskError as exc:
        state["ce.notice"] = ("error", str(exc))
    else:
        _clear()
        state["ce.pcn"] = ""
        state["ce.saved"] = saved


st.button("Save draft claim", type="primary", on_click=_save, key="ce.save")
if notice := state.pop("ce.notice", None):
    st.error(notice[1])
if saved := state.get("ce.saved"):
    st.success(
        f"Saved draft claim {saved.patient_control_number} (claim {saved.claim_id}, "
        f"${saved.total_charge:,.2f}). It is checked and scrubbed like an imported claim. "
        f"[Coverage]({COVERAGE.url_path}?claim={saved.claim_id})"
    )
    if st.button("Find it in search", key="ce.to_search"):
        state.pop("ce.saved")
        st.switch_page(
            str(UI_DIR / SEARCH.path), query_params={"claim": saved.patient_control_number}
        )
