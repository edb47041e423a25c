"""indexes for every foreign key and the worker's passes; the worker's periodic guards.

``dossier_events.by_user_id`` was the only foreign key without an index (deleting an account
scanned the whole history); the draft purge, the session/token/throttle purge and the stash
purge read by date. ``worker_guards`` keeps when each periodic job last ran, so a cron-driven
``worker --once`` and several workers run the six-hourly sweep once in six hours.

Revision ID: 59829926eafc
Revises: 3f9c2a71d5e4
Create Date: 2026-12-08 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision = "59829926eafc"
down_revision = '3f9c2a71d5e4'
branch_labels = None
depends_on = None

DRAFTS = sa.text("submitted_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "worker_guards",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("last_run_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_guards")),
    )
    op.create_index(op.f("ix_dossier_events_by_user_id"), "dossier_events", ["by_user_id"])
    op.create_index("ix_dossiers_drafts_updated_at", "dossiers", ["updated_at"],
                    postgresql_where=DRAFTS, sqlite_where=DRAFTS)
    op.create_index(op.f("ix_draft_stashes_created_at"), "draft_stashes", ["created_at"])
    op.create_index(op.f("ix_auth_sessions_created_at"), "auth_sessions", ["created_at"])
    op.create_index(op.f("ix_tokens_expires_at"), "tokens", ["expires_at"])
    op.create_index(op.f("ix_login_throttles_updated_at"), "login_throttles", ["updated_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_throttles_updated_at"), table_name="login_throttles")
    op.drop_index(op.f("ix_tokens_expires_at"), table_name="tokens")
    op.drop_index(op.f("ix_auth_sessions_created_at"), table_name="auth_sessions")
    op.drop_index(op.f("ix_draft_stashes_created_at"), table_name="draft_stashes")
    op.drop_index("ix_dossiers_drafts_updated_at", table_name="dossiers")
    op.drop_index(op.f("ix_dossier_events_by_user_id"), table_name="dossier_events")
    op.drop_table("worker_guards")
