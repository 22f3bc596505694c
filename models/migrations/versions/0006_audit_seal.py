"""audit seal: events appended unchained, sealed later with a keyed HMAC; insert-only roles

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 09:00:00

- ``prev_hash``/``hash`` become nullable (NULL until sealed); ``seal_seq`` (the
  chain position, unique) and ``sealed_at`` are added, with a partial index on
  the unsealed rows for the sealer.
- The append-only triggers now allow one UPDATE: an unsealed row getting its four
  seal columns, every other column unchanged. Everything else is still refused.
- The legacy chain (plain SHA-256) is checked first; a broken one stops the
  upgrade (a tampered trail must not be re-sealed as if intact). Its hashes are
  then cleared, and the first seal chains the old events under the HMAC key.
- PostgreSQL only: roles ``claimdesk_audit_writer`` (INSERT on audit_event, the
  id sequence, SELECT of ``id`` for INSERT ... RETURNING) and
  ``claimdesk_audit_sealer`` (SELECT, UPDATE of the seal columns), NOLOGIN,
  created if missing (roles are cluster-wide: other databases may share them) and
  granted to the migrating user so the app can ``SET ROLE``. A user that may not
  create roles gets a NOTICE and the app writes as itself.
"""

import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_legacy = sa.table(
    "audit_event",
    sa.column("id", sa.Integer()),
    sa.column("at", models.types.UTCDateTime()),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("entity_type", sa.String()),
    sa.column("entity_id", sa.String()),
    sa.column("claim_id", sa.Integer()),
    sa.column("details", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
_GENESIS = "0" * 64


def _legacy_digest(row: sa.Row, prev_hash: str) -> str:
    payload = json.dumps(
        [
            row.at.isoformat(),
            row.actor,
            row.action,
            row.entity_type,
            row.entity_id,
            row.claim_id,
            row.details,
            prev_hash,
        ],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _legacy_rows(batch: int = 5000):  # type: ignore[no-untyped-def]
    last = 0
    while True:
        rows = (
            op.get_bind()
            .execute(
                sa.select(_legacy).where(_legacy.c.id > last).order_by(_legacy.c.id).limit(batch)
            )
            .all()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def _check_legacy_chain() -> None:
    expected = _GENESIS
    for row in _legacy_rows():
        if row.prev_hash != expected or _legacy_digest(row, row.prev_hash) != row.hash:
            raise RuntimeError(
                f"audit_event {row.id}: the existing (unkeyed) audit chain is broken there, so "
                "it is not re-sealed as if intact; investigate and restore audit_event from a "
                "backup taken before the change, then upgrade again."
            )
        expected = row.hash


def _rechain_legacy() -> None:
    """downgrade: the unkeyed chain again, over every row in id order."""
    prev = _GENESIS
    for row in _legacy_rows():
        digest = _legacy_digest(row, prev)
        op.get_bind().execute(
            sa.update(_legacy).where(_legacy.c.id == row.id).values(prev_hash=prev, hash=digest)
        )
        prev = digest


_SQLITE_SEAL_ONLY = """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    WHEN NOT (OLD.seal_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
      AND OLD.sealed_at IS NULL AND NEW.seal_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL
      AND NEW.hash IS NOT NULL AND NEW.id IS OLD.id AND NEW.at IS OLD.at
      AND NEW.actor IS OLD.actor AND NEW.action IS OLD.action
      AND NEW.entity_type IS OLD.entity_type AND NEW.entity_id IS OLD.entity_id
      AND NEW.claim_id IS OLD.claim_id AND NEW.details IS OLD.details)
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"""
_SQLITE_OLD_UPDATE = """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"""
_SQLITE_NO_DELETE = """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"""

# Nested IFs: OLD is not set in the statement-level TRUNCATE trigger.
_PG_SEAL_ONLY = """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF OLD.seal_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
           AND OLD.sealed_at IS NULL AND NEW.seal_seq IS NOT NULL
           AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
           AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor
           AND NEW.action = OLD.action AND NEW.entity_type = OLD.entity_type
           AND NEW.entity_id IS NOT DISTINCT FROM OLD.entity_id
           AND NEW.claim_id IS NOT DISTINCT FROM OLD.claim_id
           AND NEW.details::text = OLD.details::text THEN
          RETURN NEW;
        END IF;
      END IF;
      RAISE EXCEPTION 'audit_event is append-only';
    END $$"""
_PG_OLD = """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$"""

_PG_ROLES = """DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['claimdesk_audit_writer', 'claimdesk_audit_sealer'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION
        WHEN duplicate_object OR unique_violation THEN NULL;  -- another database's migration
        WHEN insufficient_privilege THEN
          RAISE NOTICE 'cannot create role %: audit events are written as %', r, session_user;
          CONTINUE;
      END;
    END IF;
    IF NOT pg_has_role(session_user, r, 'MEMBER') THEN
      BEGIN
        EXECUTE format('GRANT %I TO %I', r, session_user);
      EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
        RAISE NOTICE 'cannot grant role % to %: an administrator must', r, session_user;
      END;
    END IF;
  END LOOP;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'claimdesk_audit_writer') THEN
    GRANT INSERT, SELECT (id) ON audit_event TO claimdesk_audit_writer;
    EXECUTE format('GRANT USAGE ON SEQUENCE %s TO claimdesk_audit_writer',
                   pg_get_serial_sequence('audit_event', 'id'));
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'claimdesk_audit_sealer') THEN
    GRANT SELECT, UPDATE (seal_seq, prev_hash, hash, sealed_at)
      ON audit_event TO claimdesk_audit_sealer;
  END IF;
END $$"""
_PG_REVOKE = """DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['claimdesk_audit_writer', 'claimdesk_audit_sealer'] LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('REVOKE ALL ON audit_event FROM %I', r);
      EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM %I',
                     pg_get_serial_sequence('audit_event', 'id'), r);
    END IF;
  END LOOP;
END $$"""


def _alter_columns() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column("seal_seq", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("sealed_at", models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_audit_event_seal_seq"), ["seal_seq"], unique=True)
        batch_op.create_index(
            "ix_audit_event_unsealed",
            ["id"],
            unique=False,
            postgresql_where=sa.text("seal_seq IS NULL"),
            sqlite_where=sa.text("seal_seq IS NULL"),
        )


def _clear_legacy_hashes() -> None:
    op.execute("UPDATE audit_event SET prev_hash = NULL, hash = NULL")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _check_legacy_chain()
        _alter_columns()
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change")
        _clear_legacy_hashes()
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change")
        op.execute(_PG_SEAL_ONLY)
        op.execute(_PG_ROLES)
        return
    # SQLite's batch mode copies the table, which drops its triggers: made again after.
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    _check_legacy_chain()
    _alter_columns()
    _clear_legacy_hashes()
    op.execute(_SQLITE_SEAL_ONLY)
    op.execute(_SQLITE_NO_DELETE)


def _restore_columns() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_unsealed")
        batch_op.drop_index(batch_op.f("ix_audit_event_seal_seq"))
        batch_op.drop_column("sealed_at")
        batch_op.drop_column("seal_seq")
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_REVOKE)
        op.execute(_PG_OLD)
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change")
        _rechain_legacy()
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change")
        _restore_columns()
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    _rechain_legacy()
    _restore_columns()
    op.execute(_SQLITE_OLD_UPDATE)
    op.execute(_SQLITE_NO_DELETE)
