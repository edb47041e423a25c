"""Rendez-vous: lieux and their guichets, rules (hours, closures, blocked periods), motifs,
and appointments. Slots are computed from the rules (``slots.py``), never stored; a booking
holds one ``rdv_slot_locks`` row per 5-minute unit and guichet, whose primary key makes a
second booking of the same time on the same guichet impossible on every database."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow

MOTIF_KINDS = {
    "passeport": "Passeport",
    "cni": "Carte nationale d'identité",
    "passeport_cni": "Passeport et carte d'identité",
    "retrait": "Retrait d'un titre",
}
ACTIVE_STATUSES = ("booked", "held")
STATUSES = {
    "booked": "À venir",
    "held": "Proposé : à confirmer",
    "seen": "Venu",
    "noshow": "Absent",
    "cancelled": "Annulé",
    "revoked": "Annulé par le service",
}

motif_lieux = Table(
    "rdv_motif_lieux", Base.metadata,
    Column("motif_id", ForeignKey("rdv_motifs.id", ondelete="CASCADE"), primary_key=True),
    Column("lieu_id", ForeignKey("rdv_lieux.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Lieu(Base):
    __tablename__ = "rdv_lieux"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    address: Mapped[str] = mapped_column(String(250))
    access_info: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    active: Mapped[bool] = mapped_column(default=True)

    guichets: Mapped[list[Guichet]] = relationship(back_populates="lieu", order_by="Guichet.id",
                                                   cascade="all, delete-orphan")
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        order_by="(OpeningHours.weekday, OpeningHours.start)", cascade="all, delete-orphan")
    closures: Mapped[list[Closure]] = relationship(order_by="Closure.start_date",
                                                   cascade="all, delete-orphan")


class Guichet(Base):
    """A counter: guichets of one lieu receive people in parallel."""

    __tablename__ = "rdv_guichets"

    id: Mapped[int] = mapped_column(primary_key=True)
    lieu_id: Mapped[int] = mapped_column(ForeignKey("rdv_lieux.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)

    lieu: Mapped[Lieu] = relationship(back_populates="guichets")


class OpeningHours(Base):
    """Weekly opening of a lieu: every active guichet receives during these hours."""

    __tablename__ = "rdv_opening_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    lieu_id: Mapped[int] = mapped_column(ForeignKey("rdv_lieux.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)


class Closure(Base):
    """Exceptional closure of a whole lieu, whole days (public holidays need no row)."""

    __tablename__ = "rdv_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    lieu_id: Mapped[int] = mapped_column(ForeignKey("rdv_lieux.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")


class BlockedPeriod(Base):
    """An absence or a meeting: one guichet (or all of the lieu's) takes nobody."""

    __tablename__ = "rdv_blocked_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    lieu_id: Mapped[int] = mapped_column(ForeignKey("rdv_lieux.id", ondelete="CASCADE"), index=True)
    guichet_id: Mapped[int | None] = mapped_column(ForeignKey("rdv_guichets.id", ondelete="CASCADE"),
                                                   index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200), default="")

    guichet: Mapped[Guichet | None] = relationship()


class Motif(Base):
    __tablename__ = "rdv_motifs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # one of MOTIF_KINDS
    name: Mapped[str] = mapped_column(String(150))
    minutes_per_person: Mapped[int] = mapped_column(Integer, default=15)
    max_persons: Mapped[int] = mapped_column(Integer, default=4)
    min_delay_hours: Mapped[int] = mapped_column(Integer, default=24)
    max_delay_days: Mapped[int] = mapped_column(Integer, default=21)  # « trois prochaines semaines »
    change_limit_hours: Mapped[int] = mapped_column(Integer, default=24)
    intro: Mapped[str] = mapped_column(Text, default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    predemande_url: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)

    lieux: Mapped[list[Lieu]] = relationship(secondary=motif_lieux, order_by="Lieu.name")

    @property
    def needs_predemande(self) -> bool:
        return self.kind != "retrait"


