"""Files under the data directory are the operator's alone: folders 0700, files 0600.

Everything there may name a patient (documents, the SQLite database and its WAL, logs),
so nothing is created readable by the group or others, whatever the umask. Also the
one secret-key file helper (32 random bytes as hex, created 0600, never in the database).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from claimdesk.errors import ConfigError

DIR_MODE = 0o700
FILE_MODE = 0o600
KEY_BYTES = 32


def private_dir(path: Path, *, root: Path | None = None) -> Path:
    """Create ``path`` (and missing parents below ``root``) 0700; an existing one is tightened.

    Only folders at or below ``root`` (default: ``path`` itself) are changed: the home
    folder above a data directory is the user's business.
    """
    path = Path(path)
    top = Path(root) if root is not None else path
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    for folder in (*missing, path, top):
        if folder == top or top in folder.parents:
            with contextlib.suppress(OSError):  # someone else's folder: leave it alone
                os.chmod(folder, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, 0600 either way (before anyone writes into it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)  # an existing one is left
    if path.exists():
        # Never open (and close) a file that may be in use: closing any descriptor of a
        # SQLite database drops every POSIX lock this process holds on it, and another
        # process may then delete the WAL under our open connections.
        with contextlib.suppress(OSError):
            os.chmod(path, FILE_MODE)
        return path
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.chmod(path, FILE_MODE)
    return path


def read_or_create_key(path: Path, *, what: str) -> bytes:
    """The key in ``path``; created (0600, written whole, then linked) when missing."""
    if not path.exists():
        _create_key_file(path)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the {what} file {str(path)!r}: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"the {what} file {str(path)!r} is open to other users "
            f"(mode {stat.S_IMODE(mode):04o}); run `chmod 600 {path}`."
        )
    return parse_hex_key(text, what=f"the {what} file {str(path)!r}")


def parse_hex_key(text: str, *, what: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ConfigError(
            f"{what} must hold {KEY_BYTES} bytes as {2 * KEY_BYTES} hex characters (for "
            "example the output of `python -c 'import secrets; print(secrets.token_hex(32))'`)."
        )
    return key


def _create_key_file(path: Path) -> None:
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
