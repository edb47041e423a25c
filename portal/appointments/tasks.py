"""The worker's rendez-vous tasks: reminders 48 hours before, and the purge of old appointments.

Each reminder is its own unit of work (marked sent in the same commit as its notification),
so a crash never sends one twice nor loses one.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal import db
from portal.appointments import notices, services
from portal.appointments.models import Appointment
from portal.db import utcnow
from portal.worker import task


def send_reminders(now=None) -> int:
    now = now or utcnow()
    horizon = now + timedelta(hours=current_app.config["APPOINTMENTS_REMINDER_HOURS"])
    ids = list(db.session.scalars(select(Appointment.id).where(
        Appointment.status == "booked", Appointment.reminder_sent_at.is_(None),
        Appointment.starts_at > now, Appointment.starts_at <= horizon)))
    db.session.commit()
    sent = 0
    with current_app.test_request_context():  # links are built without a visitor's request
        for appointment_id in ids:
            appointment = db.session.get(Appointment, appointment_id)
            if appointment is None or appointment.reminder_sent_at is not None or not appointment.is_active:
                db.session.rollback()
                continue
            appointment.reminder_sent_at = now
            notices.reminder(appointment)
            db.session.commit()
            sent += 1
    return sent


@task
def appointment_reminders():
    """Rendez-vous in the next 48 hours that have not been reminded yet."""
    return send_reminders()


@task
def appointment_holds():
    """Freed slots offered to the waiting list and not confirmed in time go to the next person."""
    with current_app.test_request_context():
        expired = services.expire_holds()
        db.session.commit()
    return expired


@task
def title_collection_reminders():
    """Titles still waiting a month before their destruction date: the person is reminded once."""
    from portal.appointments.models import TitleReady
    from portal.appointments.slots import PARIS

    today = utcnow().astimezone(PARIS).date()
    ids = services.titles_due_for_reminder(today)
    db.session.commit()
    with current_app.test_request_context():
        for title_id in ids:
            title = db.session.get(TitleReady, title_id)
            if title is None or title.reminder_sent_at is not None:
                db.session.rollback()
                continue
            title.reminder_sent_at = utcnow()
            motif = services.collection_motif(title.lieu_id)
            notices.title_reminder(title, motif.id if motif else None)
            db.session.commit()
    return len(ids)


@task
def appointment_purge():
    """Past appointments' personal data is kept APPOINTMENTS_PURGE_DAYS days, then deleted."""
    days = current_app.config["APPOINTMENTS_PURGE_DAYS"]
    removed = services.purge_past(utcnow() - timedelta(days=days))
    db.session.commit()
    return removed