class Appointment(Base):
    __tablename__ = "rdv_appointments"
    __table_args__ = (Index("ix_rdv_appointments_lieu_id_starts_at", "lieu_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    motif_id: Mapped[int] = mapped_column(ForeignKey("rdv_motifs.id"), index=True)
    lieu_id: Mapped[int] = mapped_column(ForeignKey("rdv_lieux.id"))
    guichet_id: Mapped[int] = mapped_column(ForeignKey("rdv_guichets.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="booked")  # one of STATUSES
    # One submission, one booking: a double click or a retry finds the first one.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    contact_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    cancel_message: Mapped[str] = mapped_column(Text, default="")
    reminder_sent_at: Mapped[datetime | None]
    # A freed slot offered to the first person of the waiting list: theirs until this moment.
    hold_until: Mapped[datetime | None]

    motif: Mapped[Motif] = relationship()
    lieu: Mapped[Lieu] = relationship()
    guichet: Mapped[Guichet] = relationship()
    persons: Mapped[list[AppointmentPerson]] = relationship(
        back_populates="appointment", order_by="AppointmentPerson.id", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class AppointmentPerson(Base):
    """A person received at the appointment, with what decides their documents and stamp."""

    __tablename__ = "rdv_appointment_persons"
    __table_args__ = (
        # A pré-demande number holds one active appointment in the whole portal.
        Index("uq_rdv_appointment_persons_active_predemande", "predemande", unique=True,
              postgresql_where=text("active"), sqlite_where=text("active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("rdv_appointments.id", ondelete="CASCADE"), index=True)
    relation_id: Mapped[int | None] = mapped_column(ForeignKey("relations.id", ondelete="SET NULL"),
                                                    index=True)
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    situation: Mapped[str] = mapped_column(String(20))
    has_valid_id: Mapped[bool] = mapped_column(default=True)
    nom_usage: Mapped[bool] = mapped_column(default=False)
    separated_parents: Mapped[bool] = mapped_column(default=False)
    accompanying_parent: Mapped[str] = mapped_column(String(200), default="")
    predemande: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)

    appointment: Mapped[Appointment] = relationship(back_populates="persons")


class WaitlistEntry(Base):
    """« Prévenez-moi » when nothing is free: the persons as chosen, so a freed slot can be held
    for them at once and confirmed in one click."""

    __tablename__ = "rdv_waitlist"
    __table_args__ = (Index("ix_rdv_waitlist_lieu_id_status", "lieu_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    motif_id: Mapped[int] = mapped_column(ForeignKey("rdv_motifs.id", ondelete="CASCADE"), index=True)
    lieu_id: Mapped[int] = mapped_column(ForeignKey("rdv_lieux.id", ondelete="CASCADE"))
    persons: Mapped[list] = mapped_column(JSON)
    until: Mapped[date] = mapped_column(Date)  # the last day the person wants
    status: Mapped[str] = mapped_column(String(20), default="waiting")  # waiting|offered|booked|expired|cancelled
    offered_appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("rdv_appointments.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    motif: Mapped[Motif] = relationship()
    lieu: Mapped[Lieu] = relationship()


class TitleReady(Base):
    """A title (passport, card) arrived at the lieu: to collect within 3 months, or it is destroyed."""

    __tablename__ = "rdv_titles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lieu_id: Mapped[int] = mapped_column(ForeignKey("rdv_lieux.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("rdv_appointment_persons.id", ondelete="SET NULL"), unique=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    holder_birth_date: Mapped[date] = mapped_column(Date)
    arrived_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[date] = mapped_column(Date)
    reminder_sent_at: Mapped[datetime | None]
    collected_at: Mapped[datetime | None]

    lieu: Mapped[Lieu] = relationship()


class SlotLock(Base):
    """One row per 5-minute unit a booking covers on a guichet: the primary key is the guarantee."""

    __tablename__ = "rdv_slot_locks"

    guichet_id: Mapped[int] = mapped_column(ForeignKey("rdv_guichets.id", ondelete="CASCADE"),
                                            primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("rdv_appointments.id", ondelete="CASCADE"), index=True)


__all__ = ["Lieu", "Guichet", "OpeningHours", "Closure", "BlockedPeriod", "Motif", "Appointment",
           "AppointmentPerson", "SlotLock", "TitleReady", "WaitlistEntry", "MOTIF_KINDS", "STATUSES"]
