"""Rendez-vous operations. Services never commit: the request (or the worker) does.

Booking cannot give one time twice: it re-computes the free slots inside the transaction,
then inserts one ``SlotLock`` row per 5-minute unit; a concurrent booking of the same
guichet and time violates their primary key and is refused (inside a savepoint, so the
person's request carries on with a clear message and the next free slots).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import db
from portal.appointments import slots as slot_rules
from portal.appointments.documents import PersonChecklist, PersonSituation, checklist
from portal.appointments.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentPerson,
    BlockedPeriod,
    Closure,
    Lieu,
    Motif,
    SlotLock,
    TitleReady,
    WaitlistEntry,
)
from portal.db import utcnow

PREDEMANDE_RE = re.compile(r"^[A-Z0-9]{10}$")
NEXT_SLOTS_SHOWN = 6


class BookingRefused(Exception):
    """A booking that cannot be made; ``message`` is for the person, in French."""

    def __init__(self, message: str, next_slots: list[datetime] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.next_slots = next_slots or []


class SlotTaken(BookingRefused):
    pass


class PredemandeTaken(BookingRefused):
    pass


@dataclass(frozen=True)
class PersonRequest:
    """One person of a booking, as chosen in the journey."""

    name: str
    birth_date: date
    situation: str
    has_valid_id: bool = True
    nom_usage: bool = False
    separated_parents: bool = False
    accompanying_parent: str = ""
    predemande: str | None = None
    relation_id: int | None = None

    def as_situation(self) -> PersonSituation:
        return PersonSituation(self.name, self.birth_date, self.situation, self.has_valid_id,
                               self.nom_usage, self.separated_parents)


@dataclass(frozen=True)
class Caller:
    """Someone booked by an agent over the phone: no account, an email if they gave one."""

    id: None
    email: str


def normalise_predemande(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper()


def predemande_is_valid(value: str) -> bool:
    return bool(PREDEMANDE_RE.match(value))


# --- reading ------------------------------------------------------------------------------


def active_motifs() -> list[Motif]:
    return list(db.session.scalars(select(Motif).where(Motif.active).order_by(Motif.id)))


def get_motif(motif_id: int | None, active_only: bool = True) -> Motif | None:
    motif = db.session.get(Motif, motif_id) if motif_id else None
    if motif is None or (active_only and not motif.active):
        return None
    return motif


def lieux_for(motif: Motif) -> list[Lieu]:
    return [lieu for lieu in motif.lieux if lieu.active]


def duration_for(motif: Motif, persons: int) -> timedelta:
    """A family books one slot long enough for everyone."""
    return timedelta(minutes=motif.minutes_per_person * max(persons, 1))


def schedule_for(lieu: Lieu, start: datetime, end: datetime, ignore: int | None = None) -> slot_rules.Schedule:
    """The lieu's rules and what is already taken between ``start`` and ``end``."""
    guichet_ids = [g.id for g in lieu.guichets if g.active]
    busy = [slot_rules.Busy(b.starts_at, b.ends_at, b.guichet_id) for b in db.session.scalars(
        select(BlockedPeriod).where(BlockedPeriod.lieu_id == lieu.id, BlockedPeriod.ends_at > start,
                                    BlockedPeriod.starts_at < end))]
    taken = select(Appointment.starts_at, Appointment.ends_at, Appointment.guichet_id).where(
        Appointment.lieu_id == lieu.id, Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.ends_at > start, Appointment.starts_at < end)
    if ignore is not None:
        taken = taken.where(Appointment.id != ignore)
    busy += [slot_rules.Busy(s, e, g) for s, e, g in db.session.execute(taken)]
    closed: list[date] = []
    for closure in lieu.closures:
        day = closure.start_date
        while day <= closure.end_date:
            closed.append(day)
            day += timedelta(days=1)
    opening = [slot_rules.OpeningRule(h.weekday, h.start, h.end) for h in lieu.opening_hours]
    return slot_rules.Schedule(guichet_ids, opening, closed, busy)


