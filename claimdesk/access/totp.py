"""TOTP second factor (RFC 6238 through ``pyotp``) for password sign-ins.

The secret is stored encrypted (AES-GCM, bound to the user's id) under a key that
never enters the database (``CLAIMDESK_SECRETS_KEY`` or ``<data_dir>/secrets.key``),
is shown once as an ``otpauth://`` URI and QR code at enrolment, and is never logged
or put in an exception's message. A code is accepted once: the newest time step
used is kept, so a code seen over a shoulder cannot be replayed within its window.
"""

from __future__ import annotations

import base64
import hmac
import io
import os
from dataclasses import dataclass, field
from datetime import datetime

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlmodel import Session, select

from claimdesk.crypto_files import secrets_key as secrets_key  # read in one place
from claimdesk.errors import ConfigError
from claimdesk.settings import Settings
from models import User, UserTotp
from models.types import utcnow

ISSUER = "claimdesk"
# One step (30 s) either side of now: authenticator clocks drift a little.
_VALID_WINDOW = 1
_NONCE_BYTES = 12


def _aad(user_id: int) -> bytes:
    return f"claimdesk-totp:{user_id}".encode()


def _seal(settings: Settings, user_id: int, secret: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(secrets_key(settings)).encrypt(nonce, secret.encode(), _aad(user_id))
    return base64.b64encode(nonce + sealed).decode("ascii")


def _open(settings: Settings, row: UserTotp) -> str:
    raw = base64.b64decode(row.secret_encrypted)
    try:
        plain = AESGCM(secrets_key(settings)).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(row.user_id)
        )
    except InvalidTag:
        raise ConfigError(
            f"the TOTP secret of user id {row.user_id} cannot be decrypted: the secrets key "
            "is not the one it was stored with; restore that key, or reset the user's "
            "second factor (`claimdesk users reset-totp`)."
        ) from None
    return plain.decode("ascii")


@dataclass(frozen=True)
class Enrolment:
    """What the user adds to an authenticator app; shown once, never stored in clear."""

    uri: str = field(repr=False)
    qr_svg: str = field(repr=False)

    def __str__(self) -> str:  # never the secret, wherever this object is printed
        return "Enrolment(<hidden>)"


def totp_row(session: Session, user_id: int) -> UserTotp | None:
    return session.exec(select(UserTotp).where(UserTotp.user_id == user_id)).first()


def is_enrolled(session: Session, user_id: int) -> bool:
    row = totp_row(session, user_id)
    return row is not None and row.confirmed_at is not None


def totp_required(session: Session, user: User, settings: Settings) -> bool:
    """Required by the role's policy, or chosen by the user (an enrolled second factor)."""
    return user.role in settings.mfa_roles or is_enrolled(session, user.id or 0)


def begin_enrolment(session: Session, user: User, settings: Settings) -> Enrolment:
    """A new secret for ``user`` (replacing an unconfirmed one), confirmed by a first code."""
    row = totp_row(session, user.id or 0)
    if row is not None and row.confirmed_at is not None:
        raise ConfigError(
            f"user {user.username!r} already has a second factor; an admin resets it first."
        )
    secret = pyotp.random_base32()
    sealed = _seal(settings, user.id or 0, secret)
    if row is None:
        row = UserTotp(user_id=user.id or 0, secret_encrypted=sealed)
    else:
        row.secret_encrypted, row.last_step, row.created_at = sealed, 0, utcnow()
    session.add(row)
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False)
    return Enrolment(uri=uri, qr_svg=buffer.getvalue().decode("utf-8"))


def check_code(
    session: Session, user: User, code: str, settings: Settings, *, now: datetime | None = None
) -> bool:
    """True for a fresh, valid code (and the enrolment confirmed by it); False otherwise."""
    row = totp_row(session, user.id or 0)
    digits = "".join(code.split())
    if row is None or not digits.isdigit():
        return False
    totp = pyotp.TOTP(_open(settings, row))
    step = totp.timecode(now or utcnow())
    for candidate in range(step - _VALID_WINDOW, step + _VALID_WINDOW + 1):
        if candidate <= row.last_step:
            continue  # used already (or older than the last code used)
        if hmac.compare_digest(totp.generate_otp(candidate), digits):
            row.last_step = candidate
            if row.confirmed_at is None:
                row.confirmed_at = utcnow()
            session.add(row)
            return True
    return False


def remove(session: Session, user_id: int) -> bool:
    row = totp_row(session, user_id)
    if row is None:
        return False
    session.delete(row)
    return True
