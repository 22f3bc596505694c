"""Admins: the practice (name, NPI, TIN, taxonomy, address, pay-to) and its providers.

Saved through ``claimdesk.intake.office_edit``: the checks and the audited write of
``claimdesk office import``; a refused value shows at its field and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from claimdesk.errors import ClaimdeskError
from claimdesk.intake import office_edit
from ui.components import auth
from ui.components.field_form import FieldForm, change_words, flash
from ui.deps import get_engine

NEW = "new"
ROLES = ("billing", "rendering", "referring", "facility")
EMPTY_ADDRESS = dict.fromkeys(("line1", "line2", "city", "state", "postal_code"))

user = auth.page_user("office.manage")
engine = get_engine()
st.title("Practice and providers")
flash()
try:
    office = office_edit.read_office(engine, username=user.username)
except ClaimdeskError as exc:
    st.error(str(exc))
    st.stop()


def address_fields(form: FieldForm, name: str, value: dict[str, Any] | None) -> dict[str, Any]:
    value = value or EMPTY_ADDRESS
    first, second = st.columns(2)
    out = {
        "line1": form.text(f"{name}.line1", "Street", value["line1"], where=first),
        "line2": form.text(
            f"{name}.line2", "Suite, floor (optional)", value["line2"], where=second
        ),
    }
    city, state, postal = st.columns([3, 1, 2])
    out["city"] = form.text(f"{name}.city", "City", value["city"], where=city)
    out["state"] = form.text(f"{name}.state", "State", value["state"], where=state)
    out["postal_code"] = form.text(f"{name}.postal_code", "ZIP", value["postal_code"], where=postal)
    return out


def save(form: FieldForm, call: Any, values: dict[str, Any], *, adding: bool) -> None:
    try:
        changes = call(engine, username=user.username, values=values, adding=adding)
    except office_edit.EditRefused as exc:
        form.show(exc.problems)
    except ClaimdeskError as exc:
        form.show({"": [str(exc)]})
    else:
        form.saved(change_words(changes))


# --- The practice -------------------------------------------------------------------------

st.subheader("Practice")
practices = {p["npi"]: p for p in office.practices}
if practices:
    st.dataframe(
        [
            {
                "Name": p["name"],
                "NPI": p["npi"],
                "TIN": p["tin"],
                "Taxonomy": p["taxonomy"],
                "City": (p["address"] or {}).get("city"),
            }
            for p in office.practices
        ],
        hide_index=True,
    )
picked = st.selectbox(
    "Practice to edit",
    [*practices, NEW],
    format_func=lambda npi: "Add a practice" if npi == NEW else f"{practices[npi]['name']} ({npi})",
    key="admin_practice.pick",
)
current = practices.get(picked or NEW) or {"address": None, "pay_to": None}
if picked != NEW:
    st.caption("The NPI is how claimdesk knows the practice: another NPI is another practice.")
form = FieldForm(f"admin_practice.{picked}")
with st.form(f"admin_practice.form.{picked}"):
    name_col, npi_col = st.columns([2, 1])
    values: dict[str, Any] = {
        "name": form.text("name", "Practice name", current.get("name"), where=name_col),
        "npi": form.text(
            "npi", "Practice NPI", current.get("npi"), where=npi_col, disabled=picked != NEW
        ),
    }
    tin_col, taxonomy_col = st.columns(2)
    values["tin"] = form.text("tin", "TIN (EIN)", current.get("tin"), where=tin_col)
    values["taxonomy"] = form.text(
        "taxonomy", "Taxonomy", current.get("taxonomy"), where=taxonomy_col
    )
    st.markdown("**Address**")
    values["address"] = address_fields(form, "address", current["address"])
    st.markdown("**Pay-to address** (only when payments go elsewhere; leave blank otherwise)")
    values["pay_to"] = address_fields(form, "pay_to", current["pay_to"])
    form.end()
    if st.form_submit_button("Save practice"):
        save(form, office_edit.save_practice, values, adding=picked == NEW)

# --- Providers ----------------------------------------------------------------------------

st.subheader("Providers")
names = {p["npi"]: p["name"] for p in office.practices}
providers = {f"{p['practice']}/{p['npi']}": p for p in office.providers}


def provider_name(p: dict[str, Any]) -> str:
    return p["organization_name"] or " ".join(n for n in (p["first_name"], p["last_name"]) if n)


if providers:
    st.dataframe(
        [
            {
                "Name": provider_name(p),
                "NPI": p["npi"],
                "Role": p["role"],
                "Taxonomy": p["taxonomy"],
                "Practice": names.get(p["practice"], p["practice"]),
            }
            for p in office.providers
        ],
        hide_index=True,
    )
chosen = st.selectbox(
    "Provider to edit",
    [NEW, *providers],
    format_func=lambda key: (
        "Add a provider"
        if key == NEW
        else f"{provider_name(providers[key])} ({providers[key]['npi']}, {providers[key]['role']})"
    ),
    key="admin_provider.pick",
)
provider = providers.get(chosen or NEW) or {
    "practice": next(iter(names), None),
    "role": "rendering",
}
pform = FieldForm(f"admin_provider.{chosen}")
with st.form(f"admin_provider.form.{chosen}"):
    left, right = st.columns(2)
    pvalues: dict[str, Any] = {
        "practice": pform.select(
            "practice",
            "Practice",
            list(names),
            provider.get("practice"),
            where=left,
            format_func=lambda npi: f"{names[npi]} ({npi})",
            disabled=chosen != NEW,
        ),
        "npi": pform.text(
            "npi", "Provider NPI", provider.get("npi"), where=right, disabled=chosen != NEW
        ),
    }
    left, right = st.columns(2)
    pvalues["role"] = pform.select("role", "Role", ROLES, provider.get("role"), where=left)
    pvalues["taxonomy"] = pform.text("taxonomy", "Taxonomy", provider.get("taxonomy"), where=right)
    st.caption("An organization's name, or a person's first and last name.")
    org, first, last = st.columns(3)
    pvalues["organization_name"] = pform.text(
        "organization_name", "Organization name", provider.get("organization_name"), where=org
    )
    pvalues["first_name"] = pform.text(
        "first_name", "First name", provider.get("first_name"), where=first
    )
    pvalues["last_name"] = pform.text(
        "last_name", "Last name", provider.get("last_name"), where=last
    )
    pvalues["tin"] = pform.text("tin", "TIN (optional)", provider.get("tin"))
    pform.end()
    if st.form_submit_button("Save provider"):
        save(pform, office_edit.save_provider, pvalues, adding=chosen == NEW)
