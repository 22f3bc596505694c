"""Document store: both backends' shared contract, then S3 and local specifics.

S3 runs against moto's server over HTTP (``moto_s3_endpoint`` in conftest), so
the requests, signing, presigned URLs and error mapping are the real boto3 ones.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import stat
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from claimdesk.documents import (
    DocumentStore,
    LocalDocumentStore,
    S3DocumentStore,
    make_document_store,
    make_key,
)
from claimdesk.errors import DocumentError
from claimdesk.settings import Settings

PHI_DOCUMENT = b"ISA*00*PATIENT JANE DOE*DOB 19800101*MEMBER W123456789~"
KEY_PATTERN = re.compile(r"(claimdesk/)?sha256/[0-9a-f]{2}/[0-9a-f]{64}")


def _s3_client(**config: Any) -> Any:
    """A client that finds the moto server through AWS_ENDPOINT_URL_S3, as in production."""
    return boto3.client("s3", config=Config(signature_version="s3v4", **config))


def _new_bucket(client: Any) -> str:
    bucket = f"claimdesk-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return bucket


@dataclass
class Backend:
    """A store plus ways to reach behind its back."""

    store: DocumentStore
    overwrite: Callable[[str, bytes], None]
    fingerprint: Callable[[str], object]  # changes whenever the object is rewritten


def _local_backend(root: Path) -> Backend:
    store = LocalDocumentStore(root)

    def overwrite(key: str, data: bytes) -> None:
        path = root / key
        path.chmod(0o644)
        path.write_bytes(data)

    def fingerprint(key: str) -> object:
        info = (root / key).stat()
        return (info.st_ino, info.st_mtime_ns)

    return Backend(store, overwrite, fingerprint)


def _s3_backend() -> Backend:
    client = _s3_client()
    bucket = _new_bucket(client)
    store = S3DocumentStore(bucket, "claimdesk/", client=client)
    puts: list[str] = []
    client.meta.events.register(
        "before-call.s3.PutObject", lambda params, **_: puts.append(params["url_path"])
    )

    def overwrite(key: str, data: bytes) -> None:
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data)

    def fingerprint(key: str) -> object:
        return len(puts)

    return Backend(store, overwrite, fingerprint)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return _local_backend(tmp_path / "documents")
    request.getfixturevalue("moto_s3_endpoint")
    return _s3_backend()


@pytest.fixture
def s3_client(moto_s3_endpoint: str) -> Any:
    return _s3_client()


class TestDocumentStore:
    def test_store_round_trip_returns_same_bytes(self, backend: Backend) -> None:
        stored = backend.store.put(PHI_DOCUMENT, content_type="application/edi-x12")

        assert stored.sha256 == hashlib.sha256(PHI_DOCUMENT).hexdigest()
        assert stored.size == len(PHI_DOCUMENT)
        assert stored.content_type == "application/edi-x12"
        assert backend.store.exists(stored.key)
        assert backend.store.get(stored.key, sha256=stored.sha256) == PHI_DOCUMENT

    def test_store_round_trip_empty_document(self, backend: Backend) -> None:
        stored = backend.store.put(b"", content_type="text/plain")
        assert backend.store.get(stored.key, sha256=stored.sha256) == b""

    def test_store_put_same_bytes_is_idempotent(self, backend: Backend) -> None:
        first = backend.store.put(PHI_DOCUMENT, content_type="application/edi-x12")
        before = backend.fingerprint(first.key)

        second = backend.store.put(PHI_DOCUMENT, content_type="application/edi-x12")

        assert second == first
        assert backend.fingerprint(first.key) == before

    def test_store_get_detects_corrupt_object(self, backend: Backend) -> None:
        stored = backend.store.put(PHI_DOCUMENT, content_type="application/edi-x12")
        tampered = PHI_DOCUMENT.replace(b"JANE", b"JOHN")
        backend.overwrite(stored.key, tampered)

        with pytest.raises(DocumentError) as caught:
            backend.store.get(stored.key, sha256=stored.sha256)

        message = str(caught.value)
        assert stored.key in message
        assert stored.sha256 in message
        assert hashlib.sha256(tampered).hexdigest() in message

    def test_store_get_detects_truncated_object(self, backend: Backend) -> None:
        stored = backend.store.put(PHI_DOCUMENT, content_type="application/edi-x12")
        backend.overwrite(stored.key, PHI_DOCUMENT[:-5])

        with pytest.raises(DocumentError, match="corrupt or truncated"):
            backend.store.get(stored.key, sha256=stored.sha256)

    def test_store_put_repairs_truncated_object(self, backend: Backend) -> None:
        stored = backend.store.put(PHI_DOCUMENT, content_type="application/edi-x12")
        backend.overwrite(stored.key, PHI_DOCUMENT[:-5])

        backend.store.put(PHI_DOCUMENT, content_type="application/edi-x12")

        assert backend.store.get(stored.key, sha256=stored.sha256) == PHI_DOCUMENT

    def test_store_get_missing_key_raises_document_error(self, backend: Backend) -> None:
        digest = hashlib.sha256(b"never stored").hexdigest()
        key = make_key(
            digest, prefix="" if isinstance(backend.store, LocalDocumentStore) else "claimdesk/"
        )

        assert not backend.store.exists(key)
        with pytest.raises(DocumentError, match="missing") as caught:
            backend.store.get(key, sha256=digest)
        assert key in str(caught.value)
        assert caught.value.__cause__ is not None

    def test_store_key_contains_no_input_text(self, backend: Backend) -> None:
        stored = backend.store.put(PHI_DOCUMENT, content_type="application/edi-x12")

        assert KEY_PATTERN.fullmatch(stored.key)
        for word in (b"JANE", b"DOE", b"19800101", b"W123456789", b"edi-x12"):
            assert word.decode().lower() not in stored.key.lower()

    @pytest.mark.parametrize("key", ["../../etc/passwd", "sha256/zz/abc", "/tmp/x", ""])
    def test_store_get_rejects_malformed_key(self, backend: Backend, key: str) -> None:
        with pytest.raises(DocumentError, match="not a document key"):
            backend.store.get(key, sha256="0" * 64)

    def test_store_get_rejects_malformed_sha256(self, backend: Backend) -> None:
        stored = backend.store.put(PHI_DOCUMENT, content_type="application/edi-x12")
        with pytest.raises(DocumentError, match="not a 64-digit hex digest"):
            backend.store.get(stored.key, sha256="abc")


class TestS3DocumentStore:
    def test_s3_put_encrypts_with_aes256_by_default(self, s3_client: Any) -> None:
        bucket = _new_bucket(s3_client)
        store = S3DocumentStore(bucket, "claimdesk/", client=s3_client)

        stored = store.put(PHI_DOCUMENT, content_type="application/edi-x12")

        head = s3_client.head_object(Bucket=bucket, Key=stored.key, ChecksumMode="ENABLED")
        assert head["ServerSideEncryption"] == "AES256"
        assert head["ContentType"] == "application/edi-x12"
        assert bytes.fromhex(stored.sha256) == base64.b64decode(head["ChecksumSHA256"])

    def test_s3_put_encrypts_with_kms_key_when_configured(
        self, s3_client: Any, moto_s3_endpoint: str
    ) -> None:
        kms = boto3.client("kms", endpoint_url=moto_s3_endpoint)
        key_id = kms.create_key(Description="claimdesk documents")["KeyMetadata"]["KeyId"]
        bucket = _new_bucket(s3_client)
        store = S3DocumentStore(bucket, "claimdesk/", "aws:kms", key_id, client=s3_client)

        stored = store.put(PHI_DOCUMENT, content_type="application/edi-x12")

        head = s3_client.head_object(Bucket=bucket, Key=stored.key)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert key_id in head["SSEKMSKeyId"]
        assert store.get(stored.key, sha256=stored.sha256) == PHI_DOCUMENT

    def test_s3_kms_without_key_id_raises_document_error(self, s3_client: Any) -> None:
        with pytest.raises(DocumentError, match="CLAIMDESK_S3_KMS_KEY_ID"):
            S3DocumentStore("claimdesk-docs", sse="aws:kms", client=s3_client)

    def test_s3_presigned_url_downloads_bytes(self, s3_client: Any) -> None:
        store = S3DocumentStore(_new_bucket(s3_client), "claimdesk/", client=s3_client)
        stored = store.put(PHI_DOCUMENT, content_type="application/edi-x12")

        url = store.presigned_url(stored.key, expires_s=60)

        response = httpx.get(url)
        assert response.status_code == 200
        assert response.content == PHI_DOCUMENT
        assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url

    def test_s3_presigned_url_with_filename_sets_content_disposition(self, s3_client: Any) -> None:
        store = S3DocumentStore(_new_bucket(s3_client), "claimdesk/", client=s3_client)
        stored = store.put(b"%PDF-1.7 appeal", content_type="application/pdf")

        url = store.presigned_url(stored.key, filename='appeal "2026".pdf')

        response = httpx.get(url)
        assert response.content == b"%PDF-1.7 appeal"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="appeal _2026_.pdf"')
        assert "filename*=UTF-8''appeal%20%222026%22.pdf" in disposition

    def test_s3_presigned_url_rejects_expiry_out_of_range(self, s3_client: Any) -> None:
        store = S3DocumentStore("claimdesk-docs", "claimdesk/", client=s3_client)
        key = make_key("a" * 64, prefix="claimdesk/")
        with pytest.raises(DocumentError, match="expires_s"):
            store.presigned_url(key, expires_s=8 * 24 * 3600)

    def test_s3_missing_bucket_raises_document_error(self, s3_client: Any) -> None:
        store = S3DocumentStore("claimdesk-no-such-bucket", "claimdesk/", client=s3_client)

        with pytest.raises(DocumentError, match="NoSuchBucket") as caught:
            store.put(PHI_DOCUMENT, content_type="application/edi-x12")
        assert "'claimdesk-no-such-bucket'" in str(caught.value)

    def test_s3_unreachable_endpoint_raises_document_error_quickly(
        self, moto_s3_endpoint: str
    ) -> None:
        with socket.socket() as sock:  # a port nothing listens on once closed
            sock.bind(("127.0.0.1", 0))
            dead_port = sock.getsockname()[1]
        client = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{dead_port}",
            config=Config(connect_timeout=0.5, read_timeout=0.5, retries={"max_attempts": 1}),
        )
        store = S3DocumentStore("claimdesk-docs", "claimdesk/", client=client)
        key = make_key("b" * 64, prefix="claimdesk/")

        started = time.monotonic()
        for call in (
            lambda: store.put(PHI_DOCUMENT, content_type="application/edi-x12"),
            lambda: store.get(key, sha256="b" * 64),
            lambda: store.exists(key),
        ):
            with pytest.raises(DocumentError, match="EndpointConnectionError") as caught:
                call()
            message = str(caught.value)
            assert "'claimdesk-docs'" in message
            assert os.environ["AWS_SECRET_ACCESS_KEY"] not in message.replace("claimdesk-docs", "")
        assert time.monotonic() - started < 5


class TestLocalDocumentStore:
    def test_local_concurrent_puts_of_same_bytes_leave_one_file(self, tmp_path: Path) -> None:
        store = LocalDocumentStore(tmp_path)
        data = os.urandom(4 * 1024 * 1024)
        start = threading.Barrier(2)
        results: list[object] = []
        errors: list[BaseException] = []

        def put() -> None:
            try:
                start.wait()
                results.append(store.put(data, content_type="application/octet-stream"))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=put) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        assert len(results) == 2 and results[0] == results[1]
        files = [path for path in tmp_path.rglob("*") if path.is_file()]
        assert [path.relative_to(tmp_path).as_posix() for path in files] == [results[0].key]  # type: ignore[attr-defined]
        assert store.get(results[0].key, sha256=results[0].sha256) == data  # type: ignore[attr-defined]

    def test_local_stored_file_is_read_only(self, tmp_path: Path) -> None:
        stored = LocalDocumentStore(tmp_path).put(PHI_DOCUMENT, content_type="text/plain")

        mode = (tmp_path / stored.key).stat().st_mode
        assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)

    def test_local_presigned_url_is_file_uri(self, tmp_path: Path) -> None:
        store = LocalDocumentStore(tmp_path)
        stored = store.put(PHI_DOCUMENT, content_type="text/plain")

        url = store.presigned_url(stored.key, filename="appeal.pdf")

        assert url == (tmp_path / stored.key).resolve().as_uri()

    def test_local_presigned_url_missing_key_raises_document_error(self, tmp_path: Path) -> None:
        with pytest.raises(DocumentError, match="missing"):
            LocalDocumentStore(tmp_path).presigned_url(make_key("c" * 64))

    def test_local_unwritable_root_raises_document_error(self, tmp_path: Path) -> None:
        root = tmp_path / "documents"
        root.write_text("a file where the folder should be")

        with pytest.raises(DocumentError, match="cannot write document"):
            LocalDocumentStore(root).put(PHI_DOCUMENT, content_type="text/plain")


class TestMakeDocumentStore:
    def test_make_document_store_local_uses_documents_dir(self, tmp_path: Path) -> None:
        settings = Settings(_env_file=None, data_dir=tmp_path)

        store = make_document_store(settings)

        assert isinstance(store, LocalDocumentStore)
        assert store.root == settings.documents_dir

    def test_make_document_store_s3_round_trips_through_endpoint(
        self, tmp_path: Path, moto_s3_endpoint: str, s3_client: Any
    ) -> None:
        bucket = _new_bucket(s3_client)
        settings = Settings(
            _env_file=None, data_dir=tmp_path, document_store="s3", s3_bucket=bucket
        )

        store = make_document_store(settings)

        assert isinstance(store, S3DocumentStore)
        assert store.client.meta.endpoint_url == moto_s3_endpoint
        stored = store.put(PHI_DOCUMENT, content_type="application/edi-x12")
        assert stored.key.startswith("claimdesk/sha256/")
        assert store.get(stored.key, sha256=stored.sha256) == PHI_DOCUMENT
        head = s3_client.head_object(Bucket=bucket, Key=stored.key)
        assert head["ServerSideEncryption"] == "AES256"
