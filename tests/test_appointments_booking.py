"""The citizen's booking journey (no JavaScript: plain posts), « Mes rendez-vous », cancel and
move, the confirmation email with its .ics, pré-demande numbers, double submissions."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import db as database
from portal.appointments.documents import PersonSituation, checklist, stamp_cents
from portal.appointments.models import Appointment, AppointmentPerson, Lieu, SlotLock
from portal.db import utcnow
from portal.relations.models import Relation
from tests.appointments_support import PREDEMANDE, make_town
from tests.conftest import PASSWORD, deliver, emails_to, post_form
from tests.conftest import page as page_of

# --- the rules of documents and stamps (pure) ---------------------------------------------


@pytest.mark.parametrize("title, age, situation, cents", [
    ("passeport", 30, "premiere", 8600), ("passeport", 18, "renouvellement", 8600),
    ("passeport", 17, "premiere", 4200), ("passeport", 15, "perte", 4200),
    ("passeport", 14, "premiere", 1700), ("passeport", 0, "premiere", 1700),
    ("cni", 40, "premiere", 0), ("cni", 40, "renouvellement", 0), ("cni", 40, "perte", 2500),
    ("cni", 10, "vol", 2500), ("retrait", 40, "premiere", 0),
])
def test_timbre_fiscal(title, age, situation, cents):
    assert stamp_cents(title, age, situation) == cents


def test_checklist_follows_the_situation():
    on = date(2027, 3, 1)
    adult = checklist("passeport", PersonSituation("Camille", date(1985, 7, 14), "renouvellement"), on)
    assert adult.age == 41 and adult.stamp_cents == 8600
    assert any("photographie" in d for d in adult.documents)
    assert any("passeport ou la carte d'identité" in d for d in adult.documents)
    assert not any("acte de naissance" in d for d in adult.documents)

    child = checklist("passeport_cni", PersonSituation("Léa", date(2011, 1, 1), "perte", has_valid_id=False,
                                                       nom_usage=True, separated_parents=True), on)
    assert child.age == 16 and child.stamp_cents == 4200 + 2500
    docs = " ".join(child.documents)
    for expected in ("acte de naissance de moins de 3 mois", "déclaration de perte", "parent présent",
                     "nom d'usage", "jugement de divorce", "justificatif de domicile de moins de 1 an"):
        assert expected in docs


# --- the journey --------------------------------------------------------------------------


@pytest.fixture
def camille(create_user, auth):
    user = create_user(email="camille@example.org", prenom="Camille", nom="Martin",
                       date_naissance=date(1985, 7, 14))
    auth.login("camille@example.org", PASSWORD)
    return user


@pytest.fixture
def town(app):
    return make_town(app, guichets=1, minutes=15, min_delay_hours=0, change_limit_hours=0)


def text_of(response) -> str:
    """The page's text, tags removed and spaces collapsed, to assert on sentences."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page_of(response)))


