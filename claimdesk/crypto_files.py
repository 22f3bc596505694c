"""Files claimdesk keeps on its own disk, sealed with AES-256-GCM under a key from settings.

The local document store and the task-error log may name a patient, so their bytes on
disk are ciphertext: a copied folder, a stray backup or another tool reading the data
directory sees nothing. The key is derived (HKDF-SHA256, its own ``info``) from the
secrets key (``CLAIMDESK_SECRETS_KEY`` or ``<data_dir>/secrets.key``, 0600, the one the
TOTP secrets use), so there is one secret to keep and back up, and it never enters the
database, a log or an error message.

A sealed blob starts with ``MAGIC``, then a random 96-bit nonce, then the GCM ciphertext
and tag; the associated data binds it to where it belongs (a document's key, the log's
name), so a file moved under another name fails like a changed one. Anything without the
marker was written by a version before this one and is read as it is (plaintext), so an
upgrade needs no migration; a rewrite seals it.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from claimdesk.errors import ClaimdeskError
from claimdesk.private_files import parse_hex_key, read_or_create_key
from claimdesk.settings import Settings

__all__ = [
    "LINE_MARKER",
    "MAGIC",
    "SealedFileError",
    "files_key",
    "is_sealed",
    "open_blob",
    "open_line",
    "seal_blob",
    "seal_line",
    "secrets_key",
]

MAGIC = b"CDSEAL1\n"  # claimdesk sealed, format 1 (no X12, PDF or text file starts so)
LINE_MARKER = "sealed1:"  # one log record: the marker, then base64 of nonce + ciphertext
_NONCE_BYTES = 12
_FILES_INFO = b"claimdesk files at rest v1"


class SealedFileError(ClaimdeskError):
    """A sealed file (or line) that does not open: changed, truncated, moved or another key."""


def secrets_key(settings: Settings) -> bytes:
    """The 32-byte secrets key: ``CLAIMDESK_SECRETS_KEY``, or ``<data_dir>/secrets.key``."""
    if settings.secrets_key is not None:
        return parse_hex_key(settings.secrets_key.get_secret_value(), what="CLAIMDESK_SECRETS_KEY")
    return read_or_create_key(settings.data_dir / "secrets.key", what="secrets key")


def derive_files_key(master: bytes) -> bytes:
    """The files key from a secrets key (a key of its own: never the TOTP one itself)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_FILES_INFO).derive(master)


def files_key(settings: Settings) -> bytes:
    return derive_files_key(secrets_key(settings))


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def seal_blob(key: bytes, plain: bytes, *, bound_to: str) -> bytes:
    """``plain`` sealed for the place named ``bound_to`` (a document key, a log's name)."""
    nonce = os.urandom(_NONCE_BYTES)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plain, bound_to.encode())


def open_blob(key: bytes, blob: bytes, *, bound_to: str, what: str) -> bytes:
    """The plaintext of a sealed blob; a blob without the marker is returned as it is.

    Raises ``SealedFileError`` naming ``what`` when the blob does not open (changed,
    truncated, sealed for another place, or under another key); never its bytes.
    """
    if not is_sealed(blob):
        return blob  # written before files were sealed
    body = blob[len(MAGIC) :]
    try:
        return AESGCM(key).decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], bound_to.encode())
    except (InvalidTag, ValueError):
        raise SealedFileError(
            f"{what} does not open: it was changed, truncated or moved since it was "
            "written, or the secrets key (CLAIMDESK_SECRETS_KEY or <data_dir>/secrets.key) "
            "is not the one it was sealed with; restore the file or the key from backup."
        ) from None


def seal_line(key: bytes, text: str, *, bound_to: str) -> str:
    """One line of a sealed log: the marker and base64 (no newline inside)."""
    blob = seal_blob(key, text.encode("utf-8"), bound_to=bound_to)
    return LINE_MARKER + base64.b64encode(blob[len(MAGIC) :]).decode("ascii")


def open_line(key: bytes, line: str, *, bound_to: str, what: str) -> str:
    """A log line's text; a line without the marker (an older, plain log) as it is."""
    line = line.rstrip("\r\n")
    if not line.startswith(LINE_MARKER):
        return line
    try:
        body = base64.b64decode(line[len(LINE_MARKER) :], validate=True)
    except (binascii.Error, ValueError):
        body = b""  # fails below like any other damage
    return open_blob(key, MAGIC + body, bound_to=bound_to, what=what).decode("utf-8", "replace")
