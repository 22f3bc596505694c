"""The decision form: drawn from the task's stored JSON schema, in the office's words.

The action is picked outside the form (as a sentence, the suggested one first chosen and
explained), so the form shows only the fields that action uses; pickers show their
words and submit codes (a payer as "Name (EDI id)", sent as the EDI id), dates are date
pickers, and every field starts from what claimdesk knows (``claimdesk.workqueue.forms``).
The decision is checked by the same models as the command line's; a problem is shown at
the field it names. Owns the session-state keys under the ``key`` it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from claimdesk.workqueue import forms

LABELS = {
    "payer_id": "Payer",
    "member_id": "Member id",
    "group_number": "Group number",
    "effective_from": "Coverage starts",
    "effective_to": "Coverage ends",
    "place_of_service": "Place of service",
    "diagnoses": "Diagnoses (ICD-10-CM)",
    "authorization_number": "Prior authorization number",
    "appeal_level": "Appeal level",
    "argument": "Argument for the appeal",
    "document_ids": "Documents to send",
    "waiver_document_id": "The patient's signed waiver",
    "follow_up_days": "Ask the payer again after (days)",
    "reason": "Reason or note (stored as text)",
    "new_due_date": "New due date",
    "claim_payment_id": "Claim payment (CLP) id",
    "claim_id": "Claim id",
}


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(root.get("$defs", {}).get(ref.split("/")[-1], {}))
    return node


def _unwrap(node: dict[str, Any], root: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(the non-null alternative, whether null is allowed)."""
    node = _resolve(node, root)
    options = node.get("anyOf")
    if not options:
        return node, False
    concrete = [_resolve(o, root) for o in options if o.get("type") != "null"]
    nullable = len(concrete) < len(options)
    if len(concrete) == 1:
        merged = {**concrete[0], **{k: v for k, v in node.items() if k != "anyOf"}}
        return merged, nullable
    # number-or-string (Decimal): a text box either way
    return {"type": "string", "title": node.get("title"), "format": "decimal"}, nullable


def _label(name: str, node: dict[str, Any], required: bool) -> str:
    title = LABELS.get(name) or str(node.get("title") or name.replace("_", " ").capitalize())
    return title + (" *" if required else "")


@dataclass
class _Drawing:
    plan: forms.FormPlan
    key: str
    slots: dict[str, DeltaGenerator] = field(default_factory=dict)

    def slot(self, path: str) -> None:
        self.slots[path] = st.empty()


def _picked(
    options: list[forms.Option], default: Any
) -> tuple[list[Any], dict[Any, str], int | None]:
    values = [o.value for o in options]
    labels = {o.value: o.label for o in options}
    if default is not None and default not in labels:
        values.insert(0, default)  # what the claim has, even if no list knows it
        labels[default] = str(default)
    return values, labels, values.index(default) if default in values else None


def _choose(label: str, path: str, d: _Drawing, *, many: bool, typed: bool = False) -> Any:
    """A picker over the plan's options for ``path``, showing their words."""
    default = d.plan.defaults.get(path)
    if many:
        defaults = list(default or [])
        values, labels, _ = _picked(d.plan.options[path], None)
        values += [v for v in defaults if v not in labels]
        chosen = st.multiselect(
            label,
            values,
            default=defaults,
            format_func=lambda v: labels.get(v, str(v)),
            key=f"{d.key}.{path}",
            accept_new_options=typed,
        )
        return chosen or None
    values, labels, index = _picked(d.plan.options[path], default)
    return st.selectbox(
        label,
        values,
        index=index,
        format_func=lambda v: labels.get(v, str(v)),
        key=f"{d.key}.{path}",
        placeholder="Choose…",
        accept_new_options=typed,
    )


def _field(
    name: str, node: dict[str, Any], root: dict[str, Any], path: str, d: _Drawing, required: bool
) -> Any:
    node, nullable = _unwrap(node, root)
    label = _label(name, node, required and not nullable)
    help_text = node.get("description")
    kind = node.get("type")
    key = f"{d.key}.{path}"
    default = d.plan.defaults.get(path, node.get("default"))
    if path == "corrections.lines":
        return _lines(d)
    if d.plan.options.get(path):
        value = _choose(label, path, d, many=kind == "array", typed=path == "corrections.diagnoses")
        if path == "corrections.diagnoses" and value:
            value = [str(c).strip().upper().replace(".", "") for c in value]
        return value
    if "enum" in node or "const" in node:
        options = list(node.get("enum") or [node["const"]])
        if not required or nullable:
            options = ["", *options]
        value = st.selectbox(label, options, key=key, help=help_text)
        return value if value != "" else None
    if kind == "object":
        # The property's name, not the nested model's class name (e.g. "ClaimCorrections").
        st.markdown(f"**{name.replace('_', ' ').capitalize()}**")
        return _object(node, root, path, d, optional=not required or nullable)
    if kind == "boolean":
        return st.checkbox(label, value=bool(default), key=key, help=help_text)
    if node.get("format") == "date":
        picked = st.date_input(label, value=default, key=key, help=help_text, format="YYYY-MM-DD")
        return picked if isinstance(picked, date) else None
    if kind == "array":
        raw = st.text_input(label + " (comma-separated)", key=key, help=help_text)
        values = [v.strip() for v in raw.split(",") if v.strip()]
        return values or None
    start = "" if default is None else str(default)
    if kind == "string" and (node.get("maxLength") or 0) > 200:
        raw = st.text_area(label, value=start, key=key, help=help_text)
    else:
        raw = st.text_input(label, value=start, key=key, help=help_text)
    return raw.strip() or None


