"""Entry-point wiring for CLI commands: settings, engine, sessions.

The database and settings libraries are imported when a command first asks for them,
never when the command line starts (``claimdesk --help`` must answer at once).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from claimdesk.cli._utilities import bad_input, exit_with_error

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from claimdesk.settings import Settings


def load_settings() -> Settings:
    from pydantic import ValidationError

    from claimdesk.settings import get_settings
    from claimdesk.stack import settings_beside_stack

    try:
        settings = get_settings()
    except ValidationError as exc:
        bad_input(f"settings are invalid: {exc.errors()[0]['msg']}")
    # Beside a running `claimdesk up`: its Prefect API and simulator, unless configured.
    settings = settings_beside_stack(settings)
    if settings.prefect_api_auth_string is not None:
        # Prefect's own client (review resolve, run) reads it from the environment, as the
        # commands export PREFECT_API_URL; this process only, never printed.
        import os

        os.environ["PREFECT_API_AUTH_STRING"] = settings.prefect_api_auth_string.get_secret_value()
    return settings


def open_engine() -> Engine:
    from claimdesk.db import make_engine

    return make_engine(load_settings())


@contextmanager
def cli_session() -> Iterator[Session]:
    """A committed-on-success session; a database that cannot be reached is a clear error."""
    from sqlalchemy.exc import OperationalError

    from claimdesk.db import session_scope

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
