"""Rendez-vous pages: the citizen's journey and « Mes rendez-vous » (``bp``), and the staff's
setup and day view under /gestion/rendez-vous (``staff_bp``, in ``staff_views``)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from portal.appointments import journey, notices, services
from portal.appointments.documents import COLLECTION_WARNINGS, SITUATIONS, WARNINGS, age_on, euros
from portal.appointments.slots import PARIS, days_of, starts_by_day
from portal.core.web import render_page, see_other
from portal.db import utcnow
from portal.extensions import limiter

bp = Blueprint("appointments", __name__, url_prefix="/rendez-vous")


def _booking_limit() -> str:
    return current_app.config["APPOINTMENTS_BOOKING_LIMIT"]


def _account_key() -> str:
    return f"rdv-account:{current_user.get_id()}"


def _today():
    return utcnow().astimezone(PARIS).date()


def _steps(current: int) -> dict:
    return {"current": current, "total": 7}


def _restart(message: str | None = None):
    if message:
        flash(message, "info")
    return see_other("appointments.start")


# --- Mes rendez-vous ----------------------------------------------------------------------


@bp.get("")
@login_required
def mine():
    upcoming, past = services.appointments_of(current_user)
    titles = services.titles_to_collect(current_user)
    collection = {t.id: services.collection_motif(t.lieu_id) for t in titles}
    return render_page("appointments/mine.html", upcoming=upcoming, past=past,
                       waiting=services.waitlist_of(current_user), titles=titles, collection=collection,
                       collection_rule=services.collection_rule, today=_today(),
                       can_change=services.can_change, statuses=notices.STATUS_LABELS)


@bp.post("/liste-attente")
@login_required
def join_waitlist():
    """« Prévenez-moi » from the page that says « Aucun créneau disponible »."""
    done = journey.chosen_so_far()
    if done is None:
        return _restart()
    motif, persons, lieu = done
    services.join_waitlist(current_user, motif, lieu, persons, services.last_bookable_day(motif))
    journey.clear()
    flash("C'est noté : dès qu'un créneau se libère, il vous est réservé quelques heures et vous êtes "
          "prévenu(e) pour le confirmer.", "success")
    return see_other("appointments.mine")


@bp.post("/liste-attente/<int:entry_id>/retirer")
@login_required
def leave_waitlist(entry_id: int):
    entry = next((e for e in services.waitlist_of(current_user) if e.id == entry_id), None)
    if entry is None:
        abort(404)
    entry.status = "cancelled"
    flash("Vous ne serez plus prévenu(e) pour ce lieu.", "success")
    return see_other("appointments.mine")


@bp.post("/<int:appointment_id>/accepter")
@login_required
def accept_offer(appointment_id: int):
    appointment = _appointment_or_404(appointment_id)
    if appointment.status != "held" or (appointment.hold_until and appointment.hold_until < utcnow()):
        flash("Ce créneau ne vous est plus réservé.", "info")
        return see_other("appointments.mine")
    services.confirm_offer(appointment)
    notices.confirmed(appointment, services.checklists(appointment.motif, appointment.persons,
                                                       appointment.starts_at.date()))
    return redirect(url_for("appointments.show", appointment_id=appointment.id, confirme=1), code=303)


def _appointment_or_404(appointment_id: int):
    appointment = services.get_appointment(current_user, appointment_id)
    if appointment is None:
        abort(404)
    return appointment


@bp.get("/<int:appointment_id>")
@login_required
def show(appointment_id: int):
    appointment = _appointment_or_404(appointment_id)
    lists = services.checklists(appointment.motif, appointment.persons, appointment.starts_at.date())
    return render_page("appointments/show.html", appointment=appointment, lists=lists,
                       total=euros(sum(c.stamp_cents for c in lists)), euros=euros,
                       warnings=COLLECTION_WARNINGS if appointment.motif.kind == "retrait" else WARNINGS,
                       can_change=services.can_change(appointment), statuses=notices.STATUS_LABELS,
                       just_booked=request.args.get("confirme") == "1")


@bp.get("/<int:appointment_id>/rendez-vous.ics")
@login_required
def calendar(appointment_id: int):
    appointment = _appointment_or_404(appointment_id)
    response = make_response(notices.ics(appointment))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="rendez-vous-{appointment.id}.ics"'
    return response


@bp.route("/<int:appointment_id>/annuler", methods=["GET", "POST"])
@login_required
def cancel(appointment_id: int):
    appointment = _appointment_or_404(appointment_id)
    if not services.can_change(appointment):
        return render_page("appointments/too_late.html", appointment=appointment, status=409)
    if request.method == "POST":
        services.cancel(appointment)
        notices.cancelled(appointment)
        flash("Votre rendez-vous a été annulé.", "success")
        return see_other("appointments.mine")
    return render_page("appointments/cancel.html", appointment=appointment)


@bp.route("/<int:appointment_id>/deplacer", methods=["GET", "POST"])
@login_required
@limiter.limit(_booking_limit, key_func=_account_key, methods=["POST"])
def move(appointment_id: int):
    appointment = _appointment_or_404(appointment_id)
    if not services.can_change(appointment):
        return render_page("appointments/too_late.html", appointment=appointment, status=409)
    error, status = None, 200
    slots = services.free_slots(appointment.motif, appointment.lieu, len(appointment.persons),
                                ignore=appointment.id)
    if request.method == "POST":
        start = journey.parse_start(request.form.get("start"))
        if start is None:
            error, status = "Choisissez un nouveau créneau.", 422
        else:
            try:
                services.move(appointment, start)
            except services.BookingRefused as refused:
                error, status = refused.message, 409
                slots = services.free_slots(appointment.motif, appointment.lieu, len(appointment.persons),
                                            ignore=appointment.id)
            else:
                notices.moved(appointment)
                flash("Votre rendez-vous a été déplacé.", "success")
                return see_other("appointments.show", appointment_id=appointment.id)
    return render_page("appointments/move.html", appointment=appointment, days=starts_by_day(slots),
                       error=error, start_value=journey.start_value, page_has_errors=bool(error),
                       status=status)


# --- the journey --------------------------------------------------------------------------


@bp.route("/prendre", methods=["GET", "POST"])
@login_required
def start():
    motifs = services.active_motifs()
    error = None
    if request.method == "POST":
        motif = services.get_motif(request.form.get("motif", type=int))
        if motif is not None:
            journey.reset(motif=motif.id, key=services.new_idempotency_key())
            return see_other("appointments.who")
        error = "Choisissez le motif de votre rendez-vous."
    current = request.args.get("motif", type=int) or journey.state().get("motif")
    return render_page("appointments/start.html", motifs=motifs, error=error, current=current,
                       page_has_errors=bool(error), steps=_steps(1), status=422 if error else 200)


@bp.route("/prendre/personnes", methods=["GET", "POST"])
@login_required
def who():
    motif = journey.motif()
    if motif is None:
        return _restart()
    candidates = journey.candidates()
    error = None
    selected = journey.state().get("who") or []
    if request.method == "POST":
        keys = {c[0] for c in candidates}
        selected = [k for k in request.form.getlist("who") if k in keys]
        if not selected:
            error = "Choisissez au moins une personne."
        elif len(selected) > motif.max_persons:
            error = (f"Un rendez-vous reçoit au plus {motif.max_persons} personnes : "
                     "prenez plusieurs rendez-vous.")
        else:
            journey.save(who=selected, details={}, lieu=None, start=None)
            return see_other("appointments.details")
    return render_page("appointments/who.html", motif=motif, candidates=candidates, selected=selected,
                       error=error, page_has_errors=bool(error), steps=_steps(2),
                       status=422 if error else 200)


@bp.route("/prendre/situations", methods=["GET", "POST"])
@login_required
def details():
    motif = journey.motif()
    people = journey.chosen()
    if motif is None or not people:
        return _restart()
    today = _today()
    values = journey.state().get("details") or {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = journey.parse_details(request.form, people, motif, today)
        if not errors:
            journey.save(details=values)
            return see_other("appointments.documents")
    ages = {}
    for key, _name, birth, _relation in people:
        stored = values.get(key, {}).get("birth")
        known = birth or (date.fromisoformat(stored) if stored else None)
        ages[key] = age_on(known, today) if known else None
    return render_page("appointments/details.html", motif=motif, people=people, values=values,
                       errors=errors, ages=ages, situations=SITUATIONS, page_has_errors=bool(errors),
                       steps=_steps(3), status=422 if errors else 200)


@bp.get("/prendre/pieces")
@login_required
def documents():
    motif = journey.motif()
    persons = journey.person_requests()
    if motif is None or persons is None:
        return _restart()
    lists = services.checklists(motif, persons, _today())
    return render_page("appointments/documents.html", motif=motif, lists=lists, euros=euros,
                       total=euros(sum(c.stamp_cents for c in lists)),
                       warnings=COLLECTION_WARNINGS if motif.kind == "retrait" else WARNINGS,
                       steps=_steps(4))


@bp.route("/prendre/lieu", methods=["GET", "POST"])
@login_required
def place():
    motif = journey.motif()
    if motif is None or journey.person_requests() is None:
        return _restart()
    lieux = services.lieux_for(motif)
    error = None
    if request.method == "POST":
        chosen = request.form.get("lieu", type=int)
        if chosen in {lieu.id for lieu in lieux}:
            journey.save(lieu=chosen, start=None)
            return see_other("appointments.slot")
        error = "Choisissez le lieu de votre rendez-vous."
    return render_page("appointments/place.html", motif=motif, lieux=lieux, error=error,
                       current=journey.state().get("lieu"), page_has_errors=bool(error),
                       steps=_steps(5), status=422 if error else 200)


@bp.route("/prendre/creneau", methods=["GET", "POST"])
@login_required
def slot():
    done = journey.chosen_so_far()
    if done is None:
        return _restart()
    motif, persons, lieu = done
    error = None
    if request.method == "POST":
        start = journey.parse_start(request.form.get("start"))
        if start is not None:
            journey.save(start=journey.start_value(start))
            return see_other("appointments.summary")
        error = "Choisissez un créneau."
    slots = services.free_slots(motif, lieu, len(persons))
    return render_page("appointments/slot.html", motif=motif, lieu=lieu, days=starts_by_day(slots),
                       persons=persons, duration=services.duration_for(motif, len(persons)),
                       error=error, current=journey.state().get("start"), start_value=journey.start_value,
                       page_has_errors=bool(error), steps=_steps(6), status=422 if error else 200)


@bp.route("/prendre/confirmer", methods=["GET", "POST"])
@login_required
@limiter.limit(_booking_limit, key_func=_account_key, methods=["POST"])
@limiter.limit(lambda: current_app.config.get("APPOINTMENTS_BOOKING_LIMIT_ADDRESS", "60 per hour"),
               methods=["POST"])
def summary():
    done = journey.chosen_so_far()
    if done is None:
        return _restart()
    motif, persons, lieu = done
    state = journey.state()
    start = journey.parse_start(request.form.get("start") if request.method == "POST" else state.get("start"))
    if start is None:
        return see_other("appointments.slot")
    lists = services.checklists(motif, persons, start.date())
    if request.method == "POST":
        key = request.form.get("key") or ""
        if len(key) < 16 or len(key) > 64:
            return _restart("Ce formulaire a expiré. Recommencez la prise de rendez-vous.")
        try:
            appointment, created = services.book(current_user, motif, lieu, start, persons, key)
        except services.BookingRefused as refused:
            return render_page("appointments/slot.html", motif=motif, lieu=lieu,
                               days=days_of(refused.next_slots), persons=persons,
                               duration=services.duration_for(motif, len(persons)), error=refused.message,
                               refused=True, key=key, current=None, start_value=journey.start_value,
                               page_has_errors=True, steps=_steps(6), status=409)
        if created:
            notices.confirmed(appointment, lists)
        journey.clear()
        return redirect(url_for("appointments.show", appointment_id=appointment.id, confirme=1), code=303)
    return render_page("appointments/summary.html", motif=motif, lieu=lieu, persons=persons, start=start,
                       end=start + services.duration_for(motif, len(persons)), lists=lists, euros=euros,
                       total=euros(sum(c.stamp_cents for c in lists)), key=state.get("key"),
                       start_value=journey.start_value(start), steps=_steps(7))
