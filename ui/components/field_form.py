"""A form whose refusals show at their fields: each widget keeps an empty slot below it.

``FieldForm`` draws text, number, select, checkbox and text-area inputs under dotted
names (``address.postal_code``, ``connectivity.endpoint``); ``show`` puts each
``field: messages`` of a refusal in the slot of that field, or of its nearest parent
(``appeal_levels[1].window_days`` under ``appeal_levels``), and the rest at the form's
end. Keys are ``<prefix>.<generation>.<name>``: after a save the page bumps the
generation, so every widget starts again from the stored values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

FLASH_KEY = "field_form.flash"


class FieldForm:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.slots: dict[str, DeltaGenerator] = {}
        self.generation = int(st.session_state.get(f"{prefix}.generation", 0))

    def key(self, name: str) -> str:
        return f"{self.prefix}.{self.generation}.{name}"

    def _slot(self, name: str, where: Any) -> None:
        self.slots[name] = where.empty()

    def text(self, name: str, label: str, value: Any, *, where: Any = st, **kw: Any) -> str:
        shown = "" if value is None else str(value)
        out = str(where.text_input(label, value=shown, key=self.key(name), **kw) or "")
        self._slot(name, where)
        return out

    def number(self, name: str, label: str, value: Any, *, where: Any = st, **kw: Any) -> Any:
        out = where.number_input(label, value=value, key=self.key(name), **kw)
        self._slot(name, where)
        return out

    def select(
        self,
        name: str,
        label: str,
        options: Sequence[Any],
        value: Any,
        *,
        where: Any = st,
        format_func: Callable[[Any], str] = str,
        **kw: Any,
    ) -> Any:
        index = list(options).index(value) if value in options else 0
        out = where.selectbox(
            label, options, index=index, key=self.key(name), format_func=format_func, **kw
        )
        self._slot(name, where)
        return out

    def check(self, name: str, label: str, value: bool, *, where: Any = st) -> bool:
        out = bool(where.checkbox(label, value=bool(value), key=self.key(name)))
        self._slot(name, where)
        return out

    def area(self, name: str, label: str, value: str, *, where: Any = st, **kw: Any) -> str:
        out = str(where.text_area(label, value=value, key=self.key(name), **kw) or "")
        self._slot(name, where)
        return out

    def end(self) -> None:
        """The slot for problems that name no field of this form (call after the widgets)."""
        self._slot("", st)

    def show(self, problems: dict[str, list[str]]) -> None:
        """Each field's messages at its own slot (or its nearest parent's, or the end)."""
        grouped: dict[str, list[str]] = {}
        for name, messages in problems.items():
            slot = self._nearest(name)
            where = "" if slot == name else f"{name}: "
            grouped.setdefault(slot, []).extend(f"{where}{m}" for m in messages)
        for slot, messages in grouped.items():
            self.slots[slot].error("  \n".join(messages))

    def _nearest(self, name: str) -> str:
        parts = re.split(r"[.\[]", name)
        for end in range(len(parts), 0, -1):
            candidate = re.sub(r"\.(\d+\])", r"[\1", ".".join(parts[:end]))
            if candidate in self.slots:
                return candidate
        # "address" missing as a whole: at its first line.
        child = next((slot for slot in self.slots if name and slot.startswith(f"{name}.")), None)
        return child if child is not None else ""

    def saved(self, message: str) -> None:
        """After a save: new widgets from the stored values, and the message after the rerun."""
        st.session_state[f"{self.prefix}.generation"] = self.generation + 1
        st.session_state[FLASH_KEY] = message
        st.rerun()


def flash() -> None:
    """The last save's message, once (drawn at the top of the page)."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)


def change_words(changes: Sequence[Any]) -> str:
    """'payer SIMACM updated (timely_filing_days)' for each change; 'no change' for none."""
    if not changes:
        return "Saved: nothing was different, no change."
    return "Saved: " + "; ".join(
        f"{c.entity.replace('_', ' ')} {c.key} {c.action}"
        + (f" ({', '.join(c.fields)})" if c.action == "updated" else "")
        for c in changes
    )
