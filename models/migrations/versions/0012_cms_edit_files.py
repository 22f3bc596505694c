"""cms edit files: every loaded version of NCCI PTP, MUE, HCPCS and ICD-10-CM, and its rows

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:15:01

- ``edit_data_version``: one publication (kind + name unique) with its effective dates.
- ``edit_data_file``: each file loaded into a version, unique by content (kind + sha256)
  and by part (an NCCI PTP release comes in four), so a file loaded twice is kept once.
- ``ncci_ptp_edit``, ``mue_edit``, ``hcpcs_code``, ``icd10cm_code``: the rows, indexed by
  version and code for the scrubber's look-up by date of service.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "edit_data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("setting", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("loaded_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "name", name="uq_edit_data_version_kind_name"),
    )
    op.create_table(
        "edit_data_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("part", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("loaded_by", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("loaded_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["edit_data_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "sha256", name="uq_edit_data_file_kind_sha256"),
        sa.UniqueConstraint("version_id", "part", name="uq_edit_data_file_version_part"),
    )
    op.create_table(
        "hcpcs_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("short_description", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "long_description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False
        ),
        sa.Column("added", sa.Date(), nullable=True),
        sa.Column("action_effective", sa.Date(), nullable=True),
        sa.Column("terminated", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["edit_data_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hcpcs_code", schema=None) as batch_op:
        batch_op.create_index("ix_hcpcs_code_code", ["version_id", "code"], unique=False)

    op.create_table(
        "icd10cm_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["edit_data_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("icd10cm_code", schema=None) as batch_op:
        batch_op.create_index("ix_icd10cm_code_code", ["version_id", "code"], unique=False)

    op.create_table(
        "mue_edit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("adjudication", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column("rationale", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["edit_data_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mue_edit", schema=None) as batch_op:
        batch_op.create_index("ix_mue_edit_code", ["version_id", "code"], unique=False)

    op.create_table(
        "ncci_ptp_edit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("column1", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("column2", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("prior_to_1996", sa.Boolean(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("deletion", sa.Date(), nullable=True),
        sa.Column("modifier_indicator", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column("rationale", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["edit_data_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ncci_ptp_edit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ncci_ptp_edit_pair", ["version_id", "column1", "column2"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ncci_ptp_edit", schema=None) as batch_op:
        batch_op.drop_index("ix_ncci_ptp_edit_pair")

    op.drop_table("ncci_ptp_edit")
    with op.batch_alter_table("mue_edit", schema=None) as batch_op:
        batch_op.drop_index("ix_mue_edit_code")

    op.drop_table("mue_edit")
    with op.batch_alter_table("icd10cm_code", schema=None) as batch_op:
        batch_op.drop_index("ix_icd10cm_code_code")

    op.drop_table("icd10cm_code")
    with op.batch_alter_table("hcpcs_code", schema=None) as batch_op:
        batch_op.drop_index("ix_hcpcs_code_code")

    op.drop_table("hcpcs_code")
    op.drop_table("edit_data_file")
    op.drop_table("edit_data_version")
