"""A form generated from a decision's JSON schema (the model the flow waits for).

Every value is typed as text (an empty box means "not given") and the service's
pydantic model validates the whole decision before it is submitted. Owns the
session-state keys under the ``key`` it is given.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st


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
    title = str(node.get("title") or name.replace("_", " ").capitalize())
    return title + (" *" if required else "")


def _field(name: str, node: dict[str, Any], root: dict[str, Any], key: str, required: bool) -> Any:
    node, nullable = _unwrap(node, root)
    label = _label(name, node, required and not nullable)
    help_text = node.get("description")
    kind = node.get("type")
    if "enum" in node or "const" in node:
        options = list(node.get("enum") or [node["const"]])
        if not required or nullable:
            options = ["", *options]
        value = st.selectbox(label, options, key=key, help=help_text)
        return value if value != "" else None
    if kind == "object":
        # The property's name, not the nested model's class name (e.g. "ClaimCorrections").
        st.markdown(f"**{name.replace('_', ' ').capitalize()}**")
        return _object(node, root, key, optional=not required or nullable)
    if kind == "boolean":
        return st.checkbox(label, key=key, help=help_text)
    if kind == "array":
        items, _ = _unwrap(node.get("items", {}), root)
        if items.get("type") == "object":
            raw = st.text_area(
                label + " (JSON list)",
                value="[]",
                key=key,
                help=json.dumps(items.get("properties")),
            )
            try:
                parsed = json.loads(raw or "[]")
            except ValueError:
                return raw  # the model refuses it with the field's name
            return parsed or None
        raw = st.text_input(label + " (comma-separated)", key=key, help=help_text)
        values = [v.strip() for v in raw.split(",") if v.strip()]
        return values or None
    placeholder = "YYYY-MM-DD" if node.get("format") == "date" else None
    area = kind == "string" and (node.get("maxLength") or 0) > 200
    if area:
        raw = st.text_area(label, key=key, help=help_text)
    else:
        raw = st.text_input(label, key=key, help=help_text, placeholder=placeholder)
    return raw.strip() or None


def _object(
    schema: dict[str, Any], root: dict[str, Any], key: str, *, optional: bool = False
) -> dict[str, Any] | None:
    required = set(schema.get("required", []))
    values: dict[str, Any] = {}
    for name, node in schema.get("properties", {}).items():
        value = _field(name, node, root, f"{key}.{name}", name in required)
        if value is not None:
            values[name] = value
    if optional and not values:
        return None
    return values


def show(schema: dict[str, Any], *, key: str) -> dict[str, Any] | None:
    """The decision the person filled in, when they pressed submit; otherwise None."""
    with st.form(key):
        values = _object(schema, schema, key) or {}
        submitted = st.form_submit_button("Submit decision", type="primary")
    return values if submitted else None
