"""Sealed at rest: the local document store and the task-error log are AES-GCM ciphertext
on disk, read back transparently, refused when changed, and older plaintext still reads."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from claimdesk.cli.main import app
from claimdesk.crypto_files import MAGIC, SealedFileError
from claimdesk.documents import LocalDocumentStore, make_document_store, make_key
from claimdesk.errors import DocumentError
from claimdesk.gateway.errors import PayerError
from claimdesk.settings import Settings, get_settings
from tasks import _safety

PATIENT = b"ISA*00*NM1*IL*1*TESTPATIENT*JANE****MI*W123456789~DMG*D8*19610402~"
runner = CliRunner()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _settings(data_dir: Path, key: str | None = None) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, secrets_key=SecretStr(key) if key else None)


def test_a_document_on_disk_is_ciphertext_and_reads_back(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    store = make_document_store(settings)
    stored = store.put(PATIENT, content_type="application/edi-x12")

    assert stored.sha256 == hashlib.sha256(PATIENT).hexdigest()  # the plaintext's identity
    assert stored.size == len(PATIENT)
    on_disk = (settings.documents_dir / stored.key).read_bytes()
    assert on_disk.startswith(MAGIC)
    assert b"TESTPATIENT" not in on_disk and b"W123456789" not in on_disk
    assert PATIENT not in on_disk
    # A new store (another process) with the same settings reads it.
    assert make_document_store(settings).get(stored.key, sha256=stored.sha256) == PATIENT
    # The same bytes again: the same key, the file left as it is.
    before = (settings.documents_dir / stored.key).stat().st_ino
    assert store.put(PATIENT, content_type="application/edi-x12") == stored
    assert (settings.documents_dir / stored.key).stat().st_ino == before


def test_files_and_folders_are_the_owners_alone(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    stored = make_document_store(settings).put(PATIENT, content_type="text/plain")
    path = settings.documents_dir / stored.key
    assert mode(path) == 0o400
    folders = [p for p in path.parents if settings.documents_dir in p.parents]
    assert {mode(p) for p in [settings.documents_dir, *folders]} == {0o700}
    assert mode(settings.data_dir / "secrets.key") == 0o600


def test_a_changed_document_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    store = make_document_store(settings)
    stored = store.put(PATIENT, content_type="text/plain")
    path = settings.documents_dir / stored.key
    blob = bytearray(path.read_bytes())
    blob[len(MAGIC) + 20] ^= 0x01  # one bit of the ciphertext
    path.chmod(0o600)
    path.write_bytes(bytes(blob))

    with pytest.raises(DocumentError, match="does not open: it was changed") as caught:
        store.get(stored.key, sha256=stored.sha256)
    assert stored.key in str(caught.value) and "TESTPATIENT" not in str(caught.value)
    # put() of the original bytes repairs it.
    store.put(PATIENT, content_type="text/plain")
    assert store.get(stored.key, sha256=stored.sha256) == PATIENT


def test_a_sealed_file_moved_under_another_documents_key_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    store = make_document_store(settings)
    first = store.put(PATIENT, content_type="text/plain")
    other = store.put(b"another document", content_type="text/plain")
    target = settings.documents_dir / other.key
    target.chmod(0o600)
    target.write_bytes((settings.documents_dir / first.key).read_bytes())

    with pytest.raises(DocumentError, match="does not open"):
        store.get(other.key, sha256=other.sha256)


def test_another_secrets_key_cannot_read_the_documents(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    stored = make_document_store(_settings(data_dir, secrets.token_hex(32))).put(
        PATIENT, content_type="text/plain"
    )
    with pytest.raises(DocumentError, match="secrets key"):
        make_document_store(_settings(data_dir, secrets.token_hex(32))).get(
            stored.key, sha256=stored.sha256
        )


def test_a_plaintext_document_from_an_older_version_still_reads(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    digest = hashlib.sha256(PATIENT).hexdigest()
    key = make_key(digest)
    old = settings.documents_dir / key
    old.parent.mkdir(parents=True)
    old.write_bytes(PATIENT)  # as the previous version wrote it
    old.chmod(0o444)
    store = make_document_store(settings)

    assert store.get(key, sha256=digest) == PATIENT
    # A put of the same bytes seals the old file in place.
    store.put(PATIENT, content_type="text/plain")
    assert old.read_bytes().startswith(MAGIC) and mode(old) == 0o400
    assert store.get(key, sha256=digest) == PATIENT


def test_a_store_made_from_its_folder_alone_uses_the_data_directorys_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    stored = LocalDocumentStore(settings.documents_dir).put(PATIENT, content_type="text/plain")
    assert make_document_store(settings).get(stored.key, sha256=stored.sha256) == PATIENT


# -- the task-error log ------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(tmp_path))
    for name in ("CLAIMDESK_SECRETS_KEY", "CLAIMDESK_DATABASE_URL", "CLAIMDESK_PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    _drop_handlers()
    yield tmp_path
    _drop_handlers()
    get_settings.cache_clear()


def _drop_handlers() -> None:
    logger = logging.getLogger("claimdesk.tasks.errors")
    for handler in list(logger.handlers):
        if getattr(handler, "claimdesk_task_log", False):
            logger.removeHandler(handler)
            handler.close()


def _fail_twice() -> str:
    @_safety.phi_safe
    def parse_member() -> None:
        raise ValueError("invalid literal for member: 'TESTPATIENT, JANE'")

    @_safety.phi_safe
    def call_payer() -> None:
        try:
            raise RuntimeError("HTTP 400: TESTPATIENT")
        except RuntimeError as exc:
            raise PayerError(
                "payer SIM01: 400 from /core",
                payer_id="SIM01",
                call="eligibility",
                status_code=400,
            ) from exc

    with pytest.raises(_safety.TaskFailed) as caught:
        parse_member()
    with pytest.raises(PayerError) as payer:
        call_payer()
    # No cause of any kind travels with what Prefect logs and stores.
    for error in (caught.value, payer.value):
        assert error.__cause__ is None and error.__context__ is None
    reference = str(caught.value).split("[ref ")[1].split("]")[0]
    return reference


def test_a_task_error_entry_on_disk_is_ciphertext_and_reads_back(data_dir: Path) -> None:
    reference = _fail_twice()
    log = data_dir / "logs" / "task-errors.log"
    raw = log.read_bytes()
    lines = raw.decode("ascii").splitlines()
    assert len(lines) == 2 and all(line.startswith("sealed1:") for line in lines)
    for clear in (b"ValueError", b"parse_member", b"SIM01", reference.encode(), b"TESTPATIENT"):
        assert clear not in raw
    assert (mode(log), mode(log.parent)) == (0o600, 0o700)

    result = runner.invoke(app, ["logs", "task-errors", "--ref", reference, "--json"])
    assert result.exit_code == 0, result.output

    (record,) = json.loads(result.output)["records"]
    assert f"task parse_member failed [{reference}]: builtins.ValueError at " in record
    everything = runner.invoke(app, ["logs", "task-errors"])
    assert everything.exit_code == 0 and "PayerError (payer SIM01: 400 from /core)" in (
        everything.output
    )
    assert "TESTPATIENT" not in everything.output


def test_a_changed_task_error_line_is_refused_naming_it(data_dir: Path) -> None:
    _fail_twice()
    log = data_dir / "logs" / "task-errors.log"
    first, second = log.read_text().splitlines()
    body = second[len("sealed1:") :]
    flipped = body[:30] + ("A" if body[30] != "A" else "B") + body[31:]
    log.write_text(f"{first}\nsealed1:{flipped}\n")

    with pytest.raises(SealedFileError, match="line 2 does not open"):
        _safety.read_task_log(get_settings())
    result = runner.invoke(app, ["logs", "task-errors"])
    assert result.exit_code != 0
    assert "logs/task-errors.log line 2 does not open" in result.output
    assert "Traceback" not in result.output


def test_plain_lines_of_an_older_log_still_read(data_dir: Path) -> None:
    log = data_dir / "logs" / "task-errors.log"
    log.parent.mkdir(mode=0o700)
    log.write_text("2026-01-02 03:04:05 task old failed [abc123]: builtins.KeyError at x.py:1\n")
    _fail_twice()  # appended sealed, after the plain line

    records = _safety.read_task_log(get_settings())
    assert records[0].endswith("task old failed [abc123]: builtins.KeyError at x.py:1")
    assert len(records) == 3 and "parse_member" in records[1]
