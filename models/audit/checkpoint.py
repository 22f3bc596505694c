"""Signed checkpoints of the chain head, kept outside the database.

A checkpoint says "``count`` events were chained, the last being event ``head_id``
with MAC ``head_hash``", signed with the audit key. Verification compares the
database with the newest one, which is what catches what the chain alone cannot:
events deleted from the end (or the whole table emptied) leave a shorter chain
that is still consistent, but no longer reaches the checkpointed head.

Two stores: a JSON-lines file under ``<data_dir>/audit/`` (0600, appended, fsynced),
or objects in the S3 bucket of the document store, under Object Lock (compliance
mode) when ``audit_checkpoint_lock_days`` is set, so not even the bucket's owner
can take one back before it expires.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from claimdesk.errors import ConfigError
from models.audit.chain import ChainHead, OnSealed, chain_head
from models.types import utcnow

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from claimdesk.settings import Settings

_DOMAIN = b"claimdesk-audit-checkpoint-v1\n"


@dataclass(frozen=True)
class Checkpoint:
    count: int
    head_id: int | None
    head_hash: str
    written_at: str
    mac: str

    @classmethod
    def sign(cls, key: bytes, head: ChainHead) -> Checkpoint:
        at = utcnow().isoformat()
        return cls(head.count, head.event_id, head.hash, at, _mac(key, head, at))

    def signed_by(self, key: bytes) -> bool:
        head = ChainHead(self.count, self.head_id, self.head_hash)
        return hmac.compare_digest(self.mac, _mac(key, head, self.written_at))

    @classmethod
    def parse(cls, text: str, where: str) -> Checkpoint:
        try:
            data = json.loads(text)
            return cls(
                int(data["count"]),
                None if data["head_id"] is None else int(data["head_id"]),
                str(data["head_hash"]),
                str(data["written_at"]),
                str(data["mac"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"audit checkpoint {where} is unreadable: {exc!r}") from exc


def _mac(key: bytes, head: ChainHead, written_at: str) -> str:
    payload = json.dumps([head.count, head.event_id, head.hash, written_at])
    return hmac.new(key, _DOMAIN + payload.encode(), hashlib.sha256).hexdigest()


class CheckpointStore(Protocol):
    where: str  # for messages: the file or bucket/prefix

    def write(self, checkpoint: Checkpoint) -> None: ...

    def latest(self) -> Checkpoint | None:
        """The checkpoint with the highest count (its signature is not checked here)."""
        ...


class LocalCheckpointStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)

    def write(self, checkpoint: Checkpoint) -> None:
        line = json.dumps(asdict(checkpoint), separators=(",", ":")) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # O_APPEND: concurrent writers each add a whole line.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the audit checkpoint to {self.where!r}: "
                f"{exc.strerror or type(exc).__name__}; check the data folder's permissions."
            ) from exc

    def latest(self) -> Checkpoint | None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"cannot read audit checkpoints {self.where!r}: {exc}") from exc
        parsed = [
            Checkpoint.parse(line, f"{self.where!r} line {n}")
            for n, line in enumerate(lines, 1)
            if line.strip()
        ]
        return max(parsed, key=lambda c: c.count, default=None)


class S3CheckpointStore:
    """One object per checkpoint, ``<prefix>audit-checkpoints/<count, 15 digits>.json``."""

    def __init__(self, client: S3Client, bucket: str, prefix: str, lock_days: int = 0) -> None:
        self.client, self.bucket, self.lock_days = client, bucket, lock_days
        self.prefix = f"{prefix}audit-checkpoints/"
        self.where = f"s3://{bucket}/{self.prefix}"

    def write(self, checkpoint: Checkpoint) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        body = json.dumps(asdict(checkpoint)).encode()
        extra: dict[str, Any] = {}
        if self.lock_days:
            extra["ObjectLockMode"] = "COMPLIANCE"
            extra["ObjectLockRetainUntilDate"] = utcnow() + timedelta(days=self.lock_days)
        # Same count, same key: a versioned (Object Lock) bucket keeps every version.
        key = f"{self.prefix}{checkpoint.count:015d}.json"
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",
                **extra,
            )
        except (ClientError, BotoCoreError) as exc:
            raise ConfigError(
                f"cannot write the audit checkpoint {key!r} to bucket {self.bucket!r}: "
                f"{exc}; check the bucket, its policy and (with lock days) its Object Lock."
            ) from exc

    def latest(self) -> Checkpoint | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            last: str | None = None
            pages = self.client.get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
                keys = [item["Key"] for item in page.get("Contents", [])]
                last = max([*keys, *([last] if last else [])], default=None)
            if last is None:
                return None
            body = self.client.get_object(Bucket=self.bucket, Key=last)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise ConfigError(f"cannot read audit checkpoints from {self.where!r}: {exc}") from exc
        return Checkpoint.parse(body.decode("utf-8", "replace"), f"{self.where}{last}")


def make_checkpoint_store(settings: Settings) -> CheckpointStore:
    """Next to the documents: in the S3 bucket, or a file under the data folder."""
    if settings.document_store == "s3" and settings.s3_bucket:
        from claimdesk.documents import S3DocumentStore, make_document_store

        store = make_document_store(settings)
        assert isinstance(store, S3DocumentStore)
        return S3CheckpointStore(
            store.client,
            settings.s3_bucket,
            settings.s3_prefix,
            settings.audit_checkpoint_lock_days,
        )
    return LocalCheckpointStore(settings.data_dir / "audit" / "checkpoints.jsonl")


def write_checkpoint(target: Session | Engine, key: bytes, store: CheckpointStore) -> Checkpoint:
    """Checkpoint the committed head now (at shutdown, after a clean verify)."""
    if isinstance(target, Engine):
        with Session(target) as session:
            head = chain_head(session)
    else:
        head = chain_head(target)
    checkpoint = Checkpoint.sign(key, head)
    store.write(checkpoint)
    return checkpoint


def checkpointer(store: CheckpointStore, key: bytes, every: int) -> OnSealed:
    """An ``on_sealed`` for ``seal_pending``: checkpoint the first seal, then every ``every``."""

    def on_sealed(before: ChainHead, after: ChainHead) -> None:
        if before.count == 0 or after.count // every > before.count // every:
            store.write(Checkpoint.sign(key, after))

    return on_sealed