def free_slots(motif: Motif, lieu: Lieu, persons: int, now: datetime | None = None,
               ignore: int | None = None, within: tuple[datetime, datetime] | None = None
               ) -> list[slot_rules.Slot]:
    """Free slots of the booking window (or of its part ``within``, to re-check one time)."""
    now = now or utcnow()
    start, end = slot_rules.booking_window(now, timedelta(hours=motif.min_delay_hours),
                                           motif.max_delay_days)
    if within is not None:
        start, end = max(start, within[0]), min(end, within[1])
    return slot_rules.free_slots(schedule_for(lieu, start, end, ignore), duration_for(motif, persons),
                                 start, end, step=timedelta(minutes=motif.minutes_per_person))


def next_free_starts(motif: Motif, lieu: Lieu, persons: int, ignore: int | None = None) -> list[datetime]:
    starts: list[datetime] = []
    for slot in free_slots(motif, lieu, persons, ignore=ignore):
        if not starts or starts[-1] != slot.start:
            starts.append(slot.start)
        if len(starts) == NEXT_SLOTS_SHOWN:
            break
    return starts


def predemandes_in_use(numbers: list[str], ignore: int | None = None) -> list[str]:
    if not numbers:
        return []
    query = select(AppointmentPerson.predemande).where(
        AppointmentPerson.active, AppointmentPerson.predemande.in_(numbers))
    if ignore is not None:
        query = query.where(AppointmentPerson.appointment_id != ignore)
    return sorted(set(db.session.scalars(query)))


def checklists(motif: Motif, persons: list[PersonRequest] | list[AppointmentPerson],
               on: date) -> list[PersonChecklist]:
    return [checklist(motif.kind, p.as_situation() if isinstance(p, PersonRequest) else PersonSituation(
        p.name, p.birth_date, p.situation, p.has_valid_id, p.nom_usage, p.separated_parents), on)
        for p in persons]


def appointments_of(user) -> tuple[list[Appointment], list[Appointment]]:
    """« Mes rendez-vous »: upcoming (soonest first), then past or cancelled (latest first)."""
    rows = list(db.session.scalars(
        select(Appointment).where(Appointment.user_id == user.id)
        .options(selectinload(Appointment.persons)).order_by(Appointment.starts_at)))
    now = utcnow()
    upcoming = [a for a in rows if a.is_active and a.ends_at > now]
    past = [a for a in reversed(rows) if a not in upcoming]
    return upcoming, past


