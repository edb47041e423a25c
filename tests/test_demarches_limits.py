"""Storage limits in démarches and input never dropped silently (issue 14, items 8 and 10)."""

from __future__ import annotations

import pytest

from portal import db as database
from portal.demarches.models import Dossier
from tests.conftest import csrf_token, page
from tests.demarches_support import autosave, location, post_step, sign_in, start
from tests.test_demarches_other import fill_duplicata, submit


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def answers(app, dossier_id: int) -> dict:
    with app.app_context():
        return dict(database.session.get(Dossier, dossier_id).answers)


# --- lengths -------------------------------------------------------------------------------------


def test_an_answer_longer_than_its_field_is_refused_on_autosave(app, client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi_duplicata")
    response = autosave(client, draft, "motif", {"numero_carte": "9" * 100_000, "motif": "perte"})
    text = page(response)
    assert response.status_code == 200 and "Réponse non enregistrée" in text
    assert "« Numéro de la carte » doit comporter au plus 30 caractères" in text
    assert "100000 caractères" in text
    saved = answers(app, draft)
    assert "numero_carte" not in saved and saved["motif"] == "perte"  # the other answer is saved
    assert autosave(client, draft, "motif", {"numero_carte": "CMI-42"}).status_code == 200
    assert answers(app, draft)["numero_carte"] == "CMI-42"


def test_a_ten_megabyte_answer_is_never_stored(app, client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi_duplicata")
    response = autosave(client, draft, "motif", {"numero_carte": "9" * (10 * 1024 * 1024)})
    assert response.status_code in (413, 422) or "Réponse non enregistrée" in page(response)
    assert "numero_carte" not in answers(app, draft)


def test_an_answer_longer_than_its_field_is_refused_on_the_plain_post(app, client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi_duplicata")
    typed = "CMI-" + "1" * 40
    response = post_step(client, draft, "motif", {"motif": "perte", "mention": "stationnement",
                                                  "numero_carte": typed})
    text = page(response)
    assert response.status_code == 422 and "doit comporter au plus 30 caractères" in text
    assert "n&#39;a pas été enregistrée" in text or "n'a pas été enregistrée" in text
    assert f'value="{typed}"' in text  # what was typed stays on the page, to be shortened
    assert "numero_carte" not in answers(app, draft) and answers(app, draft)["motif"] == "perte"


def test_every_text_field_has_a_length_even_undeclared(app):
    from portal.demarches import engine, get_procedure

    with app.app_context():
        for procedure_id in ("cmi", "cmi_duplicata", "cmi_rapo"):
            for f in get_procedure(procedure_id).all_fields().values():
                if f.type in ("text", "textarea", "email", "phone", "siret", "integer", "decimal", "date"):
                    assert engine.max_length(f), f.id
        [motifs] = [f for f in get_procedure("cmi_duplicata").workflow.statuses["refusee"].data
                    if f.id == "motifs"] or [None]
        if motifs is not None:
            assert engine.max_length(motifs) == 5000  # a textarea without max_length


# --- drafts ----------------------------------------------------------------------------------------


def test_open_drafts_per_procedure_are_capped_and_the_page_offers_to_resume_one(app, client, auth, create_user):
    sign_in(client, auth, create_user)
    app.config["DEMARCHES_MAX_DRAFTS"] = 2
    first = start(client, "cmi_duplicata")
    autosave(client, first, "motif", {"motif": "perte"})  # touched: a new click makes a new draft
    second = start(client, "cmi_duplicata")
    autosave(client, second, "motif", {"motif": "vol"})
    response = client.post("/demarches/cmi_duplicata/commencer",
                           data={"csrf_token": csrf_token(client, "/demarches/cmi_duplicata")})
    text = page(response)
    assert response.status_code == 409
    assert "Vous avez déjà 2 brouillons de cette démarche en cours" in text
    assert f'href="/brouillons/{first}"' in text and f'href="/brouillons/{second}"' in text
    assert "Reprendre ce brouillon" in text
    with app.app_context():
        assert database.session.query(Dossier).count() == 2
    # A submitted request is not a draft: it frees its place.
    submit(client, fill_duplicata_in(client, first))
    assert start(client, "cmi_duplicata") not in (first, second)


def fill_duplicata_in(client, draft: int) -> int:
    from tests.test_demarches_other import ADDRESS

    post_step(client, draft, "motif", {"motif": "perte", "mention": "stationnement", "numero_carte": "CMI-99"})
    post_step(client, draft, "titulaire", {"nom": "Martin", "prenom": "Camille", "date_naissance": "1950-03-27",
                                           **ADDRESS, "email": "camille@example.org"})
    post_step(client, draft, "paiement", {"accord_tarif": "oui"})
    return draft


# --- nothing dropped silently ----------------------------------------------------------------------


def test_save_for_later_shows_an_upload_refusal_and_keeps_the_other_answers(app, client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi_duplicata")
    response = post_step(client, draft, "motif", {"motif": "vol", "mention": "stationnement",
                                                  "numero_carte": "CMI-7"}, action="plus_tard",
                         files={"declaration_vol": b"GIF89a pas un pdf"})
    text = page(response)
    assert response.status_code == 422 and "Brouillon est enregistré" not in text
    assert "Le fichier doit être au format PDF, JPEG ou PNG" in text
    assert "Vos autres réponses sont enregistrées" in text
    assert text.count("<title>Erreur : ") == 1
    saved = answers(app, draft)
    assert saved["numero_carte"] == "CMI-7" and saved["motif"] == "vol" and "declaration_vol" not in saved


def test_a_step_posted_after_submission_says_it_was_not_recorded(app, client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = fill_duplicata(client)
    reference = submit(client, draft)
    before = answers(app, draft)
    # A tab left open on the step, posted after the request was sent from another one.
    response = client.post(f"/brouillons/{draft}/etapes/motif", data={
        "csrf_token": csrf_token(client, "/mes-demarches"), "action": "continuer", "motif": "vol",
        "mention": "priorite", "numero_carte": "AUTRE"})
    assert response.status_code == 303 and location(response).endswith(f"/demandes/{reference}")
    request_page = page(client.get(location(response)))
    assert "Cette demande a déjà été déposée le" in request_page
    assert "la modification envoyée n&#39;a pas été enregistrée" in request_page \
        or "la modification envoyée n'a pas été enregistrée" in request_page
    assert answers(app, draft) == before
    fragment = page(autosave(client, draft, "motif", {"numero_carte": "AUTRE"}, token_from="/mes-demarches"))
    assert "Cette demande a déjà été déposée" in fragment
