"""A personal-data export: asked for in « Mon compte », prepared by the worker, kept a few days."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow

STATUSES = ("pending", "ready")


class DataExport(Base):
    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # one of STATUSES
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)

    parts: Mapped[list[DataExportPart]] = relationship(
        back_populates="export", cascade="all, delete-orphan", order_by="DataExportPart.position")


class DataExportPart(Base):
    """One encrypted slice of the ZIP: the archive is stored and sent slice by slice, so
    neither the worker nor the download ever holds a whole export in memory."""

    __tablename__ = "data_export_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("data_exports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(80))  # see portal.files (orphan sweep)

    export: Mapped[DataExport] = relationship(back_populates="parts")
