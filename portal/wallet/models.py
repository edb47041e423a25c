"""Wallet documents: one row per file a person keeps in their Porte-documents."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow
from portal.files.models import CheckedFileMixin


class WalletDocument(CheckedFileMixin, Base):
    __tablename__ = "wallet_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Whom the document concerns: NULL is the person themself, otherwise one of their relations.
    # CASCADE, not SET NULL: a child's identity card must never turn into the person's own
    # document (NULL means "Moi") and be offered for their own procedures. Deleting a relation
    # deletes its documents; ``delete_documents_of_relation`` removes their stored files first.
    relation_id: Mapped[int | None] = mapped_column(ForeignKey("relations.id", ondelete="CASCADE"),
                                                    index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(150))
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)  # server-made, see portal.files
    original_name: Mapped[str] = mapped_column(String(200))  # cleaned display name
    content_type: Mapped[str] = mapped_column(String(50))  # from the content, never the browser
    size: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date | None] = mapped_column(Date)  # date de délivrance
    valid_until: Mapped[date | None] = mapped_column(Date)  # date de fin de validité
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
