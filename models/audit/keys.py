"""The audit trail's HMAC key: a secret that never enters the database.

``CLAIMDESK_AUDIT_KEY`` (a setting, from a secret manager in production) wins;
otherwise ``<data_dir>/audit.key``, 32 random bytes as hex, created 0600 on first
use. Whoever can rewrite the database but lacks the key cannot forge a MAC.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from claimdesk.errors import ConfigError

if TYPE_CHECKING:
    from claimdesk.settings import Settings

MIN_KEY_BYTES = 32


def audit_key_path(settings: Settings) -> Path:
    return settings.data_dir / "audit.key"


def audit_key(settings: Settings, *, create: bool = True) -> bytes:
    """The key to seal and verify with; ``create=False`` refuses to make a new one."""
    if settings.audit_key is not None:
        key = settings.audit_key.get_secret_value().encode()
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                f"CLAIMDESK_AUDIT_KEY is {len(key)} characters; use at least {MIN_KEY_BYTES} "
                "(for example the output of `python -c 'import secrets; "
                "print(secrets.token_hex(32))'`)."
            )
        return key
    path = audit_key_path(settings)
    if not path.exists():
        if not create:
            raise ConfigError(
                f"the audit key file {str(path)!r} is missing and CLAIMDESK_AUDIT_KEY is unset; "
                "restore the key the trail was sealed with (a new key cannot verify it)."
            )
        _create_key_file(path)
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the audit key file {str(path)!r}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"the audit key file {str(path)!r} is open to other users "
            f"(mode {stat.S_IMODE(mode):04o}); run `chmod 600 {path}`."
        )
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"the audit key file {str(path)!r} does not hold {MIN_KEY_BYTES} or more bytes "
            "as hex; restore it from backup."
        )
    return key


def _create_key_file(path: Path) -> None:
    """Write the key whole, then link it into place: a racing process reads one or the other."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