def get_appointment(user, appointment_id: int) -> Appointment | None:
    """The person's own appointment, or None (a 404 for everybody else)."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.user_id != user.id:
        return None
    return appointment


def can_change(appointment: Appointment, now: datetime | None = None) -> bool:
    now = now or utcnow()
    limit = timedelta(hours=appointment.motif.change_limit_hours)
    return appointment.is_active and appointment.starts_at - limit > now


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


# --- booking ------------------------------------------------------------------------------


def _existing_for_key(key: str) -> Appointment | None:
    return db.session.scalars(select(Appointment).where(Appointment.idempotency_key == key)).first()


def _refuse_taken(motif: Motif, lieu: Lieu, persons: int, ignore: int | None = None) -> SlotTaken:
    return SlotTaken("Ce créneau n'est plus disponible : une autre personne vient de le réserver. "
                     "Choisissez l'un des créneaux suivants.",
                     next_free_starts(motif, lieu, persons, ignore=ignore))


def _refuse_numbers(numbers: list[str]) -> PredemandeTaken:
    listed = ", ".join(numbers)
    return PredemandeTaken(f"Le numéro de pré-demande {listed} a déjà un rendez-vous à venir. "
                           "Annulez ce rendez-vous avant d'en prendre un autre avec ce numéro."
                           if len(numbers) == 1 else
                           f"Les numéros de pré-demande {listed} ont déjà un rendez-vous à venir.")


def _guichets_free_at(motif: Motif, lieu: Lieu, start: datetime, persons: int,
                      ignore: int | None = None) -> list[int]:
    duration = duration_for(motif, persons)
    return [slot.guichet_id for slot in free_slots(motif, lieu, persons, ignore=ignore,
                                                   within=(start, start + duration))
            if slot.start == start and slot.end == start + duration]


def _person_rows(persons: list[PersonRequest]) -> list[AppointmentPerson]:
    return [AppointmentPerson(
        relation_id=p.relation_id, name=p.name, birth_date=p.birth_date, situation=p.situation,
        has_valid_id=p.has_valid_id, nom_usage=p.nom_usage, separated_parents=p.separated_parents,
        accompanying_parent=p.accompanying_parent, predemande=p.predemande) for p in persons]


def _lock(appointment: Appointment) -> None:
    for unit in slot_rules.slot_units(appointment.starts_at, appointment.ends_at):
        db.session.add(SlotLock(guichet_id=appointment.guichet_id, starts_at=unit,
                                appointment_id=appointment.id))


def book(user, motif: Motif, lieu: Lieu, start: datetime, persons: list[PersonRequest],
         key: str) -> tuple[Appointment, bool]:
    """Book ``start`` for these persons. Returns (appointment, created); the same ``key`` again
    returns the first booking. Raises SlotTaken or PredemandeTaken with the French message."""
    existing = _existing_for_key(key)
    if existing is not None:
        if existing.user_id != user.id:
            raise BookingRefused("Ce formulaire a déjà été utilisé. Recommencez la prise de rendez-vous.")
        return existing, False
    numbers = [p.predemande for p in persons if p.predemande]
    taken_numbers = predemandes_in_use(numbers)
    if taken_numbers:
        raise _refuse_numbers(taken_numbers)
    for guichet_id in _guichets_free_at(motif, lieu, start, len(persons)):
        savepoint = db.session.begin_nested()
        try:
            appointment = Appointment(
                user_id=user.id, motif_id=motif.id, lieu_id=lieu.id, guichet_id=guichet_id,
                starts_at=start, ends_at=start + duration_for(motif, len(persons)),
                idempotency_key=key, contact_email=user.email)
            appointment.persons = _person_rows(persons)
            db.session.add(appointment)
            db.session.flush()
            _lock(appointment)
            db.session.flush()
            savepoint.commit()
            return appointment, True
        except IntegrityError:
            savepoint.rollback()
            existing = _existing_for_key(key)
            if existing is not None and existing.user_id == user.id:
                return existing, False  # the double click that won
            taken_numbers = predemandes_in_use(numbers)
            if taken_numbers:
                raise _refuse_numbers(taken_numbers) from None
            continue  # this guichet went to someone else a moment ago: try the next one
    raise _refuse_taken(motif, lieu, len(persons))


def _release(appointment: Appointment) -> None:
    db.session.execute(delete(SlotLock).where(SlotLock.appointment_id == appointment.id))
    for person in appointment.persons:
        person.active = False


def cancel(appointment: Appointment, by_service: bool = False, message: str = "") -> None:
    """Cancel, and offer the freed time to the waiting list (the first person gets a hold)."""
    freed = (appointment.lieu_id, appointment.guichet_id, appointment.starts_at, appointment.ends_at)
    appointment.status = "revoked" if by_service else "cancelled"
    appointment.cancelled_at = utcnow()
    appointment.cancel_message = message
    appointment.hold_until = None
    _release(appointment)
    db.session.flush()
    offer_freed(*freed)


def move(appointment: Appointment, start: datetime) -> None:
    """Another time at the same lieu, same persons: the old slot is freed in the same transaction."""
    motif, lieu, persons = appointment.motif, appointment.lieu, len(appointment.persons)
    freed = (appointment.lieu_id, appointment.guichet_id, appointment.starts_at, appointment.ends_at)
    for guichet_id in _guichets_free_at(motif, lieu, start, persons, ignore=appointment.id):
        savepoint = db.session.begin_nested()
        try:
            db.session.execute(delete(SlotLock).where(SlotLock.appointment_id == appointment.id))
            appointment.guichet_id = guichet_id
            appointment.starts_at = start
            appointment.ends_at = start + duration_for(motif, persons)
            appointment.reminder_sent_at = None
            db.session.flush()
            _lock(appointment)
            db.session.flush()
            savepoint.commit()
            offer_freed(*freed)
            return
        except IntegrityError:
            savepoint.rollback()
            db.session.refresh(appointment)
            continue
    raise _refuse_taken(motif, lieu, persons, ignore=appointment.id)


def set_status(appointment: Appointment, status: str) -> None:
    """The agent's « venu » / « absent »: the numbers are free again after an absence; a
    « Retrait » appointment attended hands over the titles waiting for its persons."""
    appointment.status = status
    if status != "booked":
        _release(appointment)
    if status == "seen" and appointment.motif.kind == "retrait":
        collect_titles(appointment)


def day_appointments(lieu: Lieu, day: date) -> list[Appointment]:
    start = datetime.combine(day, datetime.min.time(), slot_rules.PARIS)
    end = start + timedelta(days=1)
    return list(db.session.scalars(
        select(Appointment).where(Appointment.lieu_id == lieu.id, Appointment.starts_at >= start,
                                  Appointment.starts_at < end)
        .options(selectinload(Appointment.persons)).order_by(Appointment.starts_at, Appointment.guichet_id)))


def purge_past(before: datetime) -> int:
    """Appointments that ended before ``before`` are deleted with their persons."""
    ids = list(db.session.scalars(select(Appointment.id).where(Appointment.ends_at < before)))
    if ids:
        db.session.execute(delete(Appointment).where(Appointment.id.in_(ids)))
    return len(ids)


def closures_overlapping(lieu: Lieu, start: date, end: date) -> list[Closure]:
    return [c for c in lieu.closures if c.start_date <= end and c.end_date >= start]



# --- waiting list -------------------------------------------------------------------------


def last_bookable_day(motif: Motif) -> date:
    return utcnow().astimezone(slot_rules.PARIS).date() + timedelta(days=motif.max_delay_days)


def join_waitlist(user, motif: Motif, lieu: Lieu, persons: list[PersonRequest], until: date) -> WaitlistEntry:
    entry = WaitlistEntry(user_id=user.id, motif_id=motif.id, lieu_id=lieu.id, until=until, persons=[
        {"name": p.name, "birth_date": p.birth_date.isoformat(), "situation": p.situation,
         "has_valid_id": p.has_valid_id, "nom_usage": p.nom_usage, "separated_parents": p.separated_parents,
         "accompanying_parent": p.accompanying_parent, "predemande": p.predemande,
         "relation_id": p.relation_id} for p in persons])
    db.session.add(entry)
    return entry


def waitlist_of(user) -> list[WaitlistEntry]:
    return list(db.session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.user_id == user.id, WaitlistEntry.status == "waiting").order_by(WaitlistEntry.id)))


def _entry_persons(entry: WaitlistEntry) -> list[PersonRequest]:
    return [PersonRequest(**{**p, "birth_date": date.fromisoformat(p["birth_date"])}) for p in entry.persons]


def offer_freed(lieu_id: int, guichet_id: int, start: datetime, end: datetime,
                now: datetime | None = None) -> Appointment | None:
    """Hold a freed time for the first waiting person it suits (same lieu, long enough, within
    their period and the motif's window); they confirm within the hold or it goes to the next."""
    from flask import current_app

    from portal.appointments import notices

    now = now or utcnow()
    if start <= now:
        return None
    entries = db.session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.lieu_id == lieu_id, WaitlistEntry.status == "waiting").order_by(WaitlistEntry.id))
    for entry in entries:
        motif, persons = entry.motif, _entry_persons(entry)
        duration = duration_for(motif, len(persons))
        window_start, window_end = slot_rules.booking_window(now, timedelta(hours=motif.min_delay_hours),
                                                             motif.max_delay_days)
        local_day = start.astimezone(slot_rules.PARIS).date()
        if (start + duration > end or start < window_start or start + duration > window_end
                or local_day > entry.until or not motif.active):
            continue
        savepoint = db.session.begin_nested()
        try:
            appointment = Appointment(
                user_id=entry.user_id, motif_id=motif.id, lieu_id=lieu_id, guichet_id=guichet_id,
                starts_at=start, ends_at=start + duration, status="held", idempotency_key=new_idempotency_key(),
                contact_email=_email_of(entry.user_id),
                hold_until=now + timedelta(minutes=current_app.config["APPOINTMENTS_HOLD_MINUTES"]))
            appointment.persons = _person_rows(persons)
            db.session.add(appointment)
            db.session.flush()
            _lock(appointment)
            db.session.flush()
            savepoint.commit()
        except IntegrityError:  # a number booked elsewhere meanwhile: this wish is outdated
            savepoint.rollback()
            entry.status = "expired"
            continue
        entry.status = "offered"
        entry.offered_appointment_id = appointment.id
        notices.offered(appointment)
        return appointment
    return None


