"""patient phone and medical record number

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:00:00

A patient's phone and the identifier the practice's record system gives them (FHIR
Patient.identifier of type MR), set by ``claimdesk patients import`` and ``fhir import``;
NULL when not known. One medical record number per patient within a practice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "medical_record_number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
            )
        )
        batch_op.create_unique_constraint(
            "uq_patient_mrn", ["practice_id", "medical_record_number"]
        )


def downgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_constraint("uq_patient_mrn", type_="unique")
        batch_op.drop_column("medical_record_number")
        batch_op.drop_column("phone")
