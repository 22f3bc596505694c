"""Immutable, content-addressed documents: X12 transactions, appeal letters, attachments.

One interface, ``DocumentStore``, two backends:

- ``LocalDocumentStore(root, key=...)``: a folder, for the embedded one-machine default;
  every file is sealed with AES-256-GCM (``claimdesk.crypto_files``).
- ``S3DocumentStore(bucket, prefix=..., client=...)``: any S3-compatible endpoint,
  with server-side encryption on every put.

``make_document_store(settings)`` picks one from ``settings.document_store``.

A document's key is ``<prefix>sha256/<first 2 hex>/<64 hex>``: it names the bytes,
never the patient, claim or file name, so keys are safe in logs and Prefect states.
``put`` is idempotent (the same bytes give the same key and an intact object is not
written again) and ``get`` checks the bytes against the sha256 the caller recorded
(the plaintext's: sealing changes what is on disk, never a document's identity),
so a corrupted or truncated object raises ``DocumentError`` instead of being returned.
The content type is returned by ``put`` for the caller to record next to the key;
only the S3 backend also stores it on the object (it is served with presigned URLs).

Every failure is a ``DocumentError`` (from ``claimdesk.errors``) whose message names
the key (and bucket) and what happened; botocore and OS errors are chained with
``raise ... from exc`` and never leak out bare.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from claimdesk.crypto_files import (
    SealedFileError,
    derive_files_key,
    files_key,
    is_sealed,
    open_blob,
    seal_blob,
)
from claimdesk.errors import ConfigError, DocumentError
from claimdesk.private_files import private_dir, read_or_create_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from claimdesk.settings import Settings

__all__ = [
    "DocumentStore",
    "LocalDocumentStore",
    "S3DocumentStore",
    "StoredObject",
    "make_document_store",
    "make_key",
]

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_KEY_BODY = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{64})")
# Documents are immutable and may name a patient: read-only, for the owner only, once
# written, in folders only the owner may open (claimdesk.private_files).
_READ_ONLY_MODE = 0o400
# The standard S3 "not found" codes (head_object has no body, so only the status).
_S3_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
# Presigned URLs longer than S3's SigV4 maximum (7 days) are refused by S3 itself.
_MAX_PRESIGN_S = 7 * 24 * 3600
# boto3 client settings for make_document_store: fail fast on a dead endpoint
# instead of hanging a flow task; the standard retry mode covers throttling.
_S3_CONNECT_TIMEOUT_S = 5
_S3_READ_TIMEOUT_S = 60
_S3_MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What ``put`` stored: record ``key`` and ``sha256`` to read it back."""

    key: str
    sha256: str
    size: int
    content_type: str


