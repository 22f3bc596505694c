"""identities: SSO identities by issuer + subject, sign-in throttles, TOTP secrets

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03 13:32:44

- ``user_identity``: an identity provider's (issuer, subject), unique, linked to a
  user (NULL while it waits for an admin); the email the provider gave is kept to
  show the admin, never used to sign in.
- ``login_throttle``: failed password sign-ins per account name and per client
  address, and until when each is locked.
- ``user_totp``: a user's TOTP secret, AES-GCM encrypted under a key kept outside
  the database, and the newest time step accepted (no code is accepted twice).

0007 is reserved by another change that had not landed when this was written: when
it lands, its ``down_revision`` and this one's must form one chain.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types


revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = models.types.UTCDateTime(timezone=True)


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", _text(10), nullable=False),
        sa.Column("key", _text(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", _TS, nullable=False),
        sa.Column("locked_until", _TS, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "key", name="uq_login_throttle_scope_key"),
    )
    op.create_table(
        "user_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", _text(255), nullable=False),
        sa.Column("subject", _text(255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("email", _text(254), nullable=False),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("provider_name", _text(100), nullable=False),
        sa.Column("linked_by", _text(60), nullable=True),
        sa.Column("linked_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "subject", name="uq_user_identity_iss_sub"),
    )
    with op.batch_alter_table("user_identity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_identity_user_id"), ["user_id"], unique=False)
    op.create_table(
        "user_totp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", _text(200), nullable=False),
        sa.Column("confirmed_at", _TS, nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", name="uq_user_totp_user"),
    )


def downgrade() -> None:
    op.drop_table("user_totp")
    with op.batch_alter_table("user_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_identity_user_id"))
    op.drop_table("user_identity")
    op.drop_table("login_throttle")
