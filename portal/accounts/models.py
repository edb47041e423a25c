"""Accounts: people, their server-side sessions, single-use tokens and login throttling."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow

ROLES = ("citizen", "organisation", "agent", "admin")
# One vocabulary for the profile, the relations and the procedures' ``prefill: civilite``
# choices (checked at load): the stored value is the word the procedures and letters use.
CIVILITES = ("Madame", "Monsieur")
LANGUAGES = ("fr", "en")  # interface languages; the account keeps the last one chosen


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(15), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Provisioned accounts (seed 000) log in once with a mailed temporary password.
    temp_password_hash: Mapped[str | None] = mapped_column(String(255))
    temp_password_expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | provisioned
    role: Mapped[str] = mapped_column(String(20), default="citizen")
    organisation: Mapped[str | None] = mapped_column(String(200))

    language: Mapped[str | None] = mapped_column(String(5))  # one of LANGUAGES, None: French
    civilite: Mapped[str | None] = mapped_column(String(10))  # one of CIVILITES
    nom: Mapped[str | None] = mapped_column(String(100))
    prenom: Mapped[str | None] = mapped_column(String(100))
    date_naissance: Mapped[date | None] = mapped_column(Date)
    lieu_naissance: Mapped[str | None] = mapped_column(String(120))
    adresse: Mapped[str | None] = mapped_column(String(250))
    code_postal: Mapped[str | None] = mapped_column(String(5))
    commune: Mapped[str | None] = mapped_column(String(120))
    telephone: Mapped[str | None] = mapped_column(String(20))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]

    sessions: Mapped[list[AuthSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def display_name(self) -> str:
        full = " ".join(p for p in (self.prenom, self.nom) if p)
        return full or self.email


class AuthSession(Base):
    """A logged-in browser. Deleting the row ends that session on the server side."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the worker's purge
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A provisioned account that logged in with its temporary password may only finish
    # its first connection until it has chosen its own password.
    first_connection: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="sessions")


class Token(Base):
    """A single-use, expiring secret sent by email. Only its hash is stored."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(30))  # register | reset | email_change
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the worker's purge
    used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed logins per key ("id:<identifier>" or "ip:<address>"), for a growing delay.

    Keys exist for unknown identifiers too, so the delay never tells whether an
    account exists, and the delay always ends: no attacker can lock a victim out.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the worker's purge


class AccountRequest(Base):
    """"Create my account", "forgotten password", "forgotten identifier": recorded as typed.

    The request writes this same row whether or not an account exists, so its timing tells
    nothing; the worker looks the account up, decides which email to send, and deletes the row."""

    __tablename__ = "account_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # register | password_reset | identifier_reminder
    login: Mapped[str] = mapped_column(String(320))  # the email or identifier as typed, trimmed
    locale: Mapped[str] = mapped_column(String(5), default="fr")  # the email's language
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
