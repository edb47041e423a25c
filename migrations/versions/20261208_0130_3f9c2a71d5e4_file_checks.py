"""file checks: uploaded files wait for the worker's full check (and virus scan) before use.

Files stored before this revision were checked in the request that uploaded them: they are
``ok``. New rows say ``pending`` themselves (the models' default).

Revision ID: 3f9c2a71d5e4
Revises: 05d2ce945d12
Create Date: 2026-12-08 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = '3f9c2a71d5e4'
down_revision = '05d2ce945d12'
branch_labels = None
depends_on = None

TABLES = ('wallet_documents', 'dossier_files')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('check_status', sa.String(length=20), server_default='ok', nullable=False))
            batch_op.add_column(sa.Column('check_message', sa.String(length=500), nullable=True))
            batch_op.add_column(sa.Column('check_attempts', sa.Integer(), server_default='0', nullable=False))
            batch_op.add_column(sa.Column('check_after', portal.db.UTCDateTime(timezone=True), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_check_status'), ['check_status'], unique=False)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_check_status'))
            batch_op.drop_column('check_after')
            batch_op.drop_column('check_attempts')
            batch_op.drop_column('check_message')
            batch_op.drop_column('check_status')
