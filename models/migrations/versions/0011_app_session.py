"""app sessions: the server side of the app's session cookie

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 12:00:00

``app_session``: one row per signed-in browser session (every tab of it), named in
the browser's signed cookie by a random id whose sha256 is stored here; ``ended_at``
set on sign-out, idle time or lifetime revokes the cookie everywhere.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = models.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "app_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash", name="uq_app_session_token_hash"),
    )
    with op.batch_alter_table("app_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_session_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("app_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_session_user_id"))
    op.drop_table("app_session")
