"""Password hashing (argon2id, a slow memory-hard hash); plain passwords are never stored."""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8  # NIST SP 800-63B's floor for user-chosen secrets


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of a random password, with the same parameters as real ones.

    Checked when the user is unknown, so an unknown name costs the same argon2 work as a
    known one and the answer's timing does not tell which names exist.
    """
    return _hasher.hash(secrets.token_urlsafe(32))
