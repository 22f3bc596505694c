"""Alembic migrations build exactly the schema the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from claimdesk.db import make_engine
from claimdesk.migrate import current_revision, upgrade_database
from claimdesk.settings import Settings


def test_migrations_create_every_table(migrated_engine: Engine) -> None:
    tables = set(inspect(migrated_engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables


def test_migrations_match_models_without_drift(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_upgrade_is_idempotent_on_existing_database(fresh_settings: Settings) -> None:
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    first = current_revision(engine)
    upgrade_database(engine)
    assert current_revision(engine) == first is not None
    engine.dispose()