def _lines(d: _Drawing) -> list[dict[str, Any]]:
    """Each claim line with its code, modifiers, units and charge as they stand."""
    codes = d.plan.options.get("corrections.lines.procedure_code", [])
    found: list[dict[str, Any]] = []
    for line in d.plan.lines:
        base = f"{d.key}.corrections.lines.{line.line_number}"
        st.caption(f"Line {line.line_number}")
        left, mid, units_col, charge_col = st.columns([2, 2, 1, 1])
        with left:
            values, labels, index = _picked(codes, line.procedure_code)
            code = st.selectbox(
                "Procedure code",
                values,
                index=index,
                key=f"{base}.code",
                format_func=lambda v, labels=labels: labels.get(v, str(v)),
                accept_new_options=True,
            )
        with mid:
            modifiers = st.multiselect(
                "Modifiers",
                list(line.modifiers),
                default=list(line.modifiers),
                key=f"{base}.modifiers",
                accept_new_options=True,
                max_selections=4,
            )
        units = units_col.number_input(
            "Units", value=float(line.units), min_value=0.0, step=1.0, key=f"{base}.units"
        )
        charge = charge_col.number_input(
            "Charge ($)",
            value=float(line.charge),
            min_value=0.0,
            step=0.01,
            format="%.2f",
            key=f"{base}.charge",
        )
        d.slot(f"corrections.lines.L{line.line_number}")
        found.append(
            {
                "line_number": line.line_number,
                "procedure_code": code,
                "modifiers": modifiers,
                "units": Decimal(str(units)),
                "charge": Decimal(str(charge)),
            }
        )
    return found


def _object(
    schema: dict[str, Any],
    root: dict[str, Any],
    path: str,
    d: _Drawing,
    *,
    optional: bool = False,
    action: str | None = None,
) -> dict[str, Any] | None:
    required = set(schema.get("required", []))
    values: dict[str, Any] = {}
    for name, node in schema.get("properties", {}).items():
        if not path and (name == "action" or not d.plan.uses(name, action)):
            continue
        where = f"{path}.{name}" if path else name
        value = _field(name, node, root, where, d, name in required)
        if where != "corrections.lines":
            d.slot(where)
        if value is not None:
            values[name] = value
    if optional and not values:
        return None
    return values


@dataclass
class DrawnForm:
    """The decision the person submitted (None until they do), and where problems go."""

    decision: dict[str, Any] | None
    slots: dict[str, DeltaGenerator]
    line_order: list[int] = field(default_factory=list)

    def _slot(self, where: str) -> DeltaGenerator:
        parts = where.split(".")
        if parts[:2] == ["corrections", "lines"] and len(parts) > 2 and parts[2].isdigit():
            index = int(parts[2])
            if index < len(self.line_order):
                parts = ["corrections", "lines", f"L{self.line_order[index]}"]
        while parts:
            if (found := self.slots.get(".".join(parts))) is not None:
                return found
            parts.pop()
        return self.slots["decision"]

    def show_problems(self, problems: list[str]) -> None:
        """Each 'field: message' at its field (the rest by the action)."""
        grouped: dict[int, tuple[DeltaGenerator, list[str]]] = {}
        for where, messages in forms.problems_by_field(problems).items():
            slot = self._slot(where)
            grouped.setdefault(id(slot), (slot, []))[1].extend(messages)
        for slot, messages in grouped.values():
            slot.error("  \n".join(messages))


def show(schema: dict[str, Any], *, key: str, plan: forms.FormPlan) -> DrawnForm:
    """The action (a sentence, the suggestion chosen), then that action's form."""
    sentences = {o.value: o.label for o in plan.actions}
    action = st.selectbox(
        "What to do",
        [o.value for o in plan.actions],
        index=plan.action_index(),
        format_func=lambda v: sentences.get(v, str(v)),
        key=f"{key}.action",
    )
    if plan.suggestion is not None:
        chosen = " (chosen below)" if action == plan.suggestion.action else ""
        st.info(
            f"**Suggested:** {sentences.get(plan.suggestion.action)}{chosen}.  \n"
            f"{plan.suggestion.why}"
        )
    slots = {"decision": st.empty()}
    drawing = _Drawing(plan, key, slots)
    with st.form(key):
        values = _object(schema, schema, "", drawing, action=action) or {}
        submitted = st.form_submit_button("Submit decision", type="primary")
    if not submitted:
        return DrawnForm(None, slots)
    decision: dict[str, Any] = {"action": action, **values}
    order: list[int] = []
    if "corrections" in decision:
        changed = forms.corrections_changed(decision["corrections"] or {}, plan)
        order = [int(line["line_number"]) for line in changed.get("lines", [])]
        if changed:
            decision["corrections"] = changed
        else:
            del decision["corrections"]
    return DrawnForm(decision, slots, order)
