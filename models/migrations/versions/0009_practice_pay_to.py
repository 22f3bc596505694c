"""practice pay-to address

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:10:00

A practice's pay-to address (837P loop 2010AB), set by ``claimdesk office import``;
NULL when payments go to the practice's own address.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("pay_to_address_line1", 55),
    ("pay_to_address_line2", 55),
    ("pay_to_city", 30),
    ("pay_to_state", 2),
    ("pay_to_postal_code", 15),
)


def upgrade() -> None:
    with op.batch_alter_table("practice", schema=None) as batch_op:
        for name, length in _COLUMNS:
            batch_op.add_column(
                sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True)
            )


def downgrade() -> None:
    with op.batch_alter_table("practice", schema=None) as batch_op:
        for name, _length in reversed(_COLUMNS):
            batch_op.drop_column(name)
