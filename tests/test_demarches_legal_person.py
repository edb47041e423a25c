"""A procedure made on behalf of a legal person of « Mes relations » (the shipped example):
``beneficiary: {relations: [association, entreprise], self: false}``."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest

from portal import db as database
from portal.demarches.definitions import DefinitionError, parse
from portal.demarches.models import Dossier
from tests.conftest import csrf_token, page
from tests.demarches_support import PDF, location, post_step, sign_in
from tests.test_demarches_definitions import BASE
from tests.test_demarches_integration import LEA, add_relation
from tests.test_demarches_other import submit

ASSOCIATION = {"raison_sociale": "Les Amis du Beffroi", "siret": "73282932000074", "adresse": "2 place des Héros",
               "code_postal": "62000", "commune": "Arras"}
URL = "/demarches/exemple_association/pour-qui"


def choose(client, value: str):
    return client.post(URL, data={"csrf_token": csrf_token(client, URL), "beneficiaire": value})


def test_the_definition_says_whether_for_oneself_is_offered():
    data = copy.deepcopy(BASE)
    data["beneficiary"] = {"relations": ["association"], "self": False}
    assert parse(data, "essai.yaml").for_self is False
    data["beneficiary"] = {"relations": ["association"]}
    assert parse(data, "essai.yaml").for_self is True
    data["beneficiary"] = {"relations": ["association"], "self": "non"}
    with pytest.raises(DefinitionError, match="« self » vaut true"):
        parse(data, "essai.yaml")


def test_an_association_files_the_example_request(app, client, auth, create_user):
    sign_in(client, auth, create_user)
    info = page(client.get("/demarches/exemple_association"))
    assert "Exemple" in info and "démonstration" in info
    empty = page(client.get(URL))
    assert "vous n'en avez encore enregistré aucun" in empty and "Ajouter un organisme" in empty
    association = add_relation(app, "camille@example.org", "association", ASSOCIATION)
    child = add_relation(app, "camille@example.org", "enfant", LEA)
    text = page(client.get(URL))
    assert "Les Amis du Beffroi" in text and "Pour moi" not in text and "Léa" not in text
    # Neither oneself nor a natural person: refused by the server, whatever is posted.
    for refused in ("moi", str(child)):
        response = choose(client, refused)
        assert response.status_code == 422
    with app.app_context():
        assert database.session.query(Dossier).count() == 0
    response = choose(client, str(association))
    assert response.status_code == 303
    draft = int(location(response).split("/brouillons/")[1].split("/")[0])
    with app.app_context():
        dossier = database.session.get(Dossier, draft)
        assert dossier.answers["raison_sociale"] == "Les Amis du Beffroi"
        assert dossier.answers["siret"] == "73282932000074"
        assert dossier.answers["adresse"]["commune"] == "Arras"
        assert dossier.beneficiary["category"] == "legal"
    assert post_step(client, draft, "organisme", {
        "raison_sociale": "Les Amis du Beffroi", "siret": "73282932000074", "adresse-adresse": "2 place des Héros",
        "adresse-code_postal": "62000", "adresse-commune": "Arras", "contact_nom": "Camille Martin",
        "email": "camille@example.org"}).status_code == 303
    assert post_step(client, draft, "demande", {"objet": "Assemblée générale", "date_souhaitee": (date.today() + timedelta(days=60)).isoformat(),
                                                "participants": "40"}, files={"statuts": PDF}).status_code == 303
    assert post_step(client, draft, "engagement", {"attestation": "oui"}).status_code == 303
    reference = submit(client, draft)
    assert reference.startswith("EXSALLE-")
    assert "Les Amis du Beffroi" in page(client.get("/mes-demarches"))


def test_the_demo_citizen_has_an_association_for_the_example(app):
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.relations.models import Relation

    for _ in range(2):  # idempotent
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        citizen = database.session.scalar(select(User).where(User.email == "citoyen@demo.guichet.example"))
        [association] = database.session.scalars(select(Relation).where(Relation.user_id == citizen.id)).all()
        assert association.kind == "association" and "démonstration" in association.raison_sociale
