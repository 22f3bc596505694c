"""Entry-point wiring for CLI commands: settings, engine, sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from claimdesk.cli._utilities import exit_with_error
from claimdesk.db import make_engine, session_scope
from claimdesk.settings import Settings, get_settings
from claimdesk.stack import settings_beside_stack


def load_settings() -> Settings:
    try:
        settings = get_settings()
    except ValidationError as exc:
        exit_with_error(f"settings are invalid: {exc.errors()[0]['msg']}")
    # Beside a running `claimdesk up`: its Prefect API and simulator, unless configured.
    return settings_beside_stack(settings)


def open_engine() -> Engine:
    return make_engine(load_settings())


@contextmanager
def cli_session() -> Iterator[Session]:
    """A committed-on-success session; a database that cannot be reached is a clear error."""
    engine = open_engine()
    try:
        with session_scope(engine) as session:
            yield session
    except OperationalError as exc:
        exit_with_error(
            f"the database could not be used: {exc.orig.__class__.__name__}: "
            f"{str(exc.orig).splitlines()[0] if exc.orig else exc}"
        )
    finally:
        engine.dispose()
