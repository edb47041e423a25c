"""One civilité vocabulary (« Madame », « Monsieur », as the procedures use); the account's language.

The profile and the relations stored « Mme » / « M. » while the procedures expect « Madame » /
« Monsieur », so the civilité was never prefilled. Stored values are rewritten; snapshots
already frozen in submitted requests are left as they were filed.

Revision ID: b7c1e2d3f4a5
Revises: 7d3e5a1c9b20
Create Date: 2026-12-08 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b7c1e2d3f4a5"
down_revision = '7d3e5a1c9b20'
branch_labels = None
depends_on = None

OLD_TO_NEW = {"Mme": "Madame", "M.": "Monsieur"}


def _rewrite(mapping: dict[str, str]) -> None:
    for table in ("users", "relations"):
        for old, new in mapping.items():
            op.execute(sa.text(f"UPDATE {table} SET civilite = :new WHERE civilite = :old")
                       .bindparams(new=new, old=old))


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))
    _rewrite(OLD_TO_NEW)


def downgrade() -> None:
    _rewrite({new: old for old, new in OLD_TO_NEW.items()})
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
