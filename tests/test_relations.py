"""Mes relations: natural and legal persons, checks in French, per-account access, and the
services démarches use (relations_for, snapshot, prefill_from)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from portal import db as database
from portal.relations import services
from portal.relations.models import Relation
from tests.conftest import PASSWORD, post_form
from tests.conftest import page as page_of

VALID_SIRET = "73282932000074"
LA_POSTE_SIRET = "35600000049837"  # fails the Luhn key, digits sum to a multiple of 5

CHILD = {"kind": "enfant", "civilite": "Madame", "nom": "Martin", "prenom": "Léa",
         "date_naissance": "14/07/2015"}
COMPANY = {"kind": "entreprise", "raison_sociale": "Boulangerie Martin", "siret": "732 829 320 00074",
           "adresse": "12 rue des Lilas", "code_postal": "72000", "commune": "Le Mans"}


@pytest.fixture
def camille(create_user, auth):
    user = create_user(email="camille@example.org", prenom="Camille")
    auth.login("camille@example.org", PASSWORD)
    return user


def _relations(app, user_id):
    with app.app_context():
        rows = database.session.scalars(select(Relation).where(Relation.user_id == user_id)
                                        .order_by(Relation.id)).all()
        database.session.expunge_all()  # usable after the context, as plain loaded objects
        return rows


# --- pure checks --------------------------------------------------------------------------


@pytest.mark.parametrize("siret, valid", [
    (VALID_SIRET, True),
    ("732 829 320 00074", True),
    ("73282932000075", False),          # wrong key
    ("7328293200007", False),           # 13 digits
    ("7328293200007A", False),
    (LA_POSTE_SIRET, True),             # La Poste: digit sum multiple of 5
    ("35600000049836", False),          # La Poste: digit sum not a multiple of 5
    ("35600000000113", False),          # La Poste: Luhn is not enough
    ("35600000000048", True),           # La Poste head office follows Luhn
    ("", False),
])
def test_siret_key(siret, valid):
    assert services.siret_is_valid(siret) is valid


@pytest.mark.parametrize("code, valid", [("75001", True), ("20000", True), ("97400", True),
                                         ("98800", True), ("00100", False), ("99000", False),
                                         ("7500", False), ("7500A", False)])
def test_french_postcode(code, valid):
    assert services.postcode_is_valid(code) is valid


# --- pages --------------------------------------------------------------------------------


def test_list_requires_login(client):
    response = client.get("/relations")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_empty_list_offers_both_kinds_of_relation(client, camille):
    page = page_of(client.get("/relations"))
    assert "<h1>Mes relations</h1>" in page
    assert "Vous n'avez enregistré aucune personne physique." in page
    assert 'href="/relations/ajouter/personne-physique"' in page
    assert 'href="/relations/ajouter/personne-morale"' in page


def test_add_natural_person_then_listed(app, client, camille):
    form = page_of(client.get("/relations/ajouter/personne-physique"))
    assert "Ajouter une personne physique" in form and "Lien avec vous" in form
    assert "Les champs marqués d'un astérisque (*) sont obligatoires." in form
    response = post_form(client, "/relations/ajouter/personne-physique", CHILD)
    assert response.status_code == 303 and response.headers["Location"] == "/relations"
    page = page_of(client.get("/relations"))
    assert "La relation « Léa Martin » a été ajoutée." in page
    assert "Léa Martin" in page and "Enfant" in page and "14/07/2015" in page
    (relation,) = _relations(app, camille.id)
    assert relation.kind == "enfant" and relation.date_naissance == date(2015, 7, 14)
    assert relation.raison_sociale is None and relation.siret is None


def test_add_legal_person_normalises_siret(app, client, camille):
    response = post_form(client, "/relations/ajouter/personne-morale", COMPANY)
    assert response.status_code == 303
    (relation,) = _relations(app, camille.id)
    assert relation.siret == VALID_SIRET and relation.is_legal
    page = page_of(client.get("/relations"))
    assert "Boulangerie Martin" in page and "12 rue des Lilas, 72000 Le Mans" in page


def test_la_poste_siret_is_accepted(app, client, camille):
    response = post_form(client, "/relations/ajouter/personne-morale",
                         {**COMPANY, "raison_sociale": "La Poste", "siret": LA_POSTE_SIRET})
    assert response.status_code == 303
    assert _relations(app, camille.id)[0].siret == LA_POSTE_SIRET


def test_natural_person_missing_fields_are_reported_in_french(app, client, camille):
    response = post_form(client, "/relations/ajouter/personne-physique", {"nom": "Martin"})
    assert response.status_code == 422
    page = page_of(response)
    assert "<title>Erreur : Ajouter une personne physique" in page
    for message in ("Veuillez indiquer votre lien avec cette personne.",
                    "La saisie de la civilité est obligatoire.",
                    "La saisie du prénom est obligatoire.",
                    "La saisie de la date de naissance est obligatoire."):
        assert message in page
    assert 'value="Martin"' in page  # what was typed stays
    assert _relations(app, camille.id) == []


def test_birth_date_and_optional_postcode_are_checked(client, camille):
    response = post_form(client, "/relations/ajouter/personne-physique",
                         {**CHILD, "date_naissance": "31/02/2015", "code_postal": "750"})
    page = page_of(response)
    assert response.status_code == 422
    assert "Cette date n'existe pas : vérifiez le jour et le mois (JJ/MM/AAAA)." in page
    assert "Le code postal doit comporter 5 chiffres, par exemple 75001." in page
    response = post_form(client, "/relations/ajouter/personne-physique",
                         {**CHILD, "date_naissance": "01/01/2999"})
    assert "La date de naissance doit être une date passée." in page_of(response)


@pytest.mark.parametrize("siret, message", [
    ("73282932000075", "Le numéro SIRET n'est pas valide : sa clé de contrôle ne correspond pas."),
    ("35600000049836", "Le numéro SIRET n'est pas valide : sa clé de contrôle ne correspond pas."),
    ("1234", "Le numéro SIRET doit comporter 14 chiffres"),
    ("", "La saisie du numéro SIRET est obligatoire."),
])
def test_siret_errors_in_french(app, client, camille, siret, message):
    response = post_form(client, "/relations/ajouter/personne-morale", {**COMPANY, "siret": siret})
    assert response.status_code == 422
    page = page_of(response)
    assert message in page
    assert 'aria-describedby="siret-hint siret-error"' in page and 'aria-invalid="true"' in page
    assert _relations(app, camille.id) == []


@pytest.mark.parametrize("code, message", [
    ("", "La saisie du code postal est obligatoire."),
    ("7200", "Le code postal doit comporter 5 chiffres, par exemple 75001."),
    ("00000", "Ce code postal n'existe pas en France : vérifiez les 5 chiffres."),
])
def test_legal_person_postcode_errors(client, camille, code, message):
    response = post_form(client, "/relations/ajouter/personne-morale", {**COMPANY, "code_postal": code})
    assert response.status_code == 422
    assert message in page_of(response)


def test_legal_person_requires_name_and_address(client, camille):
    response = post_form(client, "/relations/ajouter/personne-morale", {"siret": VALID_SIRET})
    page = page_of(response)
    for message in ("Veuillez indiquer s'il s'agit d'une association ou d'une entreprise.",
                    "La saisie de la raison sociale est obligatoire.",
                    "La saisie de l'adresse est obligatoire.",
                    "La saisie de la commune est obligatoire."):
        assert message in page


def test_a_legal_kind_cannot_be_posted_on_the_natural_form(app, client, camille):
    response = post_form(client, "/relations/ajouter/personne-physique", {**CHILD, "kind": "entreprise"})
    assert response.status_code == 422
    assert _relations(app, camille.id) == []


def test_edit_prefills_and_saves(app, client, camille):
    post_form(client, "/relations/ajouter/personne-physique", CHILD)
    (relation,) = _relations(app, camille.id)
    form = page_of(client.get(f"/relations/{relation.id}/modifier"))
    assert "Modifier « Léa Martin »" in form and 'value="14/07/2015"' in form
    assert re.search(r'<input[^>]*checked[^>]*value="enfant"|<input[^>]*value="enfant"[^>]*checked', form)
    response = post_form(client, f"/relations/{relation.id}/modifier",
                         {**CHILD, "prenom": "Léonie", "code_postal": "72000", "commune": "Le Mans"})
    assert response.status_code == 303
    (relation,) = _relations(app, camille.id)
    assert relation.prenom == "Léonie" and relation.code_postal == "72000"
    assert "La relation « Léonie Martin » a été modifiée." in page_of(client.get("/relations"))


def test_edit_with_errors_keeps_the_typed_values(app, client, camille):
    post_form(client, "/relations/ajouter/personne-morale", COMPANY)
    (relation,) = _relations(app, camille.id)
    response = post_form(client, f"/relations/{relation.id}/modifier", {**COMPANY, "siret": "73282932000075"})
    assert response.status_code == 422
    assert 'value="73282932000075"' in page_of(response)
    assert _relations(app, camille.id)[0].siret == VALID_SIRET


def test_delete_asks_for_confirmation_then_deletes(app, client, camille):
    post_form(client, "/relations/ajouter/personne-physique", CHILD)
    (relation,) = _relations(app, camille.id)
    confirm = client.get(f"/relations/{relation.id}/supprimer")
    assert confirm.status_code == 200
    assert "Supprimer « Léa Martin » de mes relations" in page_of(confirm)
    assert _relations(app, camille.id)  # nothing deleted by the GET
    response = post_form(client, f"/relations/{relation.id}/supprimer", {})
    assert response.status_code == 303
    assert _relations(app, camille.id) == []
    assert "La relation « Léa Martin » a été supprimée." in page_of(client.get("/relations"))


def test_delete_without_csrf_token_is_refused(app, client, camille):
    post_form(client, "/relations/ajouter/personne-physique", CHILD)
    (relation,) = _relations(app, camille.id)
    assert client.post(f"/relations/{relation.id}/supprimer").status_code == 400
    assert len(_relations(app, camille.id)) == 1


def test_unknown_category_is_404(client, camille):
    assert client.get("/relations/ajouter/extraterrestre").status_code == 404


def test_add_from_another_flow_returns_there_with_the_new_relation(app, client, camille):
    url = "/relations/ajouter/personne-physique?next=/demarches/cmi/beneficiaire"
    form = page_of(client.get(url))
    assert 'action="/relations/ajouter/personne-physique?next=/demarches/cmi/beneficiaire"' in form
    assert 'href="/demarches/cmi/beneficiaire"' in form  # « Annuler » goes back to the procedure
    response = post_form(client, url, CHILD)
    (relation,) = _relations(app, camille.id)
    assert response.headers["Location"] == f"/demarches/cmi/beneficiaire?relation={relation.id}"


def test_next_pointing_elsewhere_is_ignored(client, camille):
    response = post_form(client, "/relations/ajouter/personne-physique?next=https://evil.example/x", CHILD)
    assert response.headers["Location"] == "/relations"


def test_another_account_gets_404_on_every_relation_url(app, client, create_user, auth, camille):
    post_form(client, "/relations/ajouter/personne-physique", CHILD)
    (relation,) = _relations(app, camille.id)
    auth.logout()
    create_user(email="dominique@example.org")
    auth.login("dominique@example.org", PASSWORD)
    for url in (f"/relations/{relation.id}/modifier", f"/relations/{relation.id}/supprimer"):
        assert client.get(url).status_code == 404
        assert post_form(client, url, {**CHILD, "prenom": "Pirate"}).status_code == 404
    assert "Léa Martin" not in page_of(client.get("/relations"))
    (still,) = _relations(app, camille.id)
    assert still.prenom == "Léa"


def test_account_deletion_deletes_relations(app, client, camille):
    post_form(client, "/relations/ajouter/personne-physique", CHILD)
    response = post_form(client, "/compte/supprimer", {"current_password": PASSWORD})
    assert response.status_code == 303
    with app.app_context():
        assert database.session.scalars(select(Relation)).all() == []


def test_header_and_account_page_link_to_relations(client, camille):
    page = page_of(client.get("/compte"))
    assert page.count('href="/relations"') >= 2  # header navigation and the account page
    assert 'href="/relations" aria-current="page"' in page_of(client.get("/relations"))


# --- services for démarches ---------------------------------------------------------------


def _make(app, user, kind, **values):
    with app.app_context():
        relation = services.create_relation(user, kind, values)
        database.session.commit()
        return relation.id


def test_relations_for_filters_by_kind_and_owner(app, create_user):
    owner = create_user(email="owner@example.org")
    other = create_user(email="other@example.org")
    child = _make(app, owner, "enfant", nom="Martin", prenom="Léa", civilite="Madame",
                  date_naissance=date(2015, 7, 14))
    spouse = _make(app, owner, "conjoint", nom="Martin", prenom="Alex", civilite="Monsieur",
                   date_naissance=date(1980, 1, 2))
    company = _make(app, owner, "entreprise", raison_sociale="Boulangerie", siret=VALID_SIRET,
                    adresse="1 rue", code_postal="72000", commune="Le Mans")
    _make(app, other, "enfant", nom="Autre", prenom="Enfant", civilite="Monsieur", date_naissance=date(2012, 1, 1))
    with app.app_context():
        assert [r.id for r in services.relations_for(owner)] == [spouse, child, company]
        assert [r.id for r in services.relations_for(owner, ["enfant", "autre"])] == [child]
        assert [r.id for r in services.relations_for(owner, services.LEGAL_KINDS)] == [company]
        assert services.relations_for(owner, []) == []
        with pytest.raises(ValueError):
            services.relations_for(owner, ["cousin"])
        assert services.get_relation(other, child) is None
        assert services.get_relation(owner, child).id == child
        assert services.is_natural("parent") and services.is_legal("association")
        assert services.kind_label("conjoint") == "Conjoint ou conjointe"
        assert not services.is_legal(services.get_relation(owner, child))


def test_snapshot_is_plain_data_that_outlives_the_relation(app, create_user):
    import json

    owner = create_user(email="owner@example.org")
    child = _make(app, owner, "enfant", nom="Martin", prenom="Léa", civilite="Madame",
                  date_naissance=date(2015, 7, 14))
    with app.test_request_context():
        relation = services.get_relation(owner, child)
        copy = services.snapshot(relation)
        json.dumps(copy)  # storable as JSON in a request
        services.update_relation(relation, "enfant", {"nom": "Durand", "prenom": "Léa", "civilite": "Madame",
                                                     "date_naissance": date(2015, 7, 14)})
        services.delete_relation(relation)
        database.session.commit()
    assert copy == {
        "relation_id": child, "kind": "enfant", "kind_label": "Enfant", "category": "natural",
        "display_name": "Léa Martin", "civilite": "Madame", "nom": "Martin", "prenom": "Léa",
        "date_naissance": "2015-07-14", "raison_sociale": None, "siret": None,
        "adresse": None, "code_postal": None, "commune": None,
    }


def test_prefill_uses_profile_field_names(app, create_user):
    from portal.accounts.services import PROFILE_FIELDS

    owner = create_user(email="owner@example.org")
    child = _make(app, owner, "enfant", nom="Martin", prenom="Léa", civilite="Madame",
                  date_naissance=date(2015, 7, 14), adresse="3 place Verte", code_postal="72000",
                  commune="Le Mans")
    company = _make(app, owner, "association", raison_sociale="Les Amis", siret=VALID_SIRET,
                    adresse="1 rue", code_postal="72000", commune="Le Mans")
    with app.app_context():
        values = services.prefill_from(services.get_relation(owner, child))
        assert set(values) <= set(PROFILE_FIELDS)
        assert values == {"civilite": "Madame", "nom": "Martin", "prenom": "Léa",
                          "date_naissance": date(2015, 7, 14), "adresse": "3 place Verte",
                          "code_postal": "72000", "commune": "Le Mans"}
        legal = services.prefill_from(services.get_relation(owner, company))
        assert legal["nom"] == "Les Amis" and legal["siret"] == VALID_SIRET and legal["prenom"] is None


def test_natural_and_legal_cannot_be_swapped(app, create_user):
    owner = create_user(email="owner@example.org")
    child = _make(app, owner, "enfant", nom="Martin", prenom="Léa", civilite="Madame",
                  date_naissance=date(2015, 7, 14))
    with app.app_context(), pytest.raises(ValueError):
        services.update_relation(services.get_relation(owner, child), "entreprise", {})


def test_inline_check_returns_the_field_with_its_french_error(client, camille):
    headers = {"HX-Request": "true", "HX-Target": "siret-group"}
    response = post_form(client, "/relations/verifier/personne-morale/siret",
                         {"siret": "73282932000075", "raison_sociale": ""}, headers=headers)
    html = page_of(response)
    assert response.status_code == 200 and html.lstrip().startswith('<div class="field field--error" id="siret-group">')
    assert "sa clé de contrôle ne correspond pas" in html
    assert "raison sociale" not in html  # only this field's error
    assert 'data-hx-post="/relations/verifier/personne-morale/siret"' in html
    ok = page_of(post_form(client, "/relations/verifier/personne-morale/siret",
                           {"siret": VALID_SIRET}, headers=headers))
    assert "error-message" not in ok
    headers = {"HX-Request": "true", "HX-Target": "code_postal-group"}
    postcode = page_of(post_form(client, "/relations/verifier/personne-physique/code_postal",
                                 {"code_postal": "7500"}, headers=headers))
    assert "Le code postal doit comporter 5 chiffres, par exemple 75001." in postcode
    assert post_form(client, "/relations/verifier/personne-morale/nom", {}).status_code == 404
    assert post_form(client, "/relations/verifier/inconnu/siret", {}).status_code == 404


def test_form_fields_carry_the_inline_check(client, camille):
    page = page_of(client.get("/relations/ajouter/personne-morale"))
    assert 'data-hx-post="/relations/verifier/personne-morale/siret" data-hx-trigger="change"' in page \
        or ('data-hx-post="/relations/verifier/personne-morale/siret"' in page and 'data-hx-trigger="change"' in page)
    assert 'data-hx-post="/relations/verifier/personne-morale/code_postal"' in page
