"""The inbox ("Mes notifications") and the email preference per kind ("Mes préférences")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow

KINDS = ("status", "agent_message", "answer", "draft_reminder", "appointment", "document", "security")
ALWAYS_EMAILED = ("security",)  # account-security emails cannot be switched off


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the (user_id, read_at) index above, which serves the inbox and the badge.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # one of KINDS
    subject: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))  # a path inside the portal
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(Base):
    """Whether a kind of notification is also emailed. No row means yes (the default)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(default=True)
