"""The command line's sign-in: a short-lived token in the data directory (0600).

``claimdesk login`` checks the password (and TOTP code) like the app, then writes a
token naming the user, when it was issued and when it expires, with an HMAC under the
secrets key (never in the database) over those and the user's id and password hash.
So a token cannot be forged or extended, and it stops working when it expires, when
``claimdesk logout`` removes it, when the password is reset (revoked) or when the
account is disabled (``load_active_user`` refuses it on every command).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from claimdesk.access.permissions import deny
from claimdesk.access.totp import secrets_key
from claimdesk.private_files import FILE_MODE, private_dir
from claimdesk.settings import Settings
from models import User
from models.types import utcnow

TOKEN_FILE = "cli-token"
DEFAULT_LIFETIME = timedelta(hours=8)
SIGN_IN_HINT = "sign in with `claimdesk login`"


@dataclass(frozen=True)
class CliToken:
    username: str
    issued_at: datetime
    expires_at: datetime
    mac: str


def token_path(settings: Settings) -> Path:
    return settings.data_dir / TOKEN_FILE


def _mac(settings: Settings, user: User, issued: datetime, expires: datetime) -> str:
    message = "|".join(
        (str(user.id), user.username, user.password_hash, issued.isoformat(), expires.isoformat())
    )
    return hmac.new(secrets_key(settings), message.encode(), hashlib.sha256).hexdigest()


def write_token(
    settings: Settings, user: User, *, lifetime: timedelta = DEFAULT_LIFETIME
) -> CliToken:
    issued = utcnow()
    expires = issued + min(lifetime, timedelta(hours=settings.session_max_hours))
    token = CliToken(user.username, issued, expires, _mac(settings, user, issued, expires))
    path = token_path(settings)
    private_dir(path.parent)
    tmp = path.with_name(f".{TOKEN_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "username": token.username,
                "issued_at": issued.isoformat(),
                "expires_at": expires.isoformat(),
                "mac": token.mac,
            },
            handle,
        )
    os.replace(tmp, path)
    return token


def remove_token(settings: Settings) -> bool:
    try:
        token_path(settings).unlink()
    except FileNotFoundError:
        return False
    return True


def _read(settings: Settings) -> CliToken | None:
    path = token_path(settings)
    try:
        if path.stat().st_mode & 0o077:
            return None  # readable by others: not trusted (and not used)
        raw = json.loads(path.read_text(encoding="utf-8"))
        return CliToken(
            str(raw["username"]),
            datetime.fromisoformat(raw["issued_at"]),
            datetime.fromisoformat(raw["expires_at"]),
            str(raw["mac"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def signed_in_user(session: Session, settings: Settings, *, action: str) -> User:
    """The user the command acts as; refused (and audited) without a valid token."""
    token = _read(settings)
    if token is None:
        deny("cli:anonymous", action, f"not signed in: {SIGN_IN_HINT}.", session=session)
    user = session.exec(select(User).where(User.username == token.username)).first()
    now = utcnow()
    if user is None or not user.active:
        deny(
            token.username,
            action,
            f"the account is unknown or disabled; {SIGN_IN_HINT}.",
            session=session,
        )
    expected = _mac(settings, user, token.issued_at, token.expires_at)
    if not hmac.compare_digest(expected, token.mac):
        deny(
            user,
            action,
            f"the sign-in was revoked or is not valid; {SIGN_IN_HINT}.",
            session=session,
        )
    if now >= token.expires_at:
        deny(
            user,
            action,
            f"the sign-in expired at {token.expires_at:%H:%M} UTC; {SIGN_IN_HINT}.",
            session=session,
        )
    return user
