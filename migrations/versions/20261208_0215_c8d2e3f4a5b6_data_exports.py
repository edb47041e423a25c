"""« Télécharger mes données »: exports prepared by the worker, stored encrypted in slices.

Revision ID: c8d2e3f4a5b6
Revises: b41f0c2d8e67
Create Date: 2026-12-08 02:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision = "c8d2e3f4a5b6"
down_revision = 'b41f0c2d8e67'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ready_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_data_exports_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_exports_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_exports_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "data_export_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["export_id"], ["data_exports.id"],
                                name=op.f("fk_data_export_parts_export_id_data_exports"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_export_parts")),
    )
    with op.batch_alter_table("data_export_parts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_export_parts_export_id"), ["export_id"], unique=False)


def downgrade() -> None:
    op.drop_table("data_export_parts")
    op.drop_table("data_exports")
