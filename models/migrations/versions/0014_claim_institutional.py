"""claim institutional data (837I / UB-04)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 14:45:00

What an institutional claim carries beyond a professional one, as one JSON object
(``claimdesk.claims.institutional`` reads it): admission hour, type and source, patient
status, admitting diagnosis, condition, occurrence, occurrence span and value codes, the
operating and other operating physicians. ``{}`` for every claim that had none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("institutional", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_column("institutional")
