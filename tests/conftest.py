"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _prefect_auth_string_stays_in_its_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command run beside a stack exports the stack's auth string for Prefect's client
    (claimdesk.cli._context); in one test process it must not reach the next test."""
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    """URL of moto's server over HTTP, for S3 (and KMS) tests, for the whole session.

    The server listens on a free port the OS picks; ``AWS_ENDPOINT_URL_S3`` points
    boto3 at it and dummy credentials and region come from the environment, with
    the user's AWS config files and profile hidden. Tests create their own
    uniquely named buckets, so they do not need a reset between them.
    """
    from moto.server import ThreadedMotoServer  # heavy import: only when a test asks

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        with pytest.MonkeyPatch.context() as env:
            env.delenv("AWS_PROFILE", raising=False)
            env.delenv("AWS_SESSION_TOKEN", raising=False)
            env.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
            env.setenv("AWS_ACCESS_KEY_ID", "testing")
            env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
            env.setenv("AWS_DEFAULT_REGION", "us-east-1")
            env.setenv("AWS_ENDPOINT_URL_S3", endpoint)
            yield endpoint
    finally:
        server.stop()


# --- Application database -------------------------------------------------------------
# Model, migration and store tests run against SQLite and PostgreSQL. Outside CI a
# PostgreSQL that cannot be reached skips its tests with the reason; under CI it fails.

import os  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from claimdesk.db import make_engine  # noqa: E402
from claimdesk.migrate import upgrade_database  # noqa: E402
from claimdesk.settings import Settings  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "CLAIMDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DB_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _pg_unavailable_reason() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any connection failure means "not reachable"
        return f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {type(exc).__name__}"
    return None


class _Databases:
    """Creates throwaway databases (migrated by Alembic) and drops them at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pg_databases: list[str] = []
        self._pg_checked = False
        self._pg_reason: str | None = None

    def pg_reason(self) -> str | None:
        if not self._pg_checked:
            self._pg_reason = _pg_unavailable_reason()
            self._pg_checked = True
        return self._pg_reason

    def settings(self, backend: str, tmp_dir: Path | None = None) -> Settings:
        data_dir = tmp_dir or self.root / uuid.uuid4().hex[:8]
        if backend == "sqlite":
            return Settings(_env_file=None, data_dir=data_dir)
        reason = self.pg_reason()
        if reason is not None:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{reason} (CI requires PostgreSQL)")
            pytest.skip(reason)
        name = f"claimdesk_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.pg_databases.append(name)
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        return Settings(_env_file=None, data_dir=data_dir, database_url=url)

    def drop_all(self) -> None:
        if not self.pg_databases:
            return
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.pg_databases:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases]:
    dbs = _Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session", params=DB_BACKENDS)
def migrated_engine(request: pytest.FixtureRequest, databases: _Databases) -> Iterator[Engine]:
    """One migrated database per backend for the whole session."""
    engine = make_engine(databases.settings(request.param))
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(migrated_engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    with migrated_engine.connect() as connection:
        transaction = connection.begin()
        with Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as db_session:
            yield db_session
        transaction.rollback()


@pytest.fixture(params=DB_BACKENDS)
def fresh_settings(
    request: pytest.FixtureRequest, databases: _Databases, tmp_path: Path
) -> Settings:
    """Settings for a new, empty (unmigrated) database of each backend, for tests that commit."""
    return databases.settings(request.param, tmp_path)


def sign_in_cli(settings: Settings, username: str, **token: Any) -> None:
    """What `claimdesk login USERNAME` leaves behind: the token in ``settings.data_dir``.

    Tests of commands that act for a person sign in this way (no password, no code);
    ``claimdesk login`` itself is tested in tests/access/test_cli_login.py. ``token`` is
    passed to ``write_token`` (e.g. ``lifetime=``). ``settings`` must be what the command
    will load (its data directory holds the secrets key the token is signed with).
    """
    from claimdesk.access.cli_tokens import write_token
    from claimdesk.db import make_engine, session_scope
    from models import User

    engine = make_engine(settings)
    try:
        with session_scope(engine) as db:
            user = db.exec(select(User).where(User.username == username)).one()
            write_token(settings, user, **token)
    finally:
        engine.dispose()


@pytest.fixture
def cli_sign_in() -> Callable[..., None]:
    """``sign_in_cli`` as a fixture: ``cli_sign_in(settings, "sam")``."""
    return sign_in_cli
