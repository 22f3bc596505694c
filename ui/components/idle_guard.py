"""The browser's own idle timer: patient data is hidden when the idle time runs out.

The server signs an idle session out on its next click; until that click the page would
go on showing what it showed. This script (run in the page, once) counts the time since
the last key, click, touch or scroll and, when it reaches the idle time, hides the app
behind a curtain; clicking the curtain reloads the page, which meets the server's
sign-out (and, for single sign-on, the cookie check in ``claimdesk.access.sso``).
"""

from __future__ import annotations

import json

import streamlit as st

CURTAIN_ID = "claimdesk-idle-curtain"


def idle_guard_script(seconds: int, message: str) -> str:
    """The ``<script>``: pure JavaScript, no Streamlit (tested in a bare browser page)."""
    config = json.dumps({"limitMs": seconds * 1000, "message": message, "id": CURTAIN_ID})
    return (
        "<script>(function () {\n"
        f"  const config = {config};\n"
        "  const state = window.claimdeskIdle || (window.claimdeskIdle = {last: Date.now()});\n"
        "  state.limitMs = config.limitMs;\n"
        "  state.message = config.message;\n"
        "  if (state.installed) { return; }\n"
        "  state.installed = true;\n"
        "  const seen = function () { if (!state.hidden) { state.last = Date.now(); } };\n"
        "  ['mousedown', 'mousemove', 'keydown', 'wheel', 'scroll', 'touchstart']\n"
        "    .forEach(function (name) {\n"
        "      document.addEventListener(name, seen, {capture: true, passive: true});\n"
        "    });\n"
        "  const hide = function () {\n"
        "    state.hidden = true;\n"
        "    document.querySelectorAll('[data-testid=\"stApp\"], .stApp, #root')\n"
        "      .forEach(function (el) { el.style.visibility = 'hidden'; });\n"
        "    const curtain = document.createElement('div');\n"
        "    curtain.id = config.id;\n"
        "    curtain.setAttribute('role', 'alert');\n"
        "    curtain.textContent = state.message;\n"
        "    curtain.style.cssText = 'position:fixed;inset:0;z-index:2147483647;' +\n"
        "      'background:#fff;color:#222;display:flex;align-items:center;' +\n"
        "      'justify-content:center;font:18px sans-serif;cursor:pointer;';\n"
        "    curtain.addEventListener('click', function () { window.location.reload(); });\n"
        "    document.body.appendChild(curtain);\n"
        "  };\n"
        "  setInterval(function () {\n"
        "    if (!state.hidden && Date.now() - state.last >= state.limitMs) { hide(); }\n"
        "  }, 1000);\n"
        "})();</script>"
    )


def idle_guard(minutes: int) -> None:
    """Install the timer for a signed-in page (once per page; later calls update the time)."""
    message = (
        f"Signed out after {minutes} minutes without activity: patient data is hidden. "
        "Click to sign in again."
    )
    st.html(idle_guard_script(minutes * 60, message), unsafe_allow_javascript=True)
