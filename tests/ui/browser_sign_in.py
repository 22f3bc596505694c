"""The second factor in a browser test: enrol from the page (the URI it shows once), then code.

Admins and managers sign in with a TOTP code (``mfa_required_roles``). The first time,
the page shows the enrolment URI; the secret is kept here per user so later sign-ins in
the same test module compute their code like an authenticator app would.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pyotp

CODE_LABEL = "Code from your authenticator app"
_secrets: dict[tuple[str, str], str] = {}
_last_step: dict[tuple[str, str], int] = {}


def finish_sign_in(page: Any, username: str) -> None:
    """After "Sign in" was clicked: enter a TOTP code if the page asks for one, then wait."""
    signed_in = page.get_by_text("Signed in as")
    code_field = page.get_by_label(CODE_LABEL)
    signed_in.or_(code_field).first.wait_for()
    if signed_in.count():
        return
    key = (page.url.split("/")[2], username)  # one enrolment per app server and user
    shown = page.locator("code").filter(has_text="otpauth://")
    if key not in _secrets:
        # First sign-in: the enrolment URI renders with (or just after) the code field.
        shown.first.wait_for(timeout=30_000)
    if shown.count():
        _secrets[key] = shown.first.inner_text().strip()
    totp = pyotp.parse_uri(_secrets[key])
    assert isinstance(totp, pyotp.TOTP)
    while totp.timecode(datetime.now(UTC)) <= _last_step.get(key, -1):
        time.sleep(1)  # a code is accepted once: wait for the authenticator's next one
    _last_step[key] = totp.timecode(datetime.now(UTC))
    code_field.fill(totp.now())
    page.get_by_role("button", name="Sign in").click()
    signed_in.wait_for()
