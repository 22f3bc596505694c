"""The audit key (outside the database) and the checkpoint stores (outside the database)."""

from __future__ import annotations

import os
import stat
import uuid
from itertools import pairwise
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import SecretStr

from claimdesk.errors import ConfigError
from claimdesk.settings import Settings
from models.audit import (
    GENESIS_HASH,
    ChainHead,
    Checkpoint,
    LocalCheckpointStore,
    S3CheckpointStore,
    audit_key,
    audit_key_path,
    checkpointer,
    make_checkpoint_store,
)
from models.types import utcnow

KEY = b"q" * 32


def _settings(tmp_path: Path, **kwargs: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **kwargs)


def test_key_file_is_made_0600_on_first_use_then_reused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(ConfigError, match=r"audit\.key' is missing"):
        audit_key(settings, create=False)
    key = audit_key(settings)
    path = audit_key_path(settings)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert audit_key(settings) == key == audit_key(settings, create=False)
    assert [p.name for p in path.parent.iterdir()] == ["audit.key"]  # no temp file left
    assert key.hex() not in repr(settings.masked())


def test_key_from_settings_wins_and_must_be_long(tmp_path: Path) -> None:
    assert audit_key(_settings(tmp_path, audit_key=SecretStr("s" * 40))) == b"s" * 40
    with pytest.raises(ConfigError, match="CLAIMDESK_AUDIT_KEY is 5 characters"):
        audit_key(_settings(tmp_path, audit_key=SecretStr("short")))
    assert _settings(tmp_path, audit_key=SecretStr("s" * 40)).masked()["audit_key"] == "**********"


def test_key_file_open_to_others_or_damaged_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    audit_key(settings)
    path = audit_key_path(settings)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match=r"open to other users \(mode 0644\)"):
        audit_key(settings)
    os.chmod(path, 0o600)
    path.write_text("not hex\n")
    with pytest.raises(ConfigError, match="does not hold 32 or more bytes"):
        audit_key(settings)


def test_checkpoint_signature_covers_every_field() -> None:
    checkpoint = Checkpoint.sign(KEY, ChainHead(5, 42, "a" * 64))
    assert checkpoint.signed_by(KEY)
    assert not checkpoint.signed_by(b"x" * 32)
    for changed in (
        Checkpoint(4, 42, "a" * 64, checkpoint.written_at, checkpoint.mac),
        Checkpoint(5, 41, "a" * 64, checkpoint.written_at, checkpoint.mac),
        Checkpoint(5, 42, "b" * 64, checkpoint.written_at, checkpoint.mac),
        Checkpoint(5, 42, "a" * 64, "2020-01-01T00:00:00+00:00", checkpoint.mac),
    ):
        assert not changed.signed_by(KEY)


def test_local_store_appends_0600_and_returns_the_highest(tmp_path: Path) -> None:
    store = make_checkpoint_store(_settings(tmp_path))
    assert isinstance(store, LocalCheckpointStore) and store.latest() is None
    for count in (1, 3, 2):
        store.write(Checkpoint.sign(KEY, ChainHead(count, count, "c" * 64)))
    latest = store.latest()
    assert latest is not None and latest.count == 3
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert len(store.path.read_text().splitlines()) == 3
    store.path.write_text(store.path.read_text() + "{broken\n")
    with pytest.raises(ConfigError, match="line 4 is unreadable"):
        store.latest()


def test_checkpointer_writes_on_the_first_seal_then_every_n(tmp_path: Path) -> None:
    store = LocalCheckpointStore(tmp_path / "cp.jsonl")
    on_sealed = checkpointer(store, KEY, every=10)
    heads = [ChainHead(n, n, "d" * 64) for n in (0, 3, 9, 10, 19, 25)]
    for before, after in pairwise(heads):
        on_sealed(before, after)
    counts = [Checkpoint.parse(line, "t").count for line in store.path.read_text().splitlines()]
    assert counts == [3, 10, 25]


def _bucket(endpoint: str, *, lock: bool) -> tuple[Any, str]:
    client = boto3.client("s3", endpoint_url=endpoint)
    bucket = f"audit-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=lock)
    return client, bucket


def test_s3_store_keeps_checkpoints_in_the_documents_bucket(
    moto_s3_endpoint: str, tmp_path: Path
) -> None:
    _, bucket = _bucket(moto_s3_endpoint, lock=False)
    settings = _settings(tmp_path, document_store="s3", s3_bucket=bucket, s3_prefix="cd/")
    store = make_checkpoint_store(settings)
    assert isinstance(store, S3CheckpointStore) and store.latest() is None
    for count in (2, 11, 5):
        store.write(Checkpoint.sign(KEY, ChainHead(count, count, "e" * 64)))
    latest = store.latest()
    assert latest is not None and latest.count == 11 and latest.signed_by(KEY)
    assert store.where == f"s3://{bucket}/cd/audit-checkpoints/"
    assert not (settings.data_dir / "audit").exists()


def test_s3_store_puts_checkpoints_under_object_lock(moto_s3_endpoint: str) -> None:
    client, bucket = _bucket(moto_s3_endpoint, lock=True)
    store = S3CheckpointStore(client, bucket, "", lock_days=30)
    store.write(Checkpoint.sign(KEY, ChainHead(0, None, GENESIS_HASH)))
    key = "audit-checkpoints/000000000000000.json"
    head = client.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert (head["ObjectLockRetainUntilDate"] - utcnow()).days in (29, 30)
    with pytest.raises(client.exceptions.ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=key, VersionId=head["VersionId"])
