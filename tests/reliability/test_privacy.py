"""Privacy: slow password hashes, secrets masked and never logged, documents encrypted on S3.

Already covered elsewhere and not repeated here: ``Settings.masked()`` itself
(tests/test_settings.py), a *wrong* payer password never logged
(tests/gateway/test_client_against_simulator.py), ``S3DocumentStore`` puts with
AES256 and aws:kms (tests/test_documents.py). Added: the argon2 parameters, the
``config show`` command's output, a *successful* credentialed payer call with every
logger at DEBUG, and every object the app's own paths (an attachment, a payer
exchange) write to S3 checked for server-side encryption against moto's server.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from argon2 import Type, extract_parameters
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from claimdesk.access import auth
from claimdesk.cli.main import app
from claimdesk.db import make_engine, session_scope
from claimdesk.documents import make_document_store
from claimdesk.gateway.client import CoreClient
from claimdesk.gateway.payer_config import PayerConfig
from claimdesk.migrate import upgrade_database
from claimdesk.passwords import hash_password, verify_password
from claimdesk.review.tasks import ensure_review_task
from claimdesk.settings import Settings, get_settings
from claimdesk.workqueue import task_view
from models import User
from tests.factories import make_claim
from tests.gateway.sim_helpers import ACME, PASSWORD, PASSWORD_ENV, USERNAME
from tests.payer_sim.builders import make_270

_controls = itertools.count(770_000)  # ISA13s no other test of the session's simulator uses

# OWASP's floor for argon2id: 19 MiB memory and 2 passes (one lane).
MIN_MEMORY_KIB, MIN_PASSES = 19 * 1024, 2


def test_passwords_are_argon2id_with_slow_hash_parameters(tmp_path: Path) -> None:
    password = "correct-horse-battery-1"
    digest = hash_password(password)
    params = extract_parameters(digest)
    assert params.type is Type.ID
    assert params.memory_cost >= MIN_MEMORY_KIB and params.time_cost >= MIN_PASSES
    assert params.salt_len >= 16 and params.hash_len >= 32
    assert verify_password(digest, password) and not verify_password(digest, password + "x")
    assert hash_password(password) != digest  # salted
    # Through the service an admin uses: only the hash reaches the database file.
    settings = Settings(_env_file=None, data_dir=tmp_path)
    engine = make_engine(settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        session.add(User(username="root", role="admin", password_hash=digest))
    auth.create_user(
        engine, username="root", new_username="sam", role="specialist", password=password
    )
    with Session(engine) as session:
        stored = session.exec(select(User.password_hash).where(User.username == "sam")).one()
    engine.dispose()
    assert extract_parameters(stored).memory_cost >= MIN_MEMORY_KIB
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("claimdesk.db*"))
    assert password.encode() not in on_disk


def test_config_show_masks_every_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secrets = {
        "CLAIMDESK_DATABASE_URL": "postgresql+psycopg://app:Db-Pa55word-1@db.internal/claimdesk",
        "CLAIMDESK_SESSION_SECRET": "session-Secret-77",
    }
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(tmp_path))
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    runner = CliRunner()
    for args in (["config", "show"], ["config", "show", "--json"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "Db-Pa55word-1" not in result.output and "session-Secret-77" not in result.output
        assert "app:***@db.internal" in result.output  # what, not the secret
    shown = json.loads(runner.invoke(app, ["config", "show", "--json"]).output)
    assert shown["session_secret"] == "**********"
    get_settings.cache_clear()


@pytest.fixture
def s3_settings(moto_s3_endpoint: str, tmp_path: Path) -> Settings:
    bucket = f"privacy-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_s3_endpoint).create_bucket(Bucket=bucket)
    return Settings(
        _env_file=None, data_dir=tmp_path, document_store="s3", s3_bucket=bucket, s3_prefix="cd/"
    )


@pytest.fixture
def s3_engine(s3_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(s3_settings)
    upgrade_database(engine)
    yield engine
    engine.dispose()


def _client(
    sim: str, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> CoreClient:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    config = PayerConfig(
        payer_id=f"PRIV{uuid.uuid4().hex[:6]}",
        endpoint=f"{sim}/core",
        sender_id="CLAIMDESK",
        receiver_id="SIMACM",
        username=USERNAME,
        password_env=PASSWORD_ENV,
        rate_limit_per_s=1000.0,
    )
    return CoreClient(
        settings, config, engine=engine, store=make_document_store(settings), sleep=lambda _: None
    )


def test_credentialed_payer_call_logs_no_secret_and_stores_encrypted(
    sim: str,
    s3_settings: Settings,
    s3_engine: Engine,
    moto_s3_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with session_scope(s3_engine) as session:
        claim_id = make_claim(session).id or 0
        session.add(User(username="ann", role="specialist", password_hash="x"))
        task_id = (
            ensure_review_task(session=session, kind="scrub", claim_id=claim_id, claim_version=1).id
            or 0
        )
    client = _client(sim, s3_settings, s3_engine, monkeypatch)
    with caplog.at_level(logging.DEBUG):  # every logger, httpx and httpcore included
        answer = client.eligibility(
            make_270("GW100", control=next(_controls), payer=ACME), claim_ids=[claim_id]
        )
        client.close()
        task_view.attach_document(
            s3_engine,
            make_document_store(s3_settings),
            username="ann",
            task_id=task_id,
            data=b"%PDF-1.4 medical records",
            content_type="application/pdf",
        )
    assert answer.startswith(b"ISA")
    basic = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert caplog.records, "nothing was logged at DEBUG: the check would prove nothing"
    assert PASSWORD not in logged and basic not in logged
    # Every object the app wrote (270, 271, the attachment) is encrypted at rest.
    s3: Any = boto3.client("s3", endpoint_url=moto_s3_endpoint)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_settings.s3_bucket).get("Contents", [])]
    assert len(keys) == 3
    for key in keys:
        head = s3.head_object(Bucket=s3_settings.s3_bucket, Key=key)
        assert head["ServerSideEncryption"] == "AES256", key
        body = s3.get_object(Bucket=s3_settings.s3_bucket, Key=key)["Body"].read()
        assert PASSWORD.encode() not in body
