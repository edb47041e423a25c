"""outbox message id: a Message-ID per outbox row, made when queued and kept across retries.

Rows already queued get one built from their id, so every row has one.

Revision ID: 7d3e5a1c9b20
Revises: 59829926eafc
Create Date: 2026-12-08 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '7d3e5a1c9b20'
down_revision = '59829926eafc'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
    op.execute("UPDATE outbox_emails SET message_id = '<outbox-' || CAST(id AS VARCHAR(20)) "
               "|| '@guichet.localhost>' WHERE message_id IS NULL")
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.alter_column('message_id', existing_type=sa.String(length=255), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_emails_message_id'), ['message_id'])


def downgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_emails_message_id'), type_='unique')
        batch_op.drop_column('message_id')
