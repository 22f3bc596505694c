"""learned scrub rules

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:00:00

``learned_rule``: a scrub rule suggested from the office's own denials or written by
hand, approved by a lead (claimdesk.learning.approval); approved rows join the scrub.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = models.types.UTCDateTime(timezone=True)
_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "learned_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_code", _STR(length=80), nullable=False),
        sa.Column("kind", _STR(length=20), nullable=False),
        sa.Column("procedure_code", _STR(length=5), nullable=False),
        sa.Column("modifier", _STR(length=2), nullable=True),
        sa.Column("other_code", _STR(length=5), nullable=True),
        sa.Column("words", _STR(length=400), nullable=False),
        sa.Column("fix", _STR(length=200), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", _STR(length=12), nullable=False),
        sa.Column("created_by", _STR(length=80), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("decided_by", _STR(length=80), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("decision_reason", _STR(length=400), nullable=True),
        sa.Column("pack_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("learned_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learned_rule_payer_code"), ["payer_code"])
        batch_op.create_index(batch_op.f("ix_learned_rule_status"), ["status"])


def downgrade() -> None:
    with op.batch_alter_table("learned_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learned_rule_status"))
        batch_op.drop_index(batch_op.f("ix_learned_rule_payer_code"))
    op.drop_table("learned_rule")
