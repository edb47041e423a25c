"""Without JavaScript, a question revealed by the answers just saved is asked on the same step,
announced, and never reported as an error before the person has seen it."""

from __future__ import annotations

from sqlalchemy import select

from portal import db as database
from tests.conftest import csrf_token, page
from tests.demarches_support import location, post_step, sign_in, start

ADDRESS = {"adresse-adresse": "1 rue de la Paix", "adresse-code_postal": "62000", "adresse-commune": "Arras"}
NOTICE = "De nouvelles questions sont apparues"


def _shown(html: str) -> str:
    import re

    return re.search(r'name="_shown" value="([^"]*)"', html).group(1)


def test_revealed_questions_are_asked_on_the_same_step_without_errors(client, auth, create_user, app):
    from portal.demarches.models import Dossier

    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    shown = _shown(page(client.get(f"/brouillons/{draft}/etapes/demande")))
    assert "sous_mentions" not in shown
    response = post_step(client, draft, "demande", {"type_demande": "premiere", "mentions": "invalidite",
                                                    "mentions-present": "1", "_shown": shown})
    assert response.status_code == 200, page(response)[:2000]
    text = page(response)
    assert NOTICE in text and 'href="#f-sous_mentions"' in text and "autofocus" in text
    assert "Il y a un problème" not in text and "<title>Erreur" not in text
    with app.app_context():
        answers = database.session.scalar(select(Dossier).where(Dossier.id == draft)).answers
        assert answers["mentions"] == ["invalidite"]  # saved all the same
    # Seen now: saving again moves on (the optional sub-mentions may stay empty).
    response = post_step(client, draft, "demande", {"mentions": "invalidite", "mentions-present": "1",
                                                    "_shown": _shown(text)})
    assert response.status_code == 303 and location(response).endswith("/etapes/identite")


def test_a_revealed_required_question_is_asked_and_other_errors_stay(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    shown = _shown(page(client.get(f"/brouillons/{draft}/etapes/residence")))
    response = post_step(client, draft, "residence", {"adresse-adresse": "1 rue de la Paix",
                                                      "adresse-code_postal": "99", "adresse-commune": "Arras",
                                                      "nationalite": "etrangere", "_shown": shown})
    text = page(response)
    assert response.status_code == 422 and NOTICE in text
    assert "Saisissez un code postal à 5 chiffres" in text  # a question the person saw
    assert "Renseignez « Numéro de votre titre de séjour »." not in text  # one never shown
    response = post_step(client, draft, "residence", {**ADDRESS, "nationalite": "etrangere", "_shown": _shown(text)})
    assert response.status_code == 422 and NOTICE not in page(response)
    assert "Renseignez « Numéro de votre titre de séjour »." in page(response)


def test_the_questionnaire_asks_the_gir_before_giving_a_result(client):
    url = "/demarches/cmi_eligibilite"
    shown = _shown(page(client.get(url)))
    data = {"csrf_token": csrf_token(client, url), "reside": "oui", "nationalite": "francaise",
            "apa": "beneficiaire", "reconnaissance": "aucun", "station_debout": "non", "deplacement": "oui"}
    response = client.post(url, data={**data, "_shown": shown})
    text = page(response)
    assert response.status_code == 200 and NOTICE in text and 'id="f-gir"' in text
    assert "Résultat" not in text and "Sélectionnez une réponse pour « Votre niveau GIR »" not in text
    response = client.post(url, data={**data, "gir": "2", "_shown": _shown(text)})
    assert "Résultat" in page(response) and NOTICE not in page(response)


def test_commencer_offers_the_draft_already_under_way(client, auth, create_user):
    sign_in(client, auth, create_user)
    first = start(client, "cmi_duplicata")
    post_step(client, first, "motif", {"motif": "perte", "mention": "stationnement", "numero_carte": "X"})
    url = "/demarches/cmi_duplicata"
    response = client.post(url + "/commencer", data={"csrf_token": csrf_token(client, url)})
    text = page(response)
    assert response.status_code == 200 and "Vous avez déjà commencé cette démarche" in text
    assert f'href="/brouillons/{first}"' in text and "Dernière étape ouverte : Le titulaire de la carte" in text
    assert "Commencer une nouvelle demande" in text
    mine = page(client.get("/mes-demarches"))
    assert "Dernière étape ouverte : Le titulaire de la carte" in mine
    second = start(client, "cmi_duplicata")  # the person chooses a new one
    assert second != first
