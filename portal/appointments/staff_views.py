"""Staff pages (permission « gérer les rendez-vous »): lieux, guichets, hours, closures, blocked
periods, motifs, and the day view per lieu. Anyone else gets a 404."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, request, url_for
from sqlalchemy import select

from portal import db
from portal.appointments import notices, services
from portal.appointments.forms import (
    WEEKDAYS,
    BlockedForm,
    CancelByServiceForm,
    ClosureForm,
    GuichetForm,
    LieuForm,
    MotifForm,
    OpeningForm,
)
from portal.appointments.journey import parse_start, start_value
from portal.appointments.models import (
    MOTIF_KINDS,
    STATUSES,
    Appointment,
    AppointmentPerson,
    BlockedPeriod,
    Closure,
    Guichet,
    Lieu,
    Motif,
    OpeningHours,
    TitleReady,
)
from portal.appointments.slots import PARIS, is_public_holiday, starts_by_day
from portal.core.access import permission_required
from portal.core.web import form_status, render_page, see_other
from portal.db import utcnow

staff_bp = Blueprint("appointments_staff", __name__, url_prefix="/gestion/rendez-vous")
MANAGE = permission_required("gerer_rendez_vous")


def _lieu_or_404(lieu_id: int) -> Lieu:
    lieu = db.session.get(Lieu, lieu_id)
    if lieu is None:
        abort(404)
    return lieu


def _child_or_404(model, child_id: int, lieu: Lieu):
    row = db.session.get(model, child_id)
    if row is None or row.lieu_id != lieu.id:
        abort(404)
    return row


@staff_bp.get("")
@MANAGE
def index():
    lieux = list(db.session.scalars(select(Lieu).order_by(Lieu.name)))
    motifs = list(db.session.scalars(select(Motif).order_by(Motif.id)))
    return render_page("appointments/staff/index.html", lieux=lieux, motifs=motifs, kinds=MOTIF_KINDS)


@staff_bp.route("/lieux/nouveau", methods=["GET", "POST"])
@staff_bp.route("/lieux/<int:lieu_id>/modifier", methods=["GET", "POST"])
@MANAGE
def lieu_form(lieu_id: int | None = None):
    lieu = _lieu_or_404(lieu_id) if lieu_id else None
    form = LieuForm(obj=lieu)
    if form.validate_on_submit():
        if lieu is None:
            lieu = Lieu()
            db.session.add(lieu)
        form.populate_obj(lieu)
        db.session.flush()
        flash(f"Le lieu « {lieu.name} » est enregistré.", "success")
        return see_other("appointments_staff.lieu", lieu_id=lieu.id)
    return render_page("appointments/staff/lieu_form.html", form=form, lieu=lieu, status=form_status(form))


@staff_bp.get("/lieux/<int:lieu_id>")
@MANAGE
def lieu(lieu_id: int):
    lieu = _lieu_or_404(lieu_id)
    return _lieu_page(lieu)


def _lieu_page(lieu: Lieu, **forms):
    blocked_form = forms.get("blocked") or BlockedForm(prefix="bloc")
    blocked_form.guichet.choices = _guichet_choices(lieu)
    blocked = list(db.session.scalars(select(BlockedPeriod).where(
        BlockedPeriod.lieu_id == lieu.id, BlockedPeriod.ends_at > utcnow()).order_by(BlockedPeriod.starts_at)))
    errors = any(f.errors for f in forms.values())
    return render_page("appointments/staff/lieu.html", lieu=lieu, weekdays=WEEKDAYS, blocked=blocked,
                       guichet_form=forms.get("guichet") or GuichetForm(prefix="guichet"),
                       opening_form=forms.get("opening") or OpeningForm(prefix="horaire"),
                       closure_form=forms.get("closure") or ClosureForm(prefix="fermeture"),
                       blocked_form=blocked_form, page_has_errors=errors, paris=PARIS,
                       status=422 if errors else 200)


def _guichet_choices(lieu: Lieu) -> list[tuple[str, str]]:
    return [("", "Tous les guichets")] + [(str(g.id), g.name) for g in lieu.guichets]


@staff_bp.post("/lieux/<int:lieu_id>/guichets")
@MANAGE
def add_guichet(lieu_id: int):
    lieu = _lieu_or_404(lieu_id)
    form = GuichetForm(prefix="guichet")
    if not form.validate_on_submit():
        return _lieu_page(lieu, guichet=form)
    lieu.guichets.append(Guichet(name=form.name.data))
    flash(f"Le guichet « {form.name.data} » est ajouté.", "success")
    return see_other("appointments_staff.lieu", lieu_id=lieu.id)


@staff_bp.post("/lieux/<int:lieu_id>/guichets/<int:guichet_id>/basculer")
@MANAGE
def toggle_guichet(lieu_id: int, guichet_id: int):
    lieu = _lieu_or_404(lieu_id)
    guichet = _child_or_404(Guichet, guichet_id, lieu)
    guichet.active = not guichet.active
    flash(f"Le guichet « {guichet.name} » est {'ouvert' if guichet.active else 'fermé'} à la réservation.",
          "success")
    return see_other("appointments_staff.lieu", lieu_id=lieu.id)


@staff_bp.post("/lieux/<int:lieu_id>/horaires")
@MANAGE
def add_opening(lieu_id: int):
    lieu = _lieu_or_404(lieu_id)
    form = OpeningForm(prefix="horaire")
    if not form.validate_on_submit():
        return _lieu_page(lieu, opening=form)
    lieu.opening_hours.append(OpeningHours(weekday=int(form.weekday.data), start=form.start.parsed,
                                           end=form.end.parsed))
    flash("L'horaire est ajouté.", "success")
    return see_other("appointments_staff.lieu", lieu_id=lieu.id)


@staff_bp.post("/lieux/<int:lieu_id>/fermetures")
@MANAGE
def add_closure(lieu_id: int):
    lieu = _lieu_or_404(lieu_id)
    form = ClosureForm(prefix="fermeture")
    if not form.validate_on_submit():
        return _lieu_page(lieu, closure=form)
    start = form.start_date.parsed
    end = getattr(form.end_date, "parsed", None) or start
    lieu.closures.append(Closure(start_date=start, end_date=end, reason=form.reason.data or ""))
    flash("La fermeture exceptionnelle est ajoutée. Les rendez-vous déjà pris ces jours-là restent à "
          "annuler depuis la vue du jour.", "success")
    return see_other("appointments_staff.lieu", lieu_id=lieu.id)


@staff_bp.post("/lieux/<int:lieu_id>/indisponibilites")
@MANAGE
def add_blocked(lieu_id: int):
    lieu = _lieu_or_404(lieu_id)
    form = BlockedForm(prefix="bloc")
    form.guichet.choices = _guichet_choices(lieu)
    if not form.validate_on_submit():
        return _lieu_page(lieu, blocked=form)
    start, end = form.period()
    db.session.add(BlockedPeriod(lieu_id=lieu.id, guichet_id=int(form.guichet.data) if form.guichet.data else None,
                                 starts_at=start, ends_at=end, reason=form.reason.data or ""))
    flash("La période est bloquée : aucun nouveau rendez-vous n'y sera proposé.", "success")
    return see_other("appointments_staff.lieu", lieu_id=lieu.id)


REMOVABLE = {"horaires": OpeningHours, "fermetures": Closure, "indisponibilites": BlockedPeriod}


@staff_bp.post("/lieux/<int:lieu_id>/<kind>/<int:row_id>/supprimer")
@MANAGE
def remove(lieu_id: int, kind: str, row_id: int):
    lieu = _lieu_or_404(lieu_id)
    model = REMOVABLE.get(kind)
    if model is None:
        abort(404)
    db.session.delete(_child_or_404(model, row_id, lieu))
    flash("La ligne est supprimée.", "success")
    return see_other("appointments_staff.lieu", lieu_id=lieu.id)


@staff_bp.route("/motifs/nouveau", methods=["GET", "POST"])
@staff_bp.route("/motifs/<int:motif_id>/modifier", methods=["GET", "POST"])
@MANAGE
def motif_form(motif_id: int | None = None):
    motif = db.session.get(Motif, motif_id) if motif_id else None
    if motif_id and motif is None:
        abort(404)
    lieux = list(db.session.scalars(select(Lieu).order_by(Lieu.name)))
    form = MotifForm(obj=motif)
    form.lieux.choices = [(lieu.id, lieu.name) for lieu in lieux]
    if request.method == "GET":
        form.lieux.data = [lieu.id for lieu in motif.lieux] if motif else []
        if motif is None:
            form.minutes_per_person.data, form.max_persons.data = 15, 4
            form.min_delay_hours.data, form.max_delay_days.data, form.change_limit_hours.data = 24, 21, 24
    if form.validate_on_submit():
        if motif is None:
            motif = Motif()
            db.session.add(motif)
        chosen = set(form.lieux.data or [])
        for name in ("name", "kind", "minutes_per_person", "max_persons", "min_delay_hours", "max_delay_days",
                     "change_limit_hours", "intro", "instructions", "predemande_url", "active"):
            setattr(motif, name, getattr(form, name).data if getattr(form, name).data is not None else 0)
        motif.lieux = [lieu for lieu in lieux if lieu.id in chosen]
        flash(f"Le motif « {motif.name} » est enregistré.", "success")
        return see_other("appointments_staff.index")
    return render_page("appointments/staff/motif_form.html", form=form, motif=motif, status=form_status(form))


# --- the day view -------------------------------------------------------------------------


def _day_from(value: str | None) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return utcnow().astimezone(PARIS).date()


@staff_bp.get("/lieux/<int:lieu_id>/jour")
@permission_required("recevoir_rendez_vous")
def day(lieu_id: int):
    lieu = _lieu_or_404(lieu_id)
    chosen = _day_from(request.args.get("date"))
    appointments = services.day_appointments(lieu, chosen)
    lists = {a.id: services.checklists(a.motif, a.persons, chosen) for a in appointments}
    arrived = set(db.session.scalars(select(TitleReady.person_id).where(
        TitleReady.person_id.in_([p.id for a in appointments for p in a.persons]))))
    return render_page("appointments/staff/day.html", lieu=lieu, day=chosen, appointments=appointments,
                       lists=lists, statuses=STATUSES, paris=PARIS, holiday=is_public_holiday(chosen),
                       arrived=arrived,
                       previous=chosen - timedelta(days=1), next=chosen + timedelta(days=1))


def _staff_appointment(appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        abort(404)
    return appointment


@staff_bp.post("/rendez-vous/<int:appointment_id>/statut")
@permission_required("recevoir_rendez_vous")
def mark(appointment_id: int):
    appointment = _staff_appointment(appointment_id)
    status = request.form.get("status")
    if status not in ("seen", "noshow") or appointment.status not in ("booked", "seen", "noshow"):
        abort(404)
    services.set_status(appointment, status)
    flash(f"{appointment.persons[0].name if appointment.persons else 'Rendez-vous'} : "
          f"{STATUSES[status].lower()}.", "success")
    return see_other("appointments_staff.day", lieu_id=appointment.lieu_id,
                     date=appointment.starts_at.astimezone(PARIS).date().isoformat())


@staff_bp.route("/rendez-vous/<int:appointment_id>/annuler", methods=["GET", "POST"])
@permission_required("recevoir_rendez_vous")
def cancel(appointment_id: int):
    appointment = _staff_appointment(appointment_id)
    if not appointment.is_active:
        abort(404)
    form = CancelByServiceForm()
    if form.validate_on_submit():
        services.cancel(appointment, by_service=True, message=form.message.data)
        notices.cancelled(appointment, by_service=True)
        flash("Le rendez-vous est annulé et la personne est prévenue.", "success")
        return see_other("appointments_staff.day", lieu_id=appointment.lieu_id,
                         date=appointment.starts_at.astimezone(PARIS).date().isoformat())
    return render_page("appointments/staff/cancel.html", form=form, appointment=appointment,
                       when=notices.when(appointment), status=form_status(form),
                       back_url=url_for("appointments_staff.day", lieu_id=appointment.lieu_id,
                                        date=appointment.starts_at.astimezone(PARIS).date().isoformat()))


@staff_bp.post("/personnes/<int:person_id>/titre-arrive")
@permission_required("recevoir_rendez_vous")
def title_arrived(person_id: int):
    """« Titre arrivé »: the person is told and may book a collection slot within 3 months."""
    person = db.session.get(AppointmentPerson, person_id)
    if person is None or person.appointment.motif.kind == "retrait" or person.appointment.user_id is None:
        abort(404)
    title = services.mark_title_arrived(person)
    motif = services.collection_motif(title.lieu_id)
    notices.title_arrived(title, motif.id if motif else None)
    flash(f"Titre de {person.name} arrivé : la personne est prévenue.", "success")
    appointment = person.appointment
    return see_other("appointments_staff.day", lieu_id=appointment.lieu_id,
                     date=appointment.starts_at.astimezone(PARIS).date().isoformat())


@staff_bp.route("/lieux/<int:lieu_id>/reserver", methods=["GET", "POST"])
@permission_required("recevoir_rendez_vous")
def book_for_caller(lieu_id: int):
    """Booking for someone who calls: the same free slots and the same guarantee as online."""
    lieu = _lieu_or_404(lieu_id)
    motifs = [m for m in services.active_motifs() if any(item.id == lieu.id for item in m.lieux)]
    values = request.values
    motif = next((m for m in motifs if m.id == values.get("motif", type=int)), None)
    count = min(max(values.get("personnes", 1, type=int), 1), motif.max_persons if motif else 1)
    errors: dict[str, str] = {}
    refused = None
    if request.method == "POST" and motif is not None:
        persons = []
        for index in range(count):
            name = (values.get(f"nom-{index}") or "").strip()[:200]
            raw = (values.get(f"naissance-{index}") or "").strip()
            try:
                birth = datetime.strptime(raw, "%d/%m/%Y").date()
            except ValueError:
                birth = None
            if not name:
                errors[f"nom-{index}"] = f"Indiquez le nom de la personne {index + 1}."
            if birth is None:
                errors[f"naissance-{index}"] = (f"Indiquez la date de naissance de la personne {index + 1} "
                                                "au format jj/mm/aaaa.")
            persons.append((name, birth))
        email = (values.get("email") or "").strip()[:254]
        start = parse_start(values.get("start"))
        if start is None:
            errors["slot-error"] = "Choisissez un créneau."
        if not errors:
            caller = services.Caller(id=None, email=email)
            try:
                appointment, _created = services.book(caller, motif, lieu, start, [
                    services.PersonRequest(name, birth, "premiere") for name, birth in persons],
                    values.get("key") or services.new_idempotency_key())
            except services.BookingRefused as exc:
                refused = exc.message
            else:
                if email:
                    notices.confirmed(appointment, services.checklists(motif, appointment.persons,
                                                                       start.date()))
                flash(f"Rendez-vous réservé pour {persons[0][0]} : {notices.when(appointment)}.", "success")
                return see_other("appointments_staff.day", lieu_id=lieu.id,
                                 date=start.astimezone(PARIS).date().isoformat())
    days = starts_by_day(services.free_slots(motif, lieu, count)) if motif else []
    messages = [(message, key) for key, message in errors.items()] + ([(refused, "")] if refused else [])
    return render_page("appointments/staff/book.html", lieu=lieu, motifs=motifs, motif=motif, count=count,
                       days=days, errors=errors, messages=messages, values=values, start_value=start_value,
                       key=values.get("key") or services.new_idempotency_key(),
                       page_has_errors=bool(messages), status=422 if errors else 409 if refused else 200)
