"""Staff pages (permission « gérer les rendez-vous »): 404 for everyone else, setting up a
lieu, its guichets, hours, closures and blocked periods, motifs; the day view with « venu »,
« absent » and cancel with a message; the worker's reminders and purge; the demo data."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from portal import db as database
from portal.appointments import services
from portal.appointments.models import (
    Appointment,
    BlockedPeriod,
    Closure,
    Guichet,
    Lieu,
    Motif,
    OpeningHours,
)
from portal.appointments.slots import PARIS
from portal.core.access import has_permission, permission_required
from portal.db import utcnow
from portal.notifications.models import Notification
from tests.appointments_support import make_town
from tests.conftest import PASSWORD, deliver, emails_to, post_form
from tests.conftest import page as page_of

STAFF_PAGES = ["/gestion/rendez-vous", "/gestion/rendez-vous/lieux/nouveau", "/gestion/rendez-vous/motifs/nouveau"]


@pytest.fixture
def agent(create_user, auth):
    user = create_user(email="agent@example.org", role="agent", prenom="Dominique")
    auth.login("agent@example.org", PASSWORD)
    return user


def test_permissions_are_data():
    class Person:
        is_authenticated = True

        def __init__(self, role):
            self.role = role

    assert has_permission(Person("agent"), "gerer_rendez_vous")
    assert has_permission(Person("admin"), "gerer_rendez_vous")
    assert not has_permission(Person("citizen"), "gerer_rendez_vous")
    assert not has_permission(Person("organisation"), "gerer_rendez_vous")
    with pytest.raises(ValueError):
        permission_required("inventee")


def test_staff_pages_are_a_404_for_anonymous_and_citizens(client, create_user, auth):
    for url in STAFF_PAGES:
        assert client.get(url).status_code == 404
    create_user(email="camille@example.org")
    auth.login("camille@example.org", PASSWORD)
    for url in STAFF_PAGES:
        assert client.get(url).status_code == 404
    assert "Gestion des rendez-vous" not in page_of(client.get("/rendez-vous"))


def test_agent_sets_up_a_lieu_and_a_motif(app, client, agent):
    assert "Gestion des rendez-vous" in page_of(client.get("/gestion/rendez-vous"))
    bad = post_form(client, "/gestion/rendez-vous/lieux/nouveau", {"name": "", "address": ""})
    assert bad.status_code == 422 and "Indiquez le nom du lieu." in page_of(bad)
    response = post_form(client, "/gestion/rendez-vous/lieux/nouveau",
                         {"name": "Mairie annexe", "address": "1 rue de la Paix, 77100 Meaux",
                          "access_info": "Rampe d'accès", "phone": "01 60 09 97 29", "active": "y"})
    assert response.status_code == 303
    lieu_url = response.headers["Location"]
    lieu_id = int(re.search(r"/lieux/(\d+)", lieu_url).group(1))
    assert post_form(client, f"/gestion/rendez-vous/lieux/{lieu_id}/guichets", {"guichet-name": "Guichet A"},
                     token_from=lieu_url).status_code == 303
    bad_hours = post_form(client, f"/gestion/rendez-vous/lieux/{lieu_id}/horaires",
                          {"horaire-weekday": "0", "horaire-start": "12:00", "horaire-end": "09:07"},
                          token_from=lieu_url)
    assert bad_hours.status_code == 422 and "heure ronde à 5 minutes près" in page_of(bad_hours)
    assert post_form(client, f"/gestion/rendez-vous/lieux/{lieu_id}/horaires",
                     {"horaire-weekday": "0", "horaire-start": "9h", "horaire-end": "12:00"},
                     token_from=lieu_url).status_code == 303
    assert post_form(client, f"/gestion/rendez-vous/lieux/{lieu_id}/fermetures",
                     {"fermeture-start_date": "24/12/2026", "fermeture-end_date": "26/12/2026",
                      "fermeture-reason": "Fêtes"}, token_from=lieu_url).status_code == 303
    tomorrow = (utcnow().astimezone(PARIS) + timedelta(days=1)).date()
    with app.app_context():
        guichet_id = database.session.scalars(select(Guichet.id)).one()
    assert post_form(client, f"/gestion/rendez-vous/lieux/{lieu_id}/indisponibilites",
                     {"bloc-guichet": str(guichet_id), "bloc-day": tomorrow.strftime("%d/%m/%Y"),
                      "bloc-start": "10:00", "bloc-end": "11:00", "bloc-reason": "Formation"},
                     token_from=lieu_url).status_code == 303
    motif = post_form(client, "/gestion/rendez-vous/motifs/nouveau",
                      {"name": "Passeport", "kind": "passeport", "minutes_per_person": "20", "max_persons": "4",
                       "min_delay_hours": "24", "max_delay_days": "21", "change_limit_hours": "24",
                       "lieux": [str(lieu_id)], "predemande_url": "https://ants.gouv.fr/", "active": "y"})
    assert motif.status_code == 303
    page = page_of(client.get(lieu_url))
    assert "Guichet A" in page and "Lundi : 09:00 – 12:00" in page and "24/12/2026 – 26/12/2026" in page
    assert "Formation" in page
    with app.app_context():
        lieu = database.session.get(Lieu, lieu_id)
        assert [(h.weekday, h.start, h.end) for h in lieu.opening_hours] == [(0, time(9), time(12))]
        assert database.session.scalar(select(func.count()).select_from(Closure)) == 1
        assert database.session.scalar(select(func.count()).select_from(BlockedPeriod)) == 1
        saved = database.session.scalars(select(Motif)).one()
        assert saved.minutes_per_person == 20 and [item.id for item in saved.lieux] == [lieu_id]


def test_motif_duration_must_follow_the_grid(client, agent):
    response = post_form(client, "/gestion/rendez-vous/motifs/nouveau",
                         {"name": "Passeport", "kind": "passeport", "minutes_per_person": "17", "max_persons": "4",
                          "min_delay_hours": "24", "max_delay_days": "21", "change_limit_hours": "24"})
    assert response.status_code == 422 and "multiple de 5 minutes" in page_of(response)


def _book(app, town, user, days_ahead=None, start=None):
    with app.test_request_context():
        motif, lieu = services.get_motif(town["motif"]), database.session.get(Lieu, town["lieu"])
        slot = services.free_slots(motif, lieu, 1)[0] if start is None else None
        chosen = start or slot.start
        appointment, _created = services.book(
            user, motif, lieu, chosen,
            [services.PersonRequest("Camille Martin", date(1985, 7, 14), "premiere", predemande="AB12CD34EF")],
            secrets.token_urlsafe(24))
        database.session.commit()
        return appointment.id, chosen


def test_day_view_marks_present_absent_and_cancels_with_a_message(app, client, agent, create_user, mailbox):
    town = make_town(app, min_delay_hours=0)
    camille = create_user(email="camille@example.org")
    appointment_id, start = _book(app, town, camille)
    day = start.astimezone(PARIS).date().isoformat()
    page = page_of(client.get(f"/gestion/rendez-vous/lieux/{town['lieu']}/jour?date={day}"))
    assert "Camille Martin" in page and "AB12CD34EF" in page and "Pièces attendues" in page
    assert post_form(client, f"/gestion/rendez-vous/rendez-vous/{appointment_id}/statut",
                     {"status": "noshow"}).status_code == 303
    with app.app_context():
        appointment = database.session.get(Appointment, appointment_id)
        assert appointment.status == "noshow" and not appointment.persons[0].active
    # Another booking, cancelled by the service with a message: the person is notified.
    other_id, _ = _book(app, {**town}, create_user(email="dom@example.org"),
                        start=start + timedelta(minutes=15))
    cancel_page = f"/gestion/rendez-vous/rendez-vous/{other_id}/annuler"
    empty = post_form(client, cancel_page, {"message": ""}, token_from=cancel_page)
    assert empty.status_code == 422 and "Écrivez un message" in page_of(empty)
    assert post_form(client, cancel_page, {"message": "Guichet fermé (panne)."},
                     token_from=cancel_page).status_code == 303
    with app.app_context():
        other = database.session.get(Appointment, other_id)
        assert other.status == "revoked" and other.cancel_message == "Guichet fermé (panne)."
        (note,) = database.session.scalars(select(Notification).where(Notification.user_id == other.user_id))
        assert note.kind == "appointment" and "Guichet fermé (panne)." in note.message
    deliver(app)
    assert emails_to(mailbox, "dom@example.org")


def test_reminders_48_hours_before_once_and_following_preferences(app, create_user):
    from portal.appointments.tasks import send_reminders
    from portal.notifications.models import NotificationPreference

    town = make_town(app, min_delay_hours=0, max_delay_days=3)
    camille = create_user(email="camille@example.org")
    appointment_id, start = _book(app, town, camille)
    with app.app_context():
        database.session.add(NotificationPreference(user_id=camille.id, kind="appointment", email_enabled=False))
        database.session.commit()
        assert send_reminders(now=start - timedelta(hours=60)) == 0  # too early
        assert send_reminders(now=start - timedelta(hours=47)) == 1
        assert send_reminders(now=start - timedelta(hours=46)) == 0  # once only
        (note,) = database.session.scalars(select(Notification))
        assert note.subject == "Rappel de votre rendez-vous"
        from portal.mail.models import OutboxEmail

        assert database.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0  # switched off


def test_purge_deletes_old_appointments(app, create_user):
    town = make_town(app, min_delay_hours=0)
    camille = create_user(email="camille@example.org")
    appointment_id, start = _book(app, town, camille)
    with app.app_context():
        assert services.purge_past(start) == 0
        assert services.purge_past(start + timedelta(days=1)) == 1
        database.session.commit()
        assert database.session.get(Appointment, appointment_id) is None


def test_demo_data_gives_bookable_slots(app):
    from portal.appointments.demo import create_demo_data

    with app.app_context():
        assert create_demo_data() is True
        assert create_demo_data() is False  # idempotent
        motifs = database.session.scalars(select(Motif).order_by(Motif.id)).all()
        assert [m.name for m in motifs] == ["Passeport", "Carte nationale d'identité",
                                            "Passeport et carte d'identité", "Retrait d'un titre"]
        assert all(m.max_delay_days == 21 for m in motifs)
        lieux = database.session.scalars(select(Lieu)).all()
        assert len(lieux) == 2
        assert services.free_slots(motifs[0], lieux[0], 1)
        assert database.session.scalar(select(func.count()).select_from(OpeningHours)) > 0


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "APPOINTMENTS_BOOKING_LIMIT": "2 per hour"}])
def test_booking_posts_are_rate_limited(app, client, create_user, auth):
    create_user(email="camille@example.org")
    auth.login("camille@example.org", PASSWORD)
    statuses = [post_form(client, "/rendez-vous/prendre/confirmer", {"start": "x", "key": "y"}).status_code
                for _ in range(3)]
    assert statuses[:2] == [303, 303] and statuses[2] == 429


def test_blocked_period_hides_slots(app):
    town = make_town(app, min_delay_hours=0, hours=((9, 0), (10, 0)))
    with app.app_context():
        motif, lieu = services.get_motif(town["motif"]), database.session.get(Lieu, town["lieu"])
        first = services.free_slots(motif, lieu, 1)[0]
        day = first.start.astimezone(PARIS).date()
        database.session.add(BlockedPeriod(lieu_id=lieu.id, guichet_id=None,
                                           starts_at=datetime.combine(day, time(0), PARIS),
                                           ends_at=datetime.combine(day + timedelta(days=1), time(0), PARIS)))
        database.session.commit()
        assert all(s.start.astimezone(PARIS).date() != day for s in services.free_slots(motif, lieu, 1))


def test_title_arrived_then_collected_with_a_retrait_appointment(app, client, agent, create_user):
    from portal.appointments.models import TitleReady
    from portal.appointments.tasks import send_reminders  # noqa: F401  (the worker module loads)

    town = make_town(app, min_delay_hours=0)
    with app.app_context():
        retrait = Motif(kind="retrait", name="Retrait d'un titre", minutes_per_person=10, min_delay_hours=0,
                        lieux=[database.session.get(Lieu, town["lieu"])])
        database.session.add(retrait)
        database.session.commit()
        retrait_id = retrait.id
    camille = create_user(email="camille@example.org")
    appointment_id, start = _book(app, town, camille)
    assert post_form(client, f"/gestion/rendez-vous/rendez-vous/{appointment_id}/statut",
                     {"status": "seen"}).status_code == 303
    day = start.astimezone(PARIS).date().isoformat()
    assert "Titre arrivé" in page_of(client.get(f"/gestion/rendez-vous/lieux/{town['lieu']}/jour?date={day}"))
    with app.app_context():
        person_id = database.session.get(Appointment, appointment_id).persons[0].id
    assert post_form(client, f"/gestion/rendez-vous/personnes/{person_id}/titre-arrive", {}).status_code == 303
    with app.app_context():
        title = database.session.scalars(select(TitleReady)).one()
        today = utcnow().astimezone(PARIS).date()
        assert title.deadline > today + timedelta(days=88) and title.holder_name == "Camille Martin"
        note = database.session.scalars(select(Notification).where(Notification.user_id == camille.id)).one()
        assert note.subject == "Titre disponible : Camille Martin" and f"motif={retrait_id}" in note.link
        assert services.titles_due_for_reminder(today) == []
        assert services.titles_due_for_reminder(title.deadline - timedelta(days=10)) == [title.id]
        # The collection appointment, marked « venu », hands the title over.
        user = database.session.get(type(camille), camille.id)
        lieu = database.session.get(Lieu, town["lieu"])
        motif = database.session.get(Motif, retrait_id)
        with app.test_request_context():
            slot = services.free_slots(motif, lieu, 1)[-1]
            collection, _ = services.book(user, motif, lieu, slot.start, [services.PersonRequest(
                "Camille Martin", date(1985, 7, 14), "premiere")], secrets.token_urlsafe(24))
            services.set_status(collection, "seen")
            database.session.commit()
        assert database.session.scalars(select(TitleReady)).one().collected_at is not None


@pytest.mark.parametrize("age, rule", [(30, None), (15, "avec l'un des titulaires"), (8, "peut être retiré par")])
def test_collection_rule_for_minors(age, rule):
    today = date(2027, 3, 1)
    text = services.collection_rule(date(today.year - age, 1, 1), today)
    assert (text is None) if rule is None else (rule in text)


def test_agent_books_for_someone_who_calls(app, client, agent, mailbox):
    town = make_town(app, min_delay_hours=0)
    url = f"/gestion/rendez-vous/lieux/{town['lieu']}/reserver"
    page = page_of(client.get(f"{url}?motif={town['motif']}&personnes=2"))
    assert "Personne 2" in page
    start = re.search(r'name="start" id="[^"]+" value="([^"]+)"', page).group(1)
    missing = post_form(client, url, {"motif": town["motif"], "personnes": "2", "start": start,
                                      "nom-0": "Jeanne Durand", "naissance-0": "02/03/1950"}, token_from=url)
    assert missing.status_code == 422 and "Indiquez le nom de la personne 2." in page_of(missing)
    response = post_form(client, url, {"motif": town["motif"], "personnes": "2", "start": start,
                                       "nom-0": "Jeanne Durand", "naissance-0": "02/03/1950",
                                       "nom-1": "Paul Durand", "naissance-1": "04/05/2012",
                                       "email": "jeanne@example.org"}, token_from=url)
    assert response.status_code == 303
    with app.app_context():
        appointment = database.session.scalars(select(Appointment)).one()
        assert appointment.user_id is None and [p.name for p in appointment.persons] == ["Jeanne Durand",
                                                                                        "Paul Durand"]
        assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
    deliver(app)
    assert emails_to(mailbox, "jeanne@example.org")
    again = post_form(client, url, {"motif": town["motif"], "personnes": "1", "start": start,
                                    "nom-0": "Autre", "naissance-0": "01/01/1980"}, token_from=url)
    assert again.status_code == 409 and "plus disponible" in page_of(again)
