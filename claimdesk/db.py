"""Engine and session construction; nothing connects at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from claimdesk.private_files import private_dir, private_file
from claimdesk.settings import Settings


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    """An engine for the application database (SQLite in WAL mode, or PostgreSQL)."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            _private_sqlite_file(settings, Path(url.database))
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own BEGIN handling defers locks; take the write lock at BEGIN
        # so a conditional UPDATE and its read cannot interleave with another writer.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _private_sqlite_file(settings: Settings, path: Path) -> None:
    """The data folder 0700 and the database file 0600 before SQLite opens it.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's mode; ones left
    from before are tightened too.
    """
    private_dir(settings.data_dir)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            private_file(extra)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
