"""Rendez-vous in Chromium, JavaScript on and off, axe-core on every page visited: the whole
booking journey by keyboard-reachable controls, its error pages, « Mes rendez-vous », and the
staff pages."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.appointments_support import PREDEMANDE, make_town
from tests.browser.conftest import Ui, assert_reflows, create_live_user

pytestmark = pytest.mark.browser


def test_book_a_passport_appointment(ui: Ui):
    make_town(ui.live.app, guichets=2, min_delay_hours=0, change_limit_hours=0)
    create_live_user(ui.live, prenom="Camille", nom="Martin", date_naissance=date(1985, 7, 14))
    ui.login("camille@example.org")
    ui.visit("/rendez-vous")
    assert "Vous n'avez aucun rendez-vous à venir." in ui.text()
    ui.follow("Prendre rendez-vous")

    ui.submit("Continuer")  # nothing chosen: the error summary, a page title starting with "Erreur"
    assert ui.page.title().startswith("Erreur : ")
    assert "Choisissez le motif de votre rendez-vous." in ui.text()
    ui.page.get_by_label("Passeport").check()
    ui.submit("Continuer")

    ui.page.get_by_label(re.compile("Moi-même")).check()
    ui.submit("Continuer")

    ui.page.get_by_label("Renouvellement").check()
    ui.page.locator("#moi-titre-0").check()
    ui.fill("moi-predemande", "123")
    ui.submit("Continuer")
    assert ui.page.title().startswith("Erreur : ") and "10 lettres ou chiffres" in ui.text()
    ui.fill("moi-predemande", PREDEMANDE.lower())
    ui.submit("Continuer")

    assert "Timbre fiscal : 86 €" in ui.text() and "La présence du bénéficiaire" in ui.text()
    ui.follow("Continuer : choisir le lieu")
    ui.page.get_by_label("Hôtel de ville").check()
    ui.submit("Continuer")

    assert "Choisissez un créneau" in ui.text()
    ui.page.locator("input[name=start]").first.check()
    ui.submit("Continuer")
    assert "Vérifiez votre rendez-vous" in ui.text()
    ui.submit("Confirmer le rendez-vous")
    assert "Votre rendez-vous est confirmé" in ui.text()
    assert "Un courriel de confirmation" in ui.text()
    email = ui.email_text("camille@example.org")
    assert "Total des timbres fiscaux : 86 €" in email

    ui.visit("/rendez-vous")
    assert "Passeport" in ui.text() and "Hôtel de ville" in ui.text()


def test_staff_set_up_pages_are_accessible(ui: Ui):
    create_live_user(ui.live, email="agent@example.org")
    with ui.live.app.app_context():
        from portal import db as database
        from portal.accounts.models import User

        database.session.query(User).filter_by(email="agent@example.org").update({"role": "agent"})
        database.session.commit()
    ui.login("agent@example.org")
    ui.visit("/gestion/rendez-vous")
    assert "Gestion des rendez-vous" in ui.text()
    ui.follow("Ajouter un lieu")
    ui.submit("Enregistrer")
    assert ui.page.title().startswith("Erreur : ")
    ui.fill("name", "Mairie annexe")
    ui.fill("address", "Avenue de la Victoire, 77100 Meaux")
    ui.submit("Enregistrer")
    assert "Le lieu « Mairie annexe » est enregistré." in ui.text()
    ui.fill("horaire-start", "9h")
    ui.fill("horaire-end", "12h")
    ui.submit("Ajouter l'horaire")
    assert "Lundi : 09:00 – 12:00" in ui.text()
    ui.visit("/gestion/rendez-vous/motifs/nouveau")


def test_slot_list_reflows_at_320_pixels(narrow_ui: Ui):
    make_town(narrow_ui.live.app, min_delay_hours=0)
    create_live_user(narrow_ui.live, date_naissance=date(1985, 7, 14))
    narrow_ui.login("camille@example.org")
    narrow_ui.visit("/rendez-vous/prendre")
    narrow_ui.page.get_by_label("Passeport").check()
    narrow_ui.submit("Continuer")
    narrow_ui.page.get_by_label(re.compile("Moi-même")).check()
    narrow_ui.submit("Continuer")
    narrow_ui.page.get_by_label("Première demande").check()
    narrow_ui.page.locator("#moi-titre-0").check()
    narrow_ui.fill("moi-predemande", PREDEMANDE)
    narrow_ui.submit("Continuer")
    narrow_ui.follow("Continuer : choisir le lieu")
    narrow_ui.page.get_by_label("Hôtel de ville").check()
    narrow_ui.submit("Continuer")
    assert_reflows(narrow_ui.page)


def test_day_view_and_mine_with_titles_and_waiting_list(ui: Ui):
    import secrets

    from portal import db as database
    from portal.accounts.models import User
    from portal.appointments import services
    from portal.appointments.models import Appointment, Lieu
    from portal.appointments.slots import PARIS

    town = make_town(ui.live.app, min_delay_hours=0, change_limit_hours=0)
    camille = create_live_user(ui.live, prenom="Camille", nom="Martin", date_naissance=date(1985, 7, 14))
    create_live_user(ui.live, email="agent@example.org")
    app = ui.live.app
    with app.test_request_context():
        database.session.query(User).filter_by(email="agent@example.org").update({"role": "agent"})
        user = database.session.get(User, camille.id)
        motif, lieu = services.get_motif(town["motif"]), database.session.get(Lieu, town["lieu"])
        slot = services.free_slots(motif, lieu, 1)[0]
        appointment, _ = services.book(user, motif, lieu, slot.start, [services.PersonRequest(
            "Camille Martin", date(1985, 7, 14), "renouvellement", predemande=PREDEMANDE)], secrets.token_urlsafe(24))
        services.set_status(appointment, "seen")
        services.mark_title_arrived(appointment.persons[0])
        services.join_waitlist(user, motif, lieu, [services.PersonRequest(
            "Camille Martin", date(1985, 7, 14), "premiere", predemande="WAIT000001")], services.last_bookable_day(motif))
        database.session.commit()
        day = database.session.get(Appointment, appointment.id).starts_at.astimezone(PARIS).date().isoformat()
    ui.login("agent@example.org")
    ui.visit(f"/gestion/rendez-vous/lieux/{town['lieu']}/jour?date={day}")
    assert "Camille Martin" in ui.text() and "titre arrivé" in ui.text()
    ui.visit(f"/gestion/rendez-vous/lieux/{town['lieu']}")
    ui.visit(f"/gestion/rendez-vous/lieux/{town['lieu']}/reserver?motif={town['motif']}&personnes=2")
    assert "Personne 2" in ui.text()
    ui.logout()
    ui.login("camille@example.org")
    ui.visit("/rendez-vous")
    assert "Titres à retirer" in ui.text() and "Liste d'attente" in ui.text()