def _first_start(html: str) -> str:
    match = re.search(r'name="start" id="[^"]+" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def walk_to_slot(client, town, who=("moi",), details=None) -> str:
    """Motif → persons → situations → documents → lieu; returns the slot page."""
    assert post_form(client, "/rendez-vous/prendre", {"motif": town["motif"]}).status_code == 303
    assert post_form(client, "/rendez-vous/prendre/personnes", {"who": list(who)}).status_code == 303
    data = details or {"moi-situation": "renouvellement", "moi-titre": "oui", "moi-predemande": PREDEMANDE}
    response = post_form(client, "/rendez-vous/prendre/situations", data)
    assert response.status_code == 303, page_of(response)
    assert client.get("/rendez-vous/prendre/pieces").status_code == 200
    assert post_form(client, "/rendez-vous/prendre/lieu", {"lieu": town["lieu"]}).status_code == 303
    return page_of(client.get("/rendez-vous/prendre/creneau"))


def book_first(client, town, **kwargs) -> tuple[str, str]:
    slot_page = walk_to_slot(client, town, **kwargs)
    start = _first_start(slot_page)
    assert post_form(client, "/rendez-vous/prendre/creneau", {"start": start}).status_code == 303
    summary = page_of(client.get("/rendez-vous/prendre/confirmer"))
    key = re.search(r'name="key" value="([^"]+)"', summary).group(1)
    return start, key


def test_journey_requires_an_account(client):
    response = client.get("/rendez-vous/prendre")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_full_journey_books_and_emails_an_ics(app, client, camille, town, mailbox):
    slot_page = walk_to_slot(client, town)
    assert "Choisissez un créneau" in slot_page and "<h2 class=\"slot-day__title\">" in slot_page
    start, key = book_first(client, town)
    summary = page_of(client.get("/rendez-vous/prendre/confirmer"))
    assert "Vérifiez votre rendez-vous" in summary and "86 €" in summary
    response = post_form(client, "/rendez-vous/prendre/confirmer", {"start": start, "key": key})
    assert response.status_code == 303
    confirmation = text_of(client.get(response.headers["Location"]))
    assert "Votre rendez-vous est confirmé" in confirmation
    assert "Timbre fiscal : 86 €" in confirmation and "La présence du bénéficiaire" in confirmation
    with app.app_context():
        appointment = database.session.scalars(select(Appointment)).one()
        appointment_id = appointment.id
        assert appointment.persons[0].predemande == PREDEMANDE
        assert database.session.scalar(select(func.count()).select_from(SlotLock)) == 3  # 15 min
    deliver(app)
    (email,) = emails_to(mailbox, "camille@example.org")
    assert "Rendez-vous confirmé" in email["Subject"]
    attachments = list(email.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"rendez-vous-{appointment_id}.ics"]
    ics = attachments[0].get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "BEGIN:VEVENT" in ics and "SUMMARY:Rendez-vous : Passeport" in ics
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert "Total des timbres fiscaux : 86 €" in text and f"/rendez-vous/{appointment_id}/annuler" in text
    mine = page_of(client.get("/rendez-vous"))
    assert "Passeport" in mine and "Hôtel de ville" in mine


def test_double_submission_books_once(app, client, camille, town):
    start, key = book_first(client, town)
    first = post_form(client, "/rendez-vous/prendre/confirmer", {"start": start, "key": key})
    # The same form posted again (a double click): the session still names the journey.
    with client.session_transaction() as session:
        session["rdv"] = session.get("rdv") or {}
    again = post_form(client, "/rendez-vous/prendre/confirmer", {"start": start, "key": key})
    assert first.status_code == 303
    with app.app_context():
        assert database.session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert again.status_code == 303  # back to the journey start or the same appointment, never a second


def test_service_returns_the_first_booking_for_the_same_key(app, create_user, town):
    from portal.appointments import services

    user = create_user(email="dom@example.org")
    with app.test_request_context():
        motif, lieu = services.get_motif(town["motif"]), database.session.get(Lieu, town["lieu"])
        slot = services.free_slots(motif, lieu, 1)[0]
        person = services.PersonRequest("Dom", date(1980, 1, 1), "premiere", predemande="ZZZZZZZZZ1")
        first, created = services.book(user, motif, lieu, slot.start, [person], "k" * 20)
        again, created_again = services.book(user, motif, lieu, slot.start, [person], "k" * 20)
        database.session.commit()
        assert created and not created_again and first.id == again.id


def test_a_taken_slot_is_refused_with_the_next_ones(app, client, camille, town, create_user):
    from portal.appointments import services

    start, key = book_first(client, town)
    other = create_user(email="other@example.org")
    with app.test_request_context():
        motif, lieu = services.get_motif(town["motif"]), database.session.get(Lieu, town["lieu"])
        from portal.appointments.journey import parse_start

        services.book(other, motif, lieu, parse_start(start),
                      [services.PersonRequest("Autre", date(1980, 1, 1), "premiere", predemande="OTHER00001")],
                      "x" * 20)
        database.session.commit()
    response = post_form(client, "/rendez-vous/prendre/confirmer", {"start": start, "key": key})
    assert response.status_code == 409
    html = page_of(response)
    assert "<title>Erreur : " in html
    assert "Ce créneau n'est plus disponible" in html
    assert f'value="{start}"' not in html and 'name="start"' in html  # the next free slots, not the taken one


def test_predemande_format_and_uniqueness(app, client, camille, town, create_user):
    post_form(client, "/rendez-vous/prendre", {"motif": town["motif"]})
    post_form(client, "/rendez-vous/prendre/personnes", {"who": ["moi"]})
    bad = post_form(client, "/rendez-vous/prendre/situations",
                    {"moi-situation": "premiere", "moi-titre": "non", "moi-predemande": "12345"})
    assert bad.status_code == 422
    assert "10 lettres ou chiffres" in page_of(bad) and "<title>Erreur : " in page_of(bad)
    start, key = book_first(client, town)
    post_form(client, "/rendez-vous/prendre/confirmer", {"start": start, "key": key})
    # The same number again, for a second appointment: refused before choosing a slot.
    post_form(client, "/rendez-vous/prendre", {"motif": town["motif"]})
    post_form(client, "/rendez-vous/prendre/personnes", {"who": ["moi"]})
    again = post_form(client, "/rendez-vous/prendre/situations",
                      {"moi-situation": "premiere", "moi-titre": "oui", "moi-predemande": "1a2b 3c4d5e"})
    assert again.status_code == 422 and "a déjà un rendez-vous à venir" in page_of(again)


def test_database_refuses_a_second_active_appointment_for_a_number(app, camille, town):
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        appointment_id = None
        for index in range(2):
            appointment = Appointment(user_id=camille.id, motif_id=town["motif"], lieu_id=town["lieu"],
                                      guichet_id=town["guichets"][0],
                                      starts_at=utcnow() + timedelta(days=3 + index),
                                      ends_at=utcnow() + timedelta(days=3 + index, minutes=15),
                                      idempotency_key=f"key-{index}" * 4, contact_email="c@example.org")
            appointment.persons = [AppointmentPerson(name="C", birth_date=date(1980, 1, 1), situation="premiere",
                                                     predemande="SAME000001")]
            database.session.add(appointment)
            if index == 0:
                database.session.commit()
                appointment_id = appointment.id
        with pytest.raises(IntegrityError):
            database.session.commit()
        database.session.rollback()
        assert appointment_id is not None


def test_family_with_a_minor_books_one_longer_slot(app, client, camille, town):
    with app.app_context():
        child = Relation(user_id=camille.id, kind="enfant", prenom="Léa", nom="Martin",
                         date_naissance=date(date.today().year - 16, 1, 1))
        database.session.add(child)
        database.session.commit()
        key = f"r{child.id}"
    details = {"moi-situation": "renouvellement", "moi-titre": "oui", "moi-predemande": PREDEMANDE,
               f"{key}-situation": "premiere", f"{key}-titre": "non", f"{key}-predemande": "LEA0000001"}
    post_form(client, "/rendez-vous/prendre", {"motif": town["motif"]})
    post_form(client, "/rendez-vous/prendre/personnes", {"who": ["moi", key]})
    missing_parent = post_form(client, "/rendez-vous/prendre/situations", details)
    assert missing_parent.status_code == 422
    assert "Indiquez le nom du parent qui accompagne Léa Martin." in page_of(missing_parent)
    details[f"{key}-parent"] = "Camille Martin"
    details[f"{key}-separes"] = "oui"
    assert post_form(client, "/rendez-vous/prendre/situations", details).status_code == 303
    documents = page_of(client.get("/rendez-vous/prendre/pieces"))
    assert "Total des timbres fiscaux : 128 €" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", documents))  # 86 + 42
    assert "jugement de divorce" in documents and "acte de naissance de moins de 3 mois" in documents
    post_form(client, "/rendez-vous/prendre/lieu", {"lieu": town["lieu"]})
    slot_page = page_of(client.get("/rendez-vous/prendre/creneau"))
    assert "Durée du rendez-vous : 30 minutes pour 2 personne(s)." in slot_page
    start = _first_start(slot_page)
    post_form(client, "/rendez-vous/prendre/creneau", {"start": start})
    key_value = re.search(r'name="key" value="([^"]+)"', page_of(client.get("/rendez-vous/prendre/confirmer")))
    assert post_form(client, "/rendez-vous/prendre/confirmer",
                     {"start": start, "key": key_value.group(1)}).status_code == 303
    with app.app_context():
        appointment = database.session.scalars(select(Appointment)).one()
        assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
        assert [p.accompanying_parent for p in appointment.persons] == ["", "Camille Martin"]


def test_cancel_frees_the_slot_and_the_number(app, client, camille, town):
    start, key = book_first(client, town)
    location = post_form(client, "/rendez-vous/prendre/confirmer", {"start": start, "key": key}).headers["Location"]
    appointment_id = int(re.search(r"/rendez-vous/(\d+)", location).group(1))
    assert "Annuler le rendez-vous du" in page_of(client.get(f"/rendez-vous/{appointment_id}/annuler"))
    assert post_form(client, f"/rendez-vous/{appointment_id}/annuler", {}).status_code == 303
    with app.app_context():
        assert database.session.scalar(select(func.count()).select_from(SlotLock)) == 0
        appointment = database.session.get(Appointment, appointment_id)
        assert appointment.status == "cancelled" and not appointment.persons[0].active
    mine = page_of(client.get("/rendez-vous"))
    assert "Annulé" in mine and "Vous n'avez aucun rendez-vous à venir." in mine


def test_move_to_another_slot(app, client, camille, town):
    start, key = book_first(client, town)
    location = post_form(client, "/rendez-vous/prendre/confirmer", {"start": start, "key": key}).headers["Location"]
    appointment_id = int(re.search(r"/rendez-vous/(\d+)", location).group(1))
    move_page = page_of(client.get(f"/rendez-vous/{appointment_id}/deplacer"))
    starts = re.findall(r'name="start" id="[^"]+" value="([^"]+)"', move_page)
    new_start = starts[1]
    assert post_form(client, f"/rendez-vous/{appointment_id}/deplacer", {"start": new_start}).status_code == 303
    with app.app_context():
        appointment = database.session.get(Appointment, appointment_id)
        from portal.appointments.journey import start_value

        assert start_value(appointment.starts_at) == new_start
        assert database.session.scalar(select(func.count()).select_from(SlotLock)) == 3


def test_change_limit_blocks_late_cancel(app, client, camille):
    town = make_town(app, change_limit_hours=24 * 30)  # every slot is inside the limit
    start, key = book_first(client, town)
    location = post_form(client, "/rendez-vous/prendre/confirmer", {"start": start, "key": key}).headers["Location"]
    appointment_id = int(re.search(r"/rendez-vous/(\d+)", location).group(1))
    response = post_form(client, f"/rendez-vous/{appointment_id}/annuler", {})
    assert response.status_code == 409 and "ne peut plus être modifié en ligne" in page_of(response)


def test_another_persons_appointment_is_a_404(app, client, camille, town, create_user, auth):
    start, key = book_first(client, town)
    location = post_form(client, "/rendez-vous/prendre/confirmer", {"start": start, "key": key}).headers["Location"]
    appointment_id = int(re.search(r"/rendez-vous/(\d+)", location).group(1))
    create_user(email="eve@example.org")
    auth.logout()
    auth.login("eve@example.org", PASSWORD)
    for url in (f"/rendez-vous/{appointment_id}", f"/rendez-vous/{appointment_id}/annuler",
                f"/rendez-vous/{appointment_id}/deplacer", f"/rendez-vous/{appointment_id}/rendez-vous.ics"):
        assert client.get(url).status_code == 404


def test_no_free_slot_says_so(app, client, camille):
    town = make_town(app, max_delay_days=0, hours=((0, 0), (0, 5)))  # nothing bookable
    html = walk_to_slot(client, town)
    assert "Aucun créneau disponible" in html


def test_pages_out_of_order_go_back_to_the_start(client, camille):
    for url in ("/rendez-vous/prendre/personnes", "/rendez-vous/prendre/situations",
                "/rendez-vous/prendre/pieces", "/rendez-vous/prendre/lieu", "/rendez-vous/prendre/creneau",
                "/rendez-vous/prendre/confirmer"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"].endswith("/rendez-vous/prendre")
