"""Every relation, notification and démarches URL that names an object answers 404 to any other
account, whatever its role: the test walks the URL map, so a new route is covered too."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import db as database
from portal.notifications import services as notifications
from portal.notifications.models import Notification
from portal.relations import services as relations
from portal.relations.models import Relation
from tests.conftest import PASSWORD, csrf_token, post_form

OBJECT_ARGS = {"relation_id", "notification_id", "export_id"}


def object_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("relations", "notifications", "exports") and rule.arguments & OBJECT_ARGS:
            yield rule


@pytest.mark.parametrize("role", ["citizen", "organisation", "agent", "admin"])
def test_every_object_url_is_404_for_another_account(app, client, create_user, auth, role):
    owner = create_user(email="owner@example.org")
    with app.test_request_context():
        relation = relations.create_relation(owner, "enfant", {"civilite": "Madame", "nom": "Martin",
                                                               "prenom": "Léa", "date_naissance": date(2015, 7, 14)})
        notification = notifications.notify(owner, "status", "Secret", "Contenu secret")
        from portal.exports.models import DataExport

        export = DataExport(user_id=owner.id, status="ready", ready_at=database.utcnow(),
                            expires_at=database.utcnow() + timedelta(days=3))
        database.session.add(export)
        database.session.commit()
        ids = {"relation_id": relation.id, "notification_id": notification.id, "export_id": export.id}
    create_user(email="intrus@example.org", role=role)
    auth.login("intrus@example.org", PASSWORD)

    rules = list(object_routes(app))
    assert {r.endpoint for r in rules} >= {"relations.edit", "relations.delete", "notifications.show",
                                           "exports.download"}
    for rule in rules:
        url = rule.build({name: ids[name] for name in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":
                response = client.get(url)
            else:
                response = post_form(client, url, {"nom": "Pirate", "prenom": "Pirate", "kind": "enfant"})
            assert response.status_code == 404, (method, url)
            assert "Secret" not in response.get_data(as_text=True)

    with app.app_context():
        kept = database.session.scalar(select(Relation))
        assert kept is not None and kept.prenom == "Léa"
        assert database.session.scalar(select(Notification)).read_at is None


# --- démarches: drafts, requests and their files ---------------------------------------------

DEMARCHES_ARGS = {"dossier_id", "reference", "file_id"}
DEMARCHES_ENDPOINTS = {"demarches.resume", "demarches.step", "demarches.autosave", "demarches.summary",
                       "demarches.submit", "demarches.delete", "demarches.request_page",
                       "demarches.confirmation", "demarches.receipt", "demarches.download"}
SECRET_NAME = "NOMSECRET"
# What a visitor could post: answers, a file, and each kind of step action.
ACTIONS = ["continuer", "plus_tard", "supprimer_fichier:declaration_vol", "ajouter:motif", "retirer:motif:0"]


def demarches_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("demarches.") and rule.arguments & DEMARCHES_ARGS:
            yield rule


def database_rows(app) -> dict[str, list]:
    """Every row of every table but the sessions (each visit refreshes the visitor's own)."""
    with app.app_context():
        return {table.name: sorted(map(repr, database.session.execute(table.select()).all()))
                for table in database.Base.metadata.sorted_tables if table.name != "auth_sessions"}


@pytest.fixture
def owner_dossiers(app, client, auth, create_user, tmp_path):
    """Another account's draft and submitted request, each with a real attached file."""
    from portal.demarches.models import Dossier
    from tests.demarches_support import PDF, post_step, sign_in, start
    from tests.test_demarches_other import submit

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    app.extensions.pop("file_storage", None)  # the storage is made on first use, from the config
    sign_in(client, auth, create_user, email="owner@example.org", nom=SECRET_NAME)
    ids = {}
    for name in ("draft", "submitted"):
        dossier_id = start(client, "cmi_duplicata")
        assert post_step(client, dossier_id, "motif", {"motif": "vol", "mention": "stationnement",
                                                       "numero_carte": "CMI-SECRET"},
                         files={"declaration_vol": PDF}).status_code == 303
        ids[name] = dossier_id
    submitted = ids["submitted"]
    assert post_step(client, submitted, "titulaire", {
        "nom": SECRET_NAME, "prenom": "Camille", "date_naissance": "1950-03-27", "adresse-adresse": "1 rue de la Paix",
        "adresse-code_postal": "62000", "adresse-commune": "Arras", "email": "owner@example.org"}).status_code == 303
    assert post_step(client, submitted, "paiement", {"accord_tarif": "oui"}).status_code == 303
    reference = submit(client, submitted)
    with app.app_context():
        draft, sent = database.session.get(Dossier, ids["draft"]), database.session.get(Dossier, submitted)
        values = {"dossier_id": [draft.id, sent.id], "reference": [reference],
                  "file_id": [draft.files[0].id, sent.files[0].id], "step_id": ["motif", "titulaire", "paiement"],
                  "version": {draft.id: draft.version, sent.id: sent.version}}
    # The ids are real: the owner reaches all of them.
    (draft_id, sent_id), (draft_file, sent_file) = values["dossier_id"], values["file_id"]
    for url in (f"/brouillons/{draft_id}/etapes/motif", f"/demandes/{reference}", f"/demandes/{reference}/recepisse.pdf",
                f"/dossiers/{draft_id}/fichiers/{draft_file}", f"/dossiers/{sent_id}/fichiers/{sent_file}"):
        assert client.get(url).status_code == 200, url
    auth.logout()
    return values


def demarches_urls(rule, values) -> list[tuple[str, dict]]:
    """Every combination of the owner's real ids the rule takes, with the dossier it names."""
    combos = [{}]
    for name in sorted(rule.arguments):
        combos = [{**combo, name: value} for combo in combos for value in values[name]]
    return [(rule.build(combo, append_unknown=False)[1], combo) for combo in combos]


@pytest.mark.parametrize("role", ["citizen", "organisation", "agent", "admin"])
def test_every_demarches_url_is_404_for_another_account(app, client, create_user, auth, tmp_path,
                                                        owner_dossiers, role):
    from tests.demarches_support import PDF

    create_user(email="intrus@example.org", role=role)
    auth.login("intrus@example.org", PASSWORD)
    token = csrf_token(client, "/compte")
    before, files_before = database_rows(app), sorted((tmp_path / "uploads").iterdir())
    assert len(files_before) == 2  # the draft's and the request's

    rules = list(demarches_routes(app))
    assert {r.endpoint for r in rules} >= DEMARCHES_ENDPOINTS
    walked = 0
    for rule in rules:
        for url, combo in demarches_urls(rule, owner_dossiers):
            version = owner_dossiers["version"].get(combo.get("dossier_id"), 1)
            where = (role, rule.endpoint, url)
            if "GET" in rule.methods:
                response = client.get(url)
                assert response.status_code == 404, where
                assert SECRET_NAME not in response.get_data(as_text=True), where
                walked += 1
            if "POST" not in rule.methods:
                continue
            for action in ACTIONS:
                response = client.post(url, content_type="multipart/form-data", data={
                    "csrf_token": token, "action": action, "version": str(version),
                    "_step": combo.get("step_id", "motif"), "motif": "perte", "nom": "Pirate",
                    "numero_carte": "PIRATE", "accord_tarif": "oui",
                    "declaration_vol": (io.BytesIO(PDF), "pirate.pdf")})
                assert response.status_code == 404, (*where, action)
                assert SECRET_NAME not in response.get_data(as_text=True), where
                walked += 1
    assert walked > 50
    assert database_rows(app) == before
    assert sorted((tmp_path / "uploads").iterdir()) == files_before
