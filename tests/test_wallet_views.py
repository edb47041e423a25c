"""Porte-documents through the test client: add, list, filter, modify, download, delete."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from portal import db as database
from portal.wallet.models import WalletDocument
from tests.conftest import PASSWORD, page, post_form, s3_keys
from tests.wallet_samples import (
    big_pdf,
    jpeg_with_metadata,
    pdf_bytes,
    png_bytes,
    run_file_checks,
    upload,
)


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads"), "UPLOAD_MAX_BYTES": 200 * 1024,
            "WALLET_QUOTA_BYTES": 300 * 1024}


@pytest.fixture
def citizen(create_user, auth):
    user = create_user()
    auth.login()
    return user


def add(client, data: bytes = None, name: str = "avis.pdf", check_files: bool = True, **fields):
    """Add a document as the page does; the worker then checks it (unless ``check_files`` is
    False: it stays pending, as right after the request)."""
    form = {"file": upload(pdf_bytes() if data is None else data, name), "kind": "justificatif_domicile",
            "title": "Facture d'électricité", "person": "moi", "issued_on": "", "valid_until": ""}
    form.update(fields)
    response = post_form(client, "/porte-documents/ajouter", form)
    if check_files:
        run_file_checks(client.application)
    return response


def stored_files(tmp_path) -> list[str]:
    folder = tmp_path / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def documents(app) -> list[WalletDocument]:
    with app.app_context():
        rows = list(database.session.scalars(select(WalletDocument).order_by(WalletDocument.id)))
        database.session.expunge_all()
        return rows


def test_wallet_requires_login_and_is_linked(client, citizen):
    response = client.get("/compte")
    assert 'href="/porte-documents/"' in page(response)
    home = page(client.get("/"))
    assert re.search(r'<nav class="header__nav".*href="/porte-documents/"', home, re.S)
    client.post("/deconnexion", data={})
    anonymous = client.application.test_client()
    assert anonymous.get("/porte-documents/").status_code == 302


def test_empty_wallet_says_so(client, citizen):
    response = client.get("/porte-documents/")
    text = page(response)
    assert response.status_code == 200 and text.count("<h1") == 1
    assert "l'administration n'y a pas accès" in text and "Votre porte-documents est vide" in text


def test_add_list_modify_download_delete(app, client, citizen, tmp_path):
    form = client.get("/porte-documents/ajouter")
    text = page(form)
    assert 'enctype="multipart/form-data"' in text and "Les champs marqués d'un astérisque (*) sont obligatoires." in text
    for label in ("Pièce d'identité", "Titre de séjour", "Justificatif de domicile", "Photo d'identité",
                  "Certificat médical", "Acte de naissance", "Avis d'imposition", "Autre"):
        assert label in text

    response = add(client, name="avis d'échéance.pdf", issued_on="15/01/2026",
                   valid_until="31/12/2030")
    assert response.status_code == 303 and response.location.endswith("/porte-documents/")
    [doc] = documents(app)
    assert (doc.kind, doc.title, doc.relation_id, doc.content_type) == (
        "justificatif_domicile", "Facture d'électricité", None, "application/pdf")
    assert doc.original_name == "avis d'échéance.pdf" and str(doc.issued_on) == "2026-01-15"
    assert stored_files(tmp_path) == [doc.storage_key]

    listing = page(client.get("/porte-documents/"))
    assert "Le document « Facture d'électricité » a été ajouté" in listing
    assert "Facture d'électricité" in listing and "Délivré le 15/01/2026" in listing
    assert "Valable jusqu'au 31/12/2030" in listing

    assert f'href="/porte-documents/{doc.id}/modifier">Modifier<' in listing and "Renommer" not in listing
    response = post_form(client, f"/porte-documents/{doc.id}/modifier", {
        "title": "  EDF janvier  ", "kind": "justificatif_domicile", "person": "moi",
        "issued_on": "15/01/2026", "valid_until": "31/12/2030"})
    assert response.status_code == 303
    assert documents(app)[0].title == "EDF janvier"
    response = post_form(client, f"/porte-documents/{doc.id}/modifier", {
        "title": "", "kind": "justificatif_domicile", "person": "moi", "issued_on": "", "valid_until": ""})
    assert response.status_code == 422 and "Saisissez un titre" in page(response)
    assert page(response).count("<title>Erreur : ") == 1

    download = client.get(f"/porte-documents/{doc.id}/telecharger")
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "EDF janvier.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]

    confirm = client.get(f"/porte-documents/{doc.id}/supprimer")
    assert "Voulez-vous vraiment supprimer le document « EDF janvier »" in page(confirm)
    assert documents(app)  # asking is not deleting
    response = post_form(client, f"/porte-documents/{doc.id}/supprimer", {})
    assert response.status_code == 303
    assert documents(app) == [] and stored_files(tmp_path) == []
    assert client.get(f"/porte-documents/{doc.id}/telecharger").status_code == 404


def modify(client, document_id, **fields):
    form = {"title": "Facture d'électricité", "kind": "justificatif_domicile", "person": "moi",
            "issued_on": "", "valid_until": ""}
    form.update(fields)
    return post_form(client, f"/porte-documents/{document_id}/modifier", form)


def test_modify_title_kind_person_and_dates(app, client, citizen, tmp_path):
    from datetime import date

    from portal.accounts.models import User
    from portal.relations import services as relations
    from portal.wallet import services as wallet

    with app.app_context():
        lea = relations.create_relation(database.session.get(User, citizen.id), "enfant", {
            "civilite": "Madame", "nom": "Martin", "prenom": "Léa", "date_naissance": date(2015, 5, 4)}).id
        database.session.commit()
    # Kept from a procedure, say: no date of issue, so never fresh enough for a procedure.
    assert add(client, title="Acte", kind="autre", valid_until="31/12/2030").status_code == 303
    [doc] = documents(app)

    def freshness_message(beneficiary=None):
        with app.test_request_context():
            user = database.session.get(User, citizen.id)
            return [c.message for c in wallet.documents_for(user, "acte_naissance", beneficiary=beneficiary)]

    form = page(client.get(f"/porte-documents/{doc.id}/modifier"))
    assert "<h1>Modifier un document</h1>" in form and 'value="Acte"' in form
    assert '<option selected value="autre">' in form and 'value="31/12/2030"' in form
    assert re.search(r'<input[^>]*checked[^>]*value="moi"|<input[^>]*value="moi"[^>]*checked', form)
    assert "Léa Martin" in form and 'enctype="multipart/form-data"' not in form

    # Every rule of the add form applies; nothing changes until the form is right.
    issued = date.today().strftime("%d/%m/%Y")
    for fields, message in (
        ({"title": ""}, "Saisissez un titre pour ce document."),
        ({"kind": ""}, "Choisissez le type de document."),
        ({"kind": "inconnu"}, "N'est pas un choix valide."),
        ({"issued_on": "32/13/2020"}, "Cette date n'existe pas : vérifiez le jour et le mois"),
        ({"issued_on": "le 3 mars"}, "La date doit être au format JJ/MM/AAAA"),
        ({"issued_on": "01/01/2200"}, "La date de délivrance ne peut pas être dans le futur."),
        ({"issued_on": "01/06/2025", "valid_until": "01/01/2025"},
         "La date de fin de validité doit être après la date de délivrance."),
        ({"person": "999999"}, "N'est pas un choix valide."),  # not one of the person's relations
    ):
        response = modify(client, doc.id, **fields)
        text = page(response)
        assert response.status_code == 422 and "<title>Erreur : " in text, fields
        assert "Il y a un problème" in text, fields
        assert message in text, fields
    assert documents(app)[0].kind == "autre" and documents(app)[0].issued_on is None

    response = modify(client, doc.id, title=" Acte de naissance de Léa ", kind="acte_naissance",
                      person=str(lea), issued_on=issued, valid_until="")
    assert response.status_code == 303 and response.location.endswith("/porte-documents/")
    [changed] = documents(app)
    assert (changed.title, changed.kind, changed.relation_id) == ("Acte de naissance de Léa", "acte_naissance", lea)
    assert (changed.issued_on, changed.valid_until) == (date.today(), None)
    assert changed.storage_key == doc.storage_key and stored_files(tmp_path) == [doc.storage_key]
    listing = page(client.get("/porte-documents/"))
    assert "Le document « Acte de naissance de Léa » a été modifié." in listing
    assert freshness_message() == [] and freshness_message(lea) == [""]  # now dated, and Léa's

    # Back to "Moi" without a date: flagged again, the date is really cleared.
    assert modify(client, doc.id, kind="acte_naissance", person="moi").status_code == 303
    [message] = freshness_message()
    assert "Sa date de délivrance n'est pas renseignée" in message


def test_the_former_rename_address_leads_to_modify(client, citizen):
    add(client)
    [doc] = documents(client.application)
    response = client.get(f"/porte-documents/{doc.id}/renommer")
    assert response.status_code == 301 and response.location.endswith(f"/porte-documents/{doc.id}/modifier")
    response = post_form(client, f"/porte-documents/{doc.id}/renommer", {"title": "x"})
    assert response.status_code == 308 and response.location.endswith(f"/porte-documents/{doc.id}/modifier")
    assert client.get("/porte-documents/999999/renommer").status_code == 404


def test_images_are_stored_without_metadata(app, client, citizen):
    assert add(client, jpeg_with_metadata(), "IMG_0001.JPG", kind="photo_identite",
               title="Photo").status_code == 303
    [doc] = documents(app)
    data = client.get(f"/porte-documents/{doc.id}/telecharger").data
    assert doc.content_type == "image/jpeg" and b"SecretPhoneMaker" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and not image.getexif()


def test_filter_by_kind_and_person_with_and_without_htmx(app, client, citizen):
    add(client, title="Facture EDF")
    add(client, png_bytes(), "photo.png", kind="photo_identite", title="Photo récente")
    everything = page(client.get("/porte-documents/"))
    assert "Facture EDF" in everything and "Photo récente" in everything and "2 documents" in everything

    filtered = page(client.get("/porte-documents/?kind=photo_identite&person="))
    assert "Photo récente" in filtered and "Facture EDF" not in filtered and "1 document" in filtered
    assert re.search(r'<option selected value="photo_identite">', filtered)

    fragment = client.get("/porte-documents/?kind=justificatif_domicile&person=moi",
                          headers={"HX-Request": "true", "HX-Target": "documents"})
    text = page(fragment)
    assert "<html" not in text and "Facture EDF" in text and "Photo récente" not in text

    none = page(client.get("/porte-documents/?kind=acte_naissance"))
    assert "Aucun document ne correspond" in none
    # An unknown filter value is ignored rather than an error.
    assert "Facture EDF" in page(client.get("/porte-documents/?kind=nimporte"))


@pytest.mark.parametrize("data, name, message", [
    (b"", "vide.pdf", "Le fichier est vide."),
    (b"MZ\x90\x00 not a pdf", "facture.pdf", "Le fichier doit être au format PDF, JPEG ou PNG"),
    (pdf_bytes() + b"%" * (200 * 1024), "gros.pdf", "dépasse la taille maximale de 200 Ko"),
    (pdf_bytes(), "../../secret/avis.pdf", "caractères non autorisés"),
    (pdf_bytes(), "avis\x1b.pdf", "caractères non autorisés"),
])
def test_bad_files_are_refused_clearly_and_nothing_is_kept(app, client, citizen, tmp_path, data, name, message):
    response = add(client, data, name, title="Mon titre")
    text = page(response)
    assert response.status_code == 422 and message in text
    assert "Il y a un problème" in text and "<title>Erreur : " in text
    assert 'value="Mon titre"' in text  # what the person typed is kept
    assert documents(app) == [] and stored_files(tmp_path) == []


@pytest.mark.parametrize("data, name, message", [
    (png_bytes() + b"%PDF-1.4", "image.png", "données après la fin"),
    (b"%PDF-1.4\n%%EOF", "casse.pdf", "incomplet ou endommagé"),
])
def test_files_refused_by_the_workers_check_are_removed_and_the_person_told(
        app, client, citizen, tmp_path, data, name, message):
    response = add(client, data, name, title="Mon titre", check_files=False)
    assert response.status_code == 303  # the request only screened it
    [doc] = documents(app)
    assert doc.check_status == "pending" and stored_files(tmp_path) == [doc.storage_key]
    assert "En cours de vérification" in page(client.get("/porte-documents/"))
    assert client.get(f"/porte-documents/{doc.id}/telecharger").status_code == 303  # not usable yet

    assert run_file_checks(app)["rejected"] == 1
    [doc] = documents(app)
    assert doc.check_status == "rejected" and message in doc.check_message
    assert stored_files(tmp_path) == []  # the bytes are gone, the row tells why
    listing = page(client.get("/porte-documents/"))
    assert "Fichier refusé" in listing and message in listing
    assert f"/porte-documents/{doc.id}/telecharger" not in listing
    fragment = page(client.get(f"/porte-documents/{doc.id}/verification", headers={"HX-Request": "true"}))
    assert "Fichier refusé" in fragment and "data-hx-get" not in fragment  # the polling stops
    inbox = page(client.get("/notifications"))
    assert "Document refusé : « Mon titre »" in inbox


def test_missing_fields_are_explained(client, citizen):
    response = post_form(client, "/porte-documents/ajouter", {"kind": "", "title": "", "person": "moi",
                                                              "issued_on": "32/13/2020", "valid_until": ""})
    text = page(response)
    assert response.status_code == 422
    for message in ("Sélectionnez un fichier.", "Choisissez le type de document.", "Saisissez un titre",
                    "Cette date n'existe pas"):
        assert message in text
    response = add(client, issued_on="01/06/2025", valid_until="01/01/2025")
    assert "La date de fin de validité doit être après la date de délivrance." in page(response)
    response = add(client, person="42")  # not one of the person's relations
    assert response.status_code == 422
    # The browser cannot keep the chosen file: the page says so instead of dropping it silently.
    response = add(client, pdf_bytes(), "avis.pdf", title="")
    assert "Le fichier « avis.pdf » n'a pas été enregistré" in page(response)


def test_quota_per_person(app, client, citizen, create_user, tmp_path):
    big = big_pdf(150)
    assert 150 * 1024 < len(big) < 200 * 1024
    assert add(client, big, "un.pdf").status_code == 303
    response = add(client, big, "deux.pdf")
    text = page(response)
    assert response.status_code == 422 and "Votre porte-documents est plein" in text
    assert len(documents(app)) == 1 and len(stored_files(tmp_path)) == 1
    # The quota is per person: someone else still has their own.
    create_user(email="dominique@example.org")
    other = app.test_client()
    post_form(other, "/connexion", {"login": "dominique@example.org", "password": PASSWORD})
    assert add(other, big, "trois.pdf").status_code == 303


def test_failed_transaction_leaves_no_file(app, client, citizen, tmp_path, monkeypatch):
    from portal import db as db_module

    def broken_commit():
        raise RuntimeError("database down")

    # The row is flushed, the file written; then the request's commit fails.
    monkeypatch.setattr(db_module.session, "commit", broken_commit)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = add(client)
    assert response.status_code == 500
    monkeypatch.undo()
    assert documents(app) == [] and stored_files(tmp_path) == []


class TestAccountDeletion:
    def delete_account(self, client):
        return post_form(client, "/compte/supprimer", {"current_password": PASSWORD})

    def test_local_folder(self, app, client, citizen, tmp_path):
        add(client)
        add(client, png_bytes(), "p.png", kind="photo_identite")
        assert len(stored_files(tmp_path)) == 2
        assert self.delete_account(client).status_code == 303
        assert documents(app) == [] and stored_files(tmp_path) == []


class TestS3:
    @pytest.fixture
    def app_config(self, s3_config):
        return s3_config

    def test_wallet_on_s3_and_account_deletion(self, app, client, citizen, s3_config):
        assert add(client).status_code == 303
        [doc] = documents(app)
        assert s3_keys(s3_config) == ["files/" + doc.storage_key]
        assert client.get(f"/porte-documents/{doc.id}/telecharger").data.startswith(b"%PDF-")
        add(client, png_bytes(), "p.png", kind="photo_identite")
        assert len(s3_keys(s3_config)) == 2
        assert post_form(client, "/compte/supprimer", {"current_password": PASSWORD}).status_code == 303
        assert documents(app) == [] and s3_keys(s3_config) == []


class TestRequestTooLarge:
    @pytest.fixture
    def app_config(self, tmp_path):
        return {"UPLOAD_FOLDER": str(tmp_path / "uploads"), "MAX_CONTENT_LENGTH": 50 * 1024}

    def test_body_over_the_server_limit_gets_the_french_413_page(self, app, client, citizen, tmp_path):
        response = add(client, big_pdf(80), "gros.pdf")
        assert response.status_code == 413 and "Envoi trop volumineux" in page(response)
        assert documents(app) == [] and stored_files(tmp_path) == []