class DocumentStore(Protocol):
    """Immutable, content-addressed document storage."""

    def put(self, data: bytes, *, content_type: str) -> StoredObject:
        """Store ``data`` (idempotent) and return its key and digest."""
        ...

    def get(self, key: str, *, sha256: str) -> bytes:
        """Return the bytes under ``key``, checked against ``sha256``."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def presigned_url(self, key: str, *, expires_s: int = 300, filename: str | None = None) -> str:
        """A URL that downloads the object (see each backend for its kind)."""
        ...


def make_key(sha256: str, *, prefix: str = "") -> str:
    """The content-addressed key for a sha256 hex digest: ``<prefix>sha256/ab/ab…``."""
    digest = _check_sha256(sha256)
    return f"{prefix}sha256/{digest[:2]}/{digest}"


def _check_sha256(sha256: str) -> str:
    digest = sha256.lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise DocumentError(
            f"sha256 {sha256!r} is not a 64-digit hex digest; pass the sha256 that put() returned."
        )
    return digest


def _check_key(key: str, prefix: str) -> str:
    """Refuse anything that is not a key this store made (no paths, no PHI)."""
    body = key[len(prefix) :] if key.startswith(prefix) else None
    match = _KEY_BODY.fullmatch(body) if body is not None else None
    if match is None or match.group(2)[:2] != match.group(1):
        raise DocumentError(
            f"key {key!r} is not a document key of the form "
            f"'{prefix}sha256/<2 hex>/<64 hex>'; pass the key that put() returned."
        )
    return key


def _verify(data: bytes, *, key: str, expected: str, where: str) -> bytes:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise DocumentError(
            f"document {key!r} in {where} is corrupt or truncated: expected sha256 "
            f"{expected!r}, read {len(data)} bytes with sha256 {actual!r}; "
            "restore the object from backup or put() the original bytes again."
        )
    return data


def _content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the RFC 6266 UTF-8 form."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class LocalDocumentStore:
    """Documents as sealed, read-only files under ``root`` (keys have no prefix).

    Each file is the document sealed with AES-256-GCM under ``key`` and bound to its
    document key (``claimdesk.crypto_files``): a file changed, truncated or swapped for
    another is refused on read. ``key`` is the files key ``make_document_store`` derives
    from the settings' secrets key; left out, it is derived from the ``secrets.key`` of the
    data directory ``root`` sits in (``<root>/../secrets.key``, the default layout).
    Files written before sealing (plaintext) still read, and a ``put`` of the same bytes
    seals them.

    Writes go to a temporary file in the target folder, are fsynced, made
    read-only and moved into place with ``os.replace``, so readers never see a
    partial file and two processes putting the same bytes at once both succeed
    with one file. ``presigned_url`` returns a ``file://`` URI of the sealed file: it
    does not expire and ignores ``filename``; it is meant for the one-machine setup only
    (read the document itself with ``get``).
    """

    def __init__(self, root: Path, key: bytes | None = None) -> None:
        self.root = Path(root)
        self._key = key

    @property
    def _sealing_key(self) -> bytes:
        if self._key is None:
            master = read_or_create_key(self.root.parent / "secrets.key", what="secrets key")
            self._key = derive_files_key(master)
        return self._key

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key, "")

    def put(self, data: bytes, *, content_type: str) -> StoredObject:
        digest = hashlib.sha256(data).hexdigest()
        key = make_key(digest)
        stored = StoredObject(key=key, sha256=digest, size=len(data), content_type=content_type)
        path = self._path(key)
        if self._is_intact(path, key, digest):
            return stored
        try:
            private_dir(path.parent, root=self.root)
            sealed = seal_blob(self._sealing_key, data, bound_to=key)
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as tmp:
                    tmp.write(sealed)
                    tmp.flush()
                    os.fsync(tmp.fileno())
                os.chmod(tmp_name, _READ_ONLY_MODE)
                os.replace(tmp_name, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_name)
                raise
            _fsync_dir(path.parent)
        except OSError as exc:
            raise DocumentError(
                f"cannot write document {key!r} under {str(self.root)!r}: "
                f"{exc.strerror or type(exc).__name__}; check the folder's permissions "
                "and free space."
            ) from exc
        return stored

    def _is_intact(self, path: Path, key: str, digest: str) -> bool:
        """An existing sealed file of the same bytes is left alone (idempotent put).

        A plaintext one (written before sealing) or a damaged one is written again.
        """
        try:
            blob = path.read_bytes()
            if not is_sealed(blob):
                return False
            plain = open_blob(self._sealing_key, blob, bound_to=key, what=f"document {key!r}")
        except (OSError, SealedFileError):
            return False
        return hashlib.sha256(plain).hexdigest() == digest

    def get(self, key: str, *, sha256: str) -> bytes:
        expected = _check_sha256(sha256)
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise DocumentError(
                f"document {key!r} is missing from {str(self.root)!r}; "
                "check CLAIMDESK_DATA_DIR points at the folder it was stored in."
            ) from exc
        except OSError as exc:
            raise DocumentError(
                f"cannot read document {key!r} under {str(self.root)!r}: "
                f"{exc.strerror or type(exc).__name__}; check the folder's permissions."
            ) from exc
        return _verify(
            self._open(data, key, expected), key=key, expected=expected, where=repr(str(self.root))
        )

    def _open(self, blob: bytes, key: str, expected: str) -> bytes:
        try:
            return open_blob(self._sealing_key, blob, bound_to=key, what=f"document {key!r}")
        except SealedFileError as exc:
            if hashlib.sha256(blob).hexdigest() == expected:
                return blob  # an old plaintext document that happens to start like a sealed one
            raise DocumentError(f"{exc.message} (under {str(self.root)!r})") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def presigned_url(self, key: str, *, expires_s: int = 300, filename: str | None = None) -> str:
        """A ``file://`` URI for the file; ``expires_s`` and ``filename`` are ignored."""
        path = self._path(key)
        if not path.is_file():
            raise DocumentError(f"document {key!r} is missing from {str(self.root)!r}.")
        return path.resolve().as_uri()


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class S3DocumentStore:
    """Documents as S3 objects under ``prefix`` in ``bucket``.

    Every put asks for server-side encryption (``sse="AES256"`` by default, or
    ``"aws:kms"`` with ``kms_key_id``) and sends the SHA-256 checksum so S3
    rejects a damaged upload. The endpoint is the client's: boto3 reads
    ``AWS_ENDPOINT_URL_S3`` itself, and ``make_document_store`` passes
    ``Settings.s3_endpoint_url`` when it is set.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        sse: Literal["AES256", "aws:kms"] = "AES256",
        kms_key_id: str | None = None,
        *,
        client: S3Client,
    ) -> None:
        if sse == "aws:kms" and not kms_key_id:
            raise DocumentError(
                f"S3 bucket {bucket!r}: sse 'aws:kms' needs a KMS key id; "
                "set CLAIMDESK_S3_KMS_KEY_ID."
            )
        self.bucket = bucket
        self.prefix = prefix
        self.sse = sse
        self.kms_key_id = kms_key_id
        self.client = client
        put_input = client.meta.service_model.operation_model("PutObject").input_shape
        # Older botocore models lack flexible checksums; fall back to a plain put.
        self._send_checksum = put_input is not None and "ChecksumSHA256" in put_input.members

    def _fail(self, action: str, key: str, exc: Exception, fix: str) -> DocumentError:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = error.get("Code", "?")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            message = str(error.get("Message", "")).rstrip(". ")
            what = f"S3 answered {code} (HTTP {status}): {message}".rstrip(": ")
        else:
            # BotoCoreError messages name the endpoint or the missing setting, never secrets.
            what = f"{type(exc).__name__}: {exc}"
        return DocumentError(
            f"cannot {action} document {key!r} in bucket {self.bucket!r}: {what}; {fix}"
        )

    def put(self, data: bytes, *, content_type: str) -> StoredObject:
        digest = hashlib.sha256(data).hexdigest()
        key = make_key(digest, prefix=self.prefix)
        stored = StoredObject(key=key, sha256=digest, size=len(data), content_type=content_type)
        if self._is_intact(key, size=len(data), digest=digest):
            return stored
        extra: dict[str, str] = {"ServerSideEncryption": self.sse}
        if self.sse == "aws:kms" and self.kms_key_id:
            extra["SSEKMSKeyId"] = self.kms_key_id
        if self._send_checksum:
            # Our own digest, so S3 verifies the upload and keeps it for _is_intact.
            extra["ChecksumAlgorithm"] = "SHA256"
            extra["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(digest)).decode("ascii")
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                **extra,  # type: ignore[arg-type]
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(
                "put", key, exc, "check the bucket exists, its policy and the KMS key."
            ) from exc
        return stored

    def _is_intact(self, key: str, *, size: int, digest: str) -> bool:
        """Skip the upload when an object of the same size (and checksum, if S3 kept one) exists."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise self._fail("check", key, exc, "check the bucket and its policy.") from exc
        except BotoCoreError as exc:
            raise self._fail("check", key, exc, "check the S3 endpoint is reachable.") from exc
        stored_checksum = head.get("ChecksumSHA256")
        if stored_checksum and "-" not in stored_checksum:
            return base64.b64decode(stored_checksum).hex() == digest
        return head.get("ContentLength") == size

    def get(self, key: str, *, sha256: str) -> bytes:
        expected = _check_sha256(sha256)
        _check_key(key, self.prefix)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            data = response["Body"].read()
        except ClientError as exc:
            if _is_missing(exc):
                raise DocumentError(
                    f"document {key!r} is missing from bucket {self.bucket!r} (S3 answered "
                    f"{exc.response.get('Error', {}).get('Code')}); it was never stored there "
                    "or was deleted; check CLAIMDESK_S3_BUCKET and CLAIMDESK_S3_PREFIX."
                ) from exc
            raise self._fail(
                "get", key, exc, "check the bucket, its policy and the KMS key."
            ) from exc
        except BotoCoreError as exc:
            raise self._fail("get", key, exc, "check the S3 endpoint is reachable.") from exc
        return _verify(data, key=key, expected=expected, where=f"bucket {self.bucket!r}")

    def exists(self, key: str) -> bool:
        _check_key(key, self.prefix)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise self._fail("check", key, exc, "check the bucket and its policy.") from exc
        except BotoCoreError as exc:
            raise self._fail("check", key, exc, "check the S3 endpoint is reachable.") from exc
        return True

    def presigned_url(self, key: str, *, expires_s: int = 300, filename: str | None = None) -> str:
        """A presigned GET URL; with ``filename`` it downloads as an attachment.

        Signing is local: the URL is made even if the object does not exist.
        """
        _check_key(key, self.prefix)
        if not 1 <= expires_s <= _MAX_PRESIGN_S:
            raise DocumentError(
                f"expires_s {expires_s!r} is out of range; use 1 to {_MAX_PRESIGN_S} seconds."
            )
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = _content_disposition(filename)
        try:
            return self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_s
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("sign a URL for", key, exc, "check the S3 credentials.") from exc


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _S3_MISSING_CODES


def make_document_store(settings: Settings) -> DocumentStore:
    """The document store ``settings`` asks for (``local`` folder or ``s3`` bucket)."""
    if settings.document_store == "local":
        return LocalDocumentStore(settings.documents_dir, files_key(settings))

    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",  # presigned URLs for SSE-KMS objects need SigV4
        connect_timeout=_S3_CONNECT_TIMEOUT_S,
        read_timeout=_S3_READ_TIMEOUT_S,
        retries={"mode": "standard", "max_attempts": _S3_MAX_ATTEMPTS},
    )
    if not settings.s3_bucket:
        raise ConfigError("CLAIMDESK_S3_BUCKET is required when CLAIMDESK_DOCUMENT_STORE=s3.")
    client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url or None, config=config)
    return S3DocumentStore(
        settings.s3_bucket,
        settings.s3_prefix,
        settings.s3_sse,
        settings.s3_kms_key_id,
        client=client,
    )
