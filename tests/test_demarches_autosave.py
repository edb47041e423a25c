"""Autosave: saved on change with its status, two tabs never overwrite silently, an expired
session loses nothing, a double submission creates one request."""

from __future__ import annotations

import json
import re

from portal import db as database
from portal.demarches.models import Dossier
from tests.conftest import csrf_token, page
from tests.demarches_support import autosave, location, post_step, sign_in, start


def base_in(response) -> dict:
    import html

    raw = re.search(r'id="draft-base" name="_base" value="([^"]+)"', response.get_data(as_text=True)).group(1)
    return json.loads(html.unescape(raw))


def answers(app, dossier_id):
    with app.app_context():
        return database.session.get(Dossier, dossier_id).answers


def test_autosave_saves_and_announces_the_time(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    response = autosave(client, draft, "identite", {"nom": "Durand"}, base={"nom": "Martin"})
    assert response.status_code == 200
    text = page(response)
    assert re.search(r"Brouillon enregistré à \d\d h \d\d", text)
    assert 'id="draft-base"' in text and 'data-hx-swap-oob="true"' in text
    new_base = base_in(response)
    assert new_base["nom"] == "Durand"
    assert answers(app, draft)["nom"] == "Durand"


def test_autosave_shows_conditional_fields_and_announces_them(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    response = autosave(client, draft, "residence", {"nationalite": "etrangere",
                                                     "_shown": "adresse,nationalite"})
    text = page(response)
    assert 'id="champ-titre_sejour_numero"' in text and 'name="titre_sejour_numero"' in text
    assert "Nouvelle question affichée : « Numéro de votre titre de séjour »." in text
    response = autosave(client, draft, "residence", {"nationalite": "francaise",
                                                     "_shown": "adresse,nationalite,titre_sejour_numero,titre_sejour_expiration"})
    text = page(response)
    assert "Question retirée : « Numéro de votre titre de séjour »." in text
    assert '<div id="champ-titre_sejour_numero" class="step-field" hidden data-hx-swap-oob="true">' in text


def test_two_tabs_merge_different_fields_and_refuse_a_conflict(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    shown = {"nom": "Martin", "prenom": "Camille"}  # what both tabs displayed
    # Tab A changes the name, tab B (stale) changes the first name: both kept.
    assert "Brouillon enregistré" in page(autosave(client, draft, "identite", {"nom": "Durand", "prenom": "Camille"}, shown))
    text = page(autosave(client, draft, "identite", {"nom": "Martin", "prenom": "Claire"}, shown))
    assert "Brouillon enregistré" in text
    assert "D'autres réponses ont été modifiées dans un autre onglet" in text
    assert answers(app, draft)["nom"] == "Durand" and answers(app, draft)["prenom"] == "Claire"
    # Tab B now changes the name too, from its stale view: refused, nothing overwritten.
    response = autosave(client, draft, "identite", {"nom": "Petit", "prenom": "Claire"},
                        {"nom": "Martin", "prenom": "Claire"})
    text = page(response)
    assert "Réponse non enregistrée" in text and "enregistré ailleurs : Durand" in text and "votre saisie : Petit" in text
    assert answers(app, draft)["nom"] == "Durand"
    # "Garder ma saisie": the base now holds the stored value, so saving again wins knowingly.
    base = base_in(response)
    assert base["nom"] == "Durand"
    assert "Brouillon enregistré" in page(autosave(client, draft, "identite", {"nom": "Petit", "prenom": "Claire"}, base))
    assert answers(app, draft)["nom"] == "Petit"


def test_a_stale_step_post_without_javascript_keeps_the_input(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    stale_base = json.dumps(base_in(client.get(f"/brouillons/{draft}/etapes/identite")))
    autosave(client, draft, "identite", {"nom": "Durand"}, {"nom": "Martin"})  # another tab
    response = post_step(client, draft, "identite", {"nom": "Petit", "prenom": "Camille", "_base": stale_base})
    assert response.status_code == 409
    text = page(response)
    assert "Réponses modifiées ailleurs" in text and "valeur enregistrée ailleurs : Durand" in text
    assert 'value="Petit"' in text  # the person's input is still in the field
    assert answers(app, draft)["nom"] == "Durand"
    new_base = json.dumps(base_in(response))
    response = post_step(client, draft, "identite", {"nom": "Petit", "_base": new_base},
                         action="plus_tard")
    assert response.status_code == 303
    assert answers(app, draft)["nom"] == "Petit"


def _expire_sessions(app):
    from sqlalchemy import update

    from portal.accounts.models import AuthSession
    from portal.db import utcnow

    with app.app_context():
        database.session.execute(update(AuthSession).values(last_seen_at=utcnow().replace(year=2000)))
        database.session.commit()


def test_session_expired_while_typing_autosave_keeps_everything(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    token = csrf_token(client, f"/brouillons/{draft}/etapes/identite")
    _expire_sessions(app)
    response = client.post(f"/brouillons/{draft}/enregistrer", headers={"HX-Request": "true"},
                           data={"csrf_token": token, "_step": "identite", "nom": "Durand",
                                 "_base": json.dumps({"nom": "Martin"})})
    text = page(response)
    assert "Votre session a expiré" in text and "Se reconnecter" in text
    login_link = re.search(r'href="(/connexion\?next=[^"]+)"', text).group(1)
    assert answers(app, draft)["nom"] == "Martin"
    import html

    response = _login_with_next(client, html.unescape(login_link))
    assert response.status_code == 303
    followed = client.get(location(response))
    assert followed.status_code == 303 and "/etapes/identite" in location(followed)
    assert answers(app, draft)["nom"] == "Durand"


def _login_with_next(client, login_url):
    from urllib.parse import parse_qs, urlsplit

    next_url = parse_qs(urlsplit(login_url).query)["next"][0]
    token = csrf_token(client, "/connexion")
    return client.post("/connexion", query_string={"next": next_url},
                       data={"csrf_token": token, "login": "camille@example.org",
                             "password": "Correct-cheval9!"})


def test_session_expired_without_javascript_the_step_post_is_kept(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    token = csrf_token(client, f"/brouillons/{draft}/etapes/identite")
    _expire_sessions(app)
    response = client.post(f"/brouillons/{draft}/etapes/identite",
                           data={"csrf_token": token, "action": "continuer", "nom": "Lefèvre", "prenom": "Camille"})
    assert response.status_code == 303 and location(response).startswith("/connexion?next=")
    response = _login_with_next(client, location(response))
    followed = client.get(location(response))
    assert "/etapes/identite" in location(followed)
    assert answers(app, draft)["nom"] == "Lefèvre"
    assert "Vos réponses saisies avant l'expiration de votre session ont été enregistrées." in page(
        client.get(location(followed)))


def test_another_browser_cannot_stash_answers_into_a_draft(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    stranger = app.test_client()
    response = stranger.post(f"/brouillons/{draft}/enregistrer",
                             data={"csrf_token": csrf_token(stranger), "_step": "identite", "nom": "Pirate"})
    assert response.status_code == 404


def test_double_submission_creates_one_request(client, auth, create_user, app):
    from tests.test_demarches_other import fill_duplicata

    sign_in(client, auth, create_user)
    draft = fill_duplicata(client)
    summary = client.get(f"/brouillons/{draft}/recapitulatif").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', summary).group(1)
    token = csrf_token(client, f"/brouillons/{draft}/recapitulatif")
    first = client.post(f"/brouillons/{draft}/deposer", data={"csrf_token": token, "version": version})
    second = client.post(f"/brouillons/{draft}/deposer", data={"csrf_token": token, "version": version})
    assert first.status_code == second.status_code == 303
    assert location(first) == location(second)
    with app.app_context():
        from sqlalchemy import func, select

        assert database.session.scalar(select(func.count()).select_from(Dossier)
                                       .where(Dossier.submitted_at.is_not(None))) == 1


def test_submission_refused_when_answers_changed_since_the_summary(client, auth, create_user):
    from tests.test_demarches_other import fill_duplicata

    sign_in(client, auth, create_user)
    draft = fill_duplicata(client)
    summary = client.get(f"/brouillons/{draft}/recapitulatif").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', summary).group(1)
    autosave(client, draft, "motif", {"numero_carte": "AUTRE"}, {"numero_carte": "CMI-99"})
    token = csrf_token(client, f"/brouillons/{draft}/recapitulatif")
    response = client.post(f"/brouillons/{draft}/deposer", data={"csrf_token": token, "version": version})
    assert response.status_code == 409
    assert "depuis l'affichage de ce récapitulatif" in page(response) and "AUTRE" in page(response)


def test_final_check_refuses_an_incomplete_draft(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi_duplicata")
    summary = client.get(f"/brouillons/{draft}/recapitulatif").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', summary).group(1)
    token = csrf_token(client, f"/brouillons/{draft}/recapitulatif")
    response = client.post(f"/brouillons/{draft}/deposer", data={"csrf_token": token, "version": version})
    assert response.status_code == 422
    text = page(response)
    assert "Sélectionnez une réponse pour « Pourquoi demandez-vous une nouvelle carte ? »" in text
    assert "retour=recapitulatif#f-motif" in text


def test_a_save_racing_another_one_merges_again(client, auth, create_user, app):
    """Another save commits between our read and our write: the version check catches it."""
    from sqlalchemy import update

    from portal.demarches import services

    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    with app.app_context():
        dossier = database.session.get(Dossier, draft)
        assert dossier.answers["nom"] == "Martin"
        engine = app.extensions["sqlalchemy_engine"]
        with engine.begin() as conn:  # the other tab, committed meanwhile
            conn.execute(update(Dossier).where(Dossier.id == draft).values(
                answers={**dossier.answers, "prenom": "Claire"}, version=Dossier.version + 1))
        result = services.save_answers(dossier, {"nom": "Durand", "prenom": "Camille"},
                                       {"nom": "Martin", "prenom": "Camille"})
        database.session.commit()
        assert result.applied == ["nom"] and result.changed_elsewhere == ["prenom"]
    stored = answers(app, draft)
    assert stored["nom"] == "Durand" and stored["prenom"] == "Claire"


def test_moving_between_steps_never_competes_with_a_save(client, auth, create_user, app):
    """A page load racing a save (e.g. the beacon sent on leaving the previous page) is fine."""
    from sqlalchemy import update

    from portal.demarches import services

    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    with app.app_context():
        dossier = database.session.get(Dossier, draft)
        with app.extensions["sqlalchemy_engine"].begin() as conn:
            conn.execute(update(Dossier).where(Dossier.id == draft).values(
                answers={**dossier.answers, "nom": "Durand"}, version=Dossier.version + 1))
        services.mark_step(dossier, "residence")
        services.touch(dossier)
        database.session.commit()
    with app.app_context():
        stored = database.session.get(Dossier, draft)
        assert stored.current_step == "residence" and stored.answers["nom"] == "Durand"
