"""account requests: registration and forgotten password/identifier decided by the worker.

Revision ID: b41f0c2d8e67
Revises: b7c1e2d3f4a5
Create Date: 2026-12-08 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = 'b41f0c2d8e67'
down_revision = 'b7c1e2d3f4a5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('login', sa.String(length=320), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_requests'))
    )


def downgrade() -> None:
    op.drop_table('account_requests')