def _email_of(user_id: int) -> str:
    from portal.accounts.models import User

    return db.session.get(User, user_id).email


def confirm_offer(appointment: Appointment) -> None:
    appointment.status = "booked"
    appointment.hold_until = None
    for entry in db.session.scalars(select(WaitlistEntry).where(
            WaitlistEntry.offered_appointment_id == appointment.id)):
        entry.status = "booked"


def expire_holds(now: datetime | None = None) -> int:
    """Holds not confirmed in time: released, and offered to the next waiting person."""
    now = now or utcnow()
    expired = 0
    for appointment in db.session.scalars(select(Appointment).where(
            Appointment.status == "held", Appointment.hold_until < now)).all():
        freed = (appointment.lieu_id, appointment.guichet_id, appointment.starts_at, appointment.ends_at)
        appointment.status = "cancelled"
        appointment.cancel_message = "Créneau proposé non confirmé à temps."
        appointment.hold_until = None
        _release(appointment)
        for entry in db.session.scalars(select(WaitlistEntry).where(
                WaitlistEntry.offered_appointment_id == appointment.id)):
            entry.status = "expired"
        db.session.flush()
        offer_freed(*freed, now=now)
        expired += 1
    return expired


# --- « Retrait d'un titre » ---------------------------------------------------------------

