"""Waiting list: « Aucun créneau disponible » → « Me prévenir »; a cancelled slot is held for
the first waiting person, who confirms it; an unconfirmed hold goes to the next person."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import db as database
from portal.appointments import services
from portal.appointments.models import Appointment, Lieu, WaitlistEntry
from portal.notifications.models import Notification
from tests.appointments_support import make_town
from tests.conftest import PASSWORD, deliver, emails_to, post_form
from tests.conftest import page as page_of
from tests.test_appointments_booking import walk_to_slot


@pytest.fixture
def app_config():
    return {"APPOINTMENTS_HOLD_MINUTES": 1}  # so the next offer stays in the future at any hour


def _fill_every_slot(app, town, user) -> list[int]:
    """Someone else books every free slot; returns their appointment ids."""
    ids = []
    with app.test_request_context():
        motif, lieu = services.get_motif(town["motif"]), database.session.get(Lieu, town["lieu"])
        for index, slot in enumerate(services.free_slots(motif, lieu, 1)):
            appointment, _ = services.book(
                user, motif, lieu, slot.start,
                [services.PersonRequest("Autre", date(1980, 1, 1), "premiere", predemande=f"F{index:09d}")],
                secrets.token_urlsafe(24))
            ids.append(appointment.id)
        database.session.commit()
    return ids


@pytest.fixture
def full_town(app, create_user):
    town = make_town(app, min_delay_hours=0, max_delay_days=2, hours=((9, 0), (9, 30)), change_limit_hours=0)
    other = create_user(email="other@example.org")
    town["taken"] = _fill_every_slot(app, town, other)
    assert town["taken"]
    return town


def test_join_the_waiting_list_then_confirm_the_freed_slot(app, client, create_user, auth, full_town, mailbox):
    camille = create_user(email="camille@example.org", prenom="Camille", nom="Martin",
                          date_naissance=date(1985, 7, 14))
    auth.login("camille@example.org", PASSWORD)
    assert "Aucun créneau disponible" in walk_to_slot(client, full_town)
    response = post_form(client, "/rendez-vous/liste-attente", {})
    assert response.status_code == 303
    mine = page_of(client.get("/rendez-vous"))
    assert "Liste d'attente" in mine and "vous serez prévenu(e)" in mine

    with app.test_request_context():
        freed = database.session.get(Appointment, full_town["taken"][0])
        services.cancel(freed)
        database.session.commit()
        held = database.session.scalars(select(Appointment).where(Appointment.user_id == camille.id)).one()
        assert held.status == "held" and held.hold_until is not None
        assert held.starts_at == freed.starts_at and held.persons[0].predemande == "1A2B3C4D5E"
        (note,) = database.session.scalars(select(Notification).where(Notification.user_id == camille.id))
        assert note.subject == "Un créneau s'est libéré pour vous"
        held_id = held.id
    assert "Confirmer ce rendez-vous" in page_of(client.get("/rendez-vous"))
    response = post_form(client, f"/rendez-vous/{held_id}/accepter", {})
    assert response.status_code == 303
    assert "Votre rendez-vous est confirmé" in page_of(client.get(response.headers["Location"]))
    with app.app_context():
        assert database.session.get(Appointment, held_id).status == "booked"
        assert database.session.scalars(select(WaitlistEntry)).one().status == "booked"
    deliver(app)
    assert any("Rendez-vous confirmé" in m["Subject"] for m in emails_to(mailbox, "camille@example.org"))


def test_an_unconfirmed_hold_goes_to_the_next_person(app, create_user, full_town):
    first = create_user(email="first@example.org")
    second = create_user(email="second@example.org")
    with app.test_request_context():
        motif, lieu = services.get_motif(full_town["motif"]), database.session.get(Lieu, full_town["lieu"])
        until = services.last_bookable_day(motif)
        for user, number in ((first, "FIRST00001"), (second, "SECOND0001")):
            services.join_waitlist(user, motif, lieu, [services.PersonRequest(
                "Personne", date(1980, 1, 1), "premiere", predemande=number)], until)
        database.session.commit()
        services.cancel(database.session.get(Appointment, full_town["taken"][0]))
        database.session.commit()
        held = database.session.scalars(select(Appointment).where(Appointment.status == "held")).one()
        assert held.user_id == first.id
        later = held.hold_until + timedelta(minutes=1)
        assert services.expire_holds(now=held.hold_until - timedelta(minutes=1)) == 0
        assert services.expire_holds(now=later) == 1
        database.session.commit()
        holds = database.session.scalars(select(Appointment).where(Appointment.status == "held")).all()
        assert [h.user_id for h in holds] == [second.id]
        statuses = {e.user_id: e.status for e in database.session.scalars(select(WaitlistEntry))}
        assert statuses == {first.id: "expired", second.id: "offered"}
