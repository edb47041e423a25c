"""What people are told about their appointment: the confirmation email (with an .ics), the
inbox notifications (cancel, move, reminder), and the calendar file itself."""

from __future__ import annotations

from datetime import UTC

from flask import current_app, url_for
from flask_babel import format_date, format_datetime

from portal.appointments.documents import COLLECTION_WARNINGS, WARNINGS, PersonChecklist, euros
from portal.appointments.models import STATUSES, Appointment
from portal.appointments.slots import PARIS
from portal.mail.services import absolute_url, queue_email

STATUS_LABELS = STATUSES


def when(appointment: Appointment) -> str:
    return format_datetime(appointment.starts_at.astimezone(PARIS), "EEEE d MMMM yyyy 'à' HH'h'mm")


def _escape(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """RFC 5545: lines of at most 75 octets, continued with a space."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode()) > 74:
            out.append(current)
            current = " "
        current += char
    out.append(current)
    return "\r\n".join(out)


def ics(appointment: Appointment) -> bytes:
    """A calendar event for the appointment (times in UTC, so no time-zone table is needed)."""
    host = current_app.config["PORTAL_BASE_URL"].split("//")[-1].split("/")[0] or "guichet"
    stamp = "%Y%m%dT%H%M%SZ"
    status = "CONFIRMED" if appointment.is_active else "CANCELLED"
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//{current_app.config['PORTAL_NAME']}//Rendez-vous//FR",
        "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "BEGIN:VEVENT",
        f"UID:rdv-{appointment.id}@{host}",
        f"DTSTAMP:{appointment.created_at.astimezone(UTC).strftime(stamp)}",
        f"DTSTART:{appointment.starts_at.astimezone(UTC).strftime(stamp)}",
        f"DTEND:{appointment.ends_at.astimezone(UTC).strftime(stamp)}",
        f"SUMMARY:{_escape('Rendez-vous : ' + appointment.motif.name)}",
        f"LOCATION:{_escape(appointment.lieu.name + ', ' + appointment.lieu.address)}",
        f"DESCRIPTION:{_escape('Personnes : ' + ', '.join(p.name for p in appointment.persons))}",
        f"STATUS:{status}", "END:VEVENT", "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()


def confirmed(appointment: Appointment, lists: list[PersonChecklist]) -> None:
    """Always emailed (a confirmation is not a notification one may switch off), with the .ics."""
    motif = appointment.motif
    queue_email(
        appointment.contact_email, f"Rendez-vous confirmé : {motif.name}", "appointment_confirmed",
        attachments=((f"rendez-vous-{appointment.id}.ics", "text/calendar", ics(appointment)),),
        appointment=appointment, when=when(appointment), lists=lists, euros=euros,
        total=euros(sum(c.stamp_cents for c in lists)),
        warnings=COLLECTION_WARNINGS if motif.kind == "retrait" else WARNINGS,
        show_url=absolute_url("appointments.show", appointment_id=appointment.id),
        cancel_url=absolute_url("appointments.cancel", appointment_id=appointment.id),
        move_url=absolute_url("appointments.move", appointment_id=appointment.id))


def _notify(appointment: Appointment, subject: str, message: str) -> None:
    from portal.accounts.models import User
    from portal.db import session
    from portal.notifications.services import notify

    user = session.get(User, appointment.user_id) if appointment.user_id else None
    if user is not None:
        notify(user, "appointment", subject, message,
               link=url_for("appointments.show", appointment_id=appointment.id))


def cancelled(appointment: Appointment, by_service: bool = False) -> None:
    who = "par le service" if by_service else "à votre demande"
    message = f"Votre rendez-vous « {appointment.motif.name} » du {when(appointment)} a été annulé {who}."
    if appointment.cancel_message:
        message += f"\n\nMessage du service : {appointment.cancel_message}"
    _notify(appointment, "Rendez-vous annulé", message)


def moved(appointment: Appointment) -> None:
    _notify(appointment, "Rendez-vous déplacé",
            f"Votre rendez-vous « {appointment.motif.name} » a lieu désormais le {when(appointment)}, "
            f"{appointment.lieu.name}.")


def reminder(appointment: Appointment) -> None:
    _notify(appointment, "Rappel de votre rendez-vous",
            f"Rappel : rendez-vous « {appointment.motif.name} » le {when(appointment)}, "
            f"{appointment.lieu.name}, {appointment.lieu.address}. Pensez aux pièces à fournir.")


def offered(appointment: Appointment) -> None:
    """A freed slot held for the first waiting person (the ``Rendez-vous`` notification)."""
    until = format_datetime(appointment.hold_until.astimezone(PARIS), "d MMMM 'à' HH'h'mm")
    _notify(appointment, "Un créneau s'est libéré pour vous",
            f"Un créneau s'est libéré : « {appointment.motif.name} » le {when(appointment)}, "
            f"{appointment.lieu.name}. Il vous est réservé jusqu'au {until} : confirmez-le avant.")


def title_arrived(title, motif_id: int | None) -> None:
    """« Votre titre est disponible »: book a collection slot before the deadline."""
    from portal.accounts.models import User
    from portal.db import session
    from portal.notifications.services import notify

    user = session.get(User, title.user_id)
    deadline = format_date(title.deadline, "d MMMM yyyy")
    link = url_for("appointments.start", motif=motif_id) if motif_id else url_for("appointments.mine")
    notify(user, "appointment", f"Titre disponible : {title.holder_name}",
           f"Le titre d'identité de {title.holder_name} est arrivé ({title.lieu.name}). Prenez rendez-vous "
           f"pour le retirer avant le {deadline}. Passé ce délai, le titre sera automatiquement détruit, "
           "sans possibilité de remboursement.", link=link)


def title_reminder(title, motif_id: int | None) -> None:
    from portal.accounts.models import User
    from portal.db import session
    from portal.notifications.services import notify

    user = session.get(User, title.user_id)
    deadline = format_date(title.deadline, "d MMMM yyyy")
    link = url_for("appointments.start", motif=motif_id) if motif_id else url_for("appointments.mine")
    notify(user, "appointment", f"Rappel : titre à retirer avant le {deadline}",
           f"Le titre d'identité de {title.holder_name} vous attend ({title.lieu.name}) jusqu'au {deadline}. "
           "Passé ce délai, le titre sera automatiquement détruit.", link=link)