COLLECTION_MONTHS = 3


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def mark_title_arrived(person: AppointmentPerson, now: datetime | None = None) -> TitleReady:
    """The agent's « Titre arrivé »: the person has 3 months to collect it (one row per person)."""
    existing = db.session.scalars(select(TitleReady).where(TitleReady.person_id == person.id)).first()
    if existing is not None:
        return existing
    now = now or utcnow()
    appointment = person.appointment
    title = TitleReady(user_id=appointment.user_id, lieu_id=appointment.lieu_id, person_id=person.id,
                       holder_name=person.name, holder_birth_date=person.birth_date, arrived_at=now,
                       deadline=_add_months(now.astimezone(slot_rules.PARIS).date(), COLLECTION_MONTHS))
    db.session.add(title)
    db.session.flush()
    return title


def titles_to_collect(user) -> list[TitleReady]:
    return list(db.session.scalars(select(TitleReady).where(
        TitleReady.user_id == user.id, TitleReady.collected_at.is_(None)).order_by(TitleReady.deadline)))


def collect_titles(appointment: Appointment, now: datetime | None = None) -> int:
    """A « Retrait » appointment marked « venu »: the titles of the persons received are handed over."""
    names = {p.name for p in appointment.persons}
    collected = 0
    for title in db.session.scalars(select(TitleReady).where(
            TitleReady.user_id == appointment.user_id, TitleReady.lieu_id == appointment.lieu_id,
            TitleReady.collected_at.is_(None))):
        if title.holder_name in names:
            title.collected_at = now or utcnow()
            collected += 1
    return collected


def titles_due_for_reminder(today: date, days_before: int = 30) -> list[int]:
    return list(db.session.scalars(select(TitleReady.id).where(
        TitleReady.collected_at.is_(None), TitleReady.reminder_sent_at.is_(None),
        TitleReady.deadline <= today + timedelta(days=days_before), TitleReady.deadline >= today)))


def collection_rule(birth: date, on: date) -> str | None:
    """Who collects a minor's title (seed 002)."""
    from portal.appointments.documents import age_on

    age = age_on(birth, on)
    if age < 12:
        return "Le titre peut être retiré par l'un des titulaires de l'autorité parentale."
    if age < 18:
        return ("Le bénéficiaire se présente avec l'un des titulaires de l'autorité parentale "
                "(père, mère, tuteur légal).")
    return None


def collection_motif(lieu_id: int) -> Motif | None:
    """The « Retrait d'un titre » motif offered at this lieu, if any."""
    for motif in active_motifs():
        if motif.kind == "retrait" and any(lieu.id == lieu_id for lieu in motif.lieux):
            return motif
    return None
