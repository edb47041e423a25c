"""Démarches: a dossier is a draft until submitted, then a request with a status history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.files.models import CheckedFileMixin


class Dossier(Base):
    """One person's procedure: a draft (``submitted_at`` empty) or a submitted request.

    ``answers`` hold what the person typed, even invalid; ``version`` goes up on every save
    so a stale tab is detected; ``field_versions`` remember which save last changed each
    answer, for a per-field merge instead of last-write-wins.
    """

    __tablename__ = "dossiers"
    __table_args__ = (
        Index("ix_dossiers_user_submitted", "user_id", "submitted_at"),
        # The worker's draft purge reads drafts by age: a partial index keeps it flat however
        # many submitted requests accumulate.
        Index("ix_dossiers_drafts_updated_at", "updated_at",
              postgresql_where=text("submitted_at IS NULL"), sqlite_where=text("submitted_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    procedure_id: Mapped[str] = mapped_column(String(60))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    field_versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    current_step: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    purge_warned_at: Mapped[datetime | None]
    # For whom: None is the person themself; otherwise ``relations.snapshot(relation)``, a copy
    # that later edits or the deletion of the relation leave as it was.
    beneficiary: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    submitted_at: Mapped[datetime | None]
    status: Mapped[str | None] = mapped_column(String(40))
    status_changed_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    decided_at: Mapped[datetime | None]
    status_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    events: Mapped[list[DossierEvent]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", passive_deletes=True,
        order_by="DossierEvent.id")
    files: Mapped[list[DossierFile]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", passive_deletes=True,
        order_by="DossierFile.id")

    # Every UPDATE carries "WHERE version = <read>": two saves at the same instant cannot
    # overwrite each other at the database level either (the loser merges again).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    @property
    def is_draft(self) -> bool:
        return self.submitted_at is None

    @property
    def relation_id(self) -> int | None:
        return (self.beneficiary or {}).get("relation_id")

    @property
    def beneficiary_label(self) -> str:
        """"Vous-même", or "Léa Martin (Enfant)" as the relation was when chosen."""
        if not self.beneficiary:
            return "Vous-même"
        return f"{self.beneficiary.get('display_name')} ({self.beneficiary.get('kind_label')})"


class DossierEvent(Base):
    """A status change: who (an account, or the system for deadlines), when, and a note."""

    __tablename__ = "dossier_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(40))
    previous_status: Mapped[str | None] = mapped_column(String(40))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    by_label: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    dossier: Mapped[Dossier] = relationship(back_populates="events")


class DossierFile(CheckedFileMixin, Base):
    """An uploaded document, stored by ``portal.files`` under a server-made key."""

    __tablename__ = "dossier_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[str] = mapped_column(String(60))
    storage_key: Mapped[str] = mapped_column(String(80))
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    dossier: Mapped[Dossier] = relationship(back_populates="files")


class ReferenceCounter(Base):
    """The last number given per prefix and year (``CMI-2026-000042``)."""

    __tablename__ = "reference_counters"
    __table_args__ = (UniqueConstraint("prefix", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer, default=0)


class DraftStash(Base):
    """Answers posted after the session expired, kept until the person logs in again.

    Only the hash of the token is stored; the token travels in the login ``next`` link and
    the answers are applied only to a draft of the account that logs in.
    """

    __tablename__ = "draft_stashes"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
