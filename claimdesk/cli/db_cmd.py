"""`claimdesk db`: create or upgrade the application database."""

from __future__ import annotations

import typer
from sqlalchemy.exc import OperationalError

from claimdesk.cli._context import open_engine
from claimdesk.cli._utilities import exit_with_error
from claimdesk.migrate import current_revision, upgrade_database
from claimdesk.settings import _mask_url_password

app = typer.Typer(help="Application database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create the database or bring it to the latest schema (Alembic migrations)."""
    engine = open_engine()
    try:
        upgrade_database(engine, revision)
        typer.echo(
            f"database {_mask_url_password(str(engine.url.render_as_string(False)))} "
            f"is at revision {current_revision(engine)}"
        )
    except OperationalError as exc:
        exit_with_error(f"the database could not be upgraded: {str(exc.orig).splitlines()[0]}")
    finally:
        engine.dispose()


@app.command("current")
def current() -> None:
    """Print the database's schema revision."""
    engine = open_engine()
    try:
        typer.echo(current_revision(engine) or "empty (run `claimdesk db upgrade`)")
    finally:
        engine.dispose()
