"""`claimdesk db`: create or upgrade the application database."""

from __future__ import annotations

import typer

from claimdesk.cli._acting import audit_operator
from claimdesk.cli._context import open_engine
from claimdesk.cli._utilities import exit_with_error, print_json

app = typer.Typer(help="Application database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: str = typer.Argument("head", help="Target revision."),
    json_output: bool = typer.Option(
        False, "--json", help="Print the database (password masked) and its revision as JSON."
    ),
) -> None:
    """Create the database or bring it to the latest schema (Alembic migrations).

    An operator's command: audited as the OS account (os:NAME)."""
    from sqlalchemy.exc import OperationalError

    from claimdesk.migrate import current_revision, upgrade_database
    from claimdesk.settings import _mask_url_password

    engine = open_engine()
    try:
        upgrade_database(engine, revision)
        database = _mask_url_password(str(engine.url.render_as_string(False)))
        now = current_revision(engine)
    except OperationalError as exc:
        exit_with_error(f"the database could not be upgraded: {str(exc.orig).splitlines()[0]}")
    finally:
        engine.dispose()
    audit_operator("system.db_upgraded", revision=now)
    if json_output:
        print_json({"database": database, "revision": now})
        return
    typer.echo(f"database {database} is at revision {now}")


@app.command("current")
def current(
    json_output: bool = typer.Option(
        False, "--json", help="Print the revision as JSON (null for an empty database)."
    ),
) -> None:
    """Print the database's schema revision."""
    from claimdesk.migrate import current_revision

    engine = open_engine()
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    if json_output:
        print_json({"revision": revision})
        return
    typer.echo(revision or "empty (run `claimdesk db upgrade`)")
