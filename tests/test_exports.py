"""« Télécharger mes données »: a ZIP of everything the portal holds about the person, prepared by
the worker, announced by a notification, downloadable by its owner only, deleted after a few days."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import db as database
from portal.db import utcnow
from portal.exports import services as exports
from portal.exports.models import DataExport, DataExportPart
from portal.notifications.models import Notification
from portal.worker import run_once
from tests.conftest import PASSWORD, page, post_form
from tests.demarches_support import PDF, PNG, post_step, sign_in, start


def owner_with_data(app, client, auth, create_user, tmp_path) -> dict:
    """An account with a relation, a wallet document, a draft with a file and a notification."""
    from portal.accounts.models import User
    from portal.relations import services as relations
    from portal.wallet import services as wallet

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    app.extensions.pop("file_storage", None)
    sign_in(client, auth, create_user, email="camille@example.org")
    with app.test_request_context():
        user = database.session.scalar(select(User).where(User.email == "camille@example.org"))
        relations.create_relation(user, "enfant", {"civilite": "Madame", "nom": "Martin", "prenom": "Léa",
                                                   "date_naissance": date(2015, 7, 14)})
        from portal.files.services import store_bytes
        from portal.wallet.models import WalletDocument

        database.session.add(WalletDocument(user_id=user.id, kind="photo_identite", title="Ma photo",
                                            storage_key=store_bytes(PNG), original_name="photo.png",
                                            content_type="image/png", size=len(PNG),
                                            check_status="ok"))  # as checked by the worker
        database.session.commit()
        del wallet
    draft = start(client, "cmi_duplicata")
    assert post_step(client, draft, "motif", {"motif": "vol", "mention": "stationnement",
                                              "numero_carte": "CMI-42"}, files={"declaration_vol": PDF}).status_code == 303
    return {"draft": draft}


def prepared(app) -> None:
    with app.app_context():
        results = run_once()
    assert results["prepare_data_exports"] in (0, 1), results


def test_the_export_holds_the_json_and_the_decrypted_files(app, client, auth, create_user, tmp_path):
    owner_with_data(app, client, auth, create_user, tmp_path)
    account = page(client.get("/compte"))
    assert "Télécharger mes données" in account
    text = page(client.get("/compte/mes-donnees"))
    assert "portabilité" in text and "Préparer le fichier de mes données" in text
    response = post_form(client, "/compte/mes-donnees", {})
    assert response.status_code == 303
    post_form(client, "/compte/mes-donnees", {})  # asked twice: prepared once
    assert "Votre fichier est en préparation" in page(client.get("/compte/mes-donnees"))
    with app.app_context():
        assert database.session.scalar(select(func.count()).select_from(DataExport)) == 1
    prepared(app)
    with app.app_context():
        export = database.session.scalar(select(DataExport))
        assert export.status == "ready" and export.expires_at > utcnow() + timedelta(days=2)
        note = database.session.scalar(select(Notification).where(Notification.subject == "Vos données sont prêtes"))
        assert note is not None and note.link == "/compte/mes-donnees"
        # Stored encrypted like every file: the ZIP's bytes are not on disk in clear.
        stored = (tmp_path / "uploads" / export.parts[0].storage_key).read_bytes()
        assert not stored.startswith(b"PK")
        export_id = export.id
    listing = page(client.get("/compte/mes-donnees"))
    download = client.get(f"/compte/mes-donnees/{export_id}/telecharger")
    assert f"/compte/mes-donnees/{export_id}/telecharger" in listing
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    data = json.loads(archive.read("donnees.json"))
    assert data["compte"]["email"] == "camille@example.org" and data["compte"]["civilite"] == "Madame"
    assert [r["prenom"] for r in data["relations"]] == ["Léa"]
    [dossier] = data["demandes"]
    assert dossier["procedure_id"] == "cmi_duplicata" and dossier["brouillon"] is True
    assert dossier["reponses"]["numero_carte"] == "CMI-42"
    assert set(data["preferences"]["emails_par_type_de_notification"]) >= {"status", "security"}
    assert any(n["subject"] == "Vos données sont prêtes" for n in data["notifications"]) is False  # made after
    [photo] = data["porte_documents"]
    assert archive.read(photo["fichier"]) == PNG  # decrypted, as the person gave it
    [attached] = dossier["fichiers"]
    assert archive.read(attached["fichier"]).startswith(b"%PDF")


def test_a_large_export_is_stored_and_sent_in_slices(app, client, auth, create_user, tmp_path, monkeypatch):
    owner_with_data(app, client, auth, create_user, tmp_path)
    monkeypatch.setattr(exports, "PART_BYTES", 1024)
    post_form(client, "/compte/mes-donnees", {})
    prepared(app)
    with app.app_context():
        export = database.session.scalar(select(DataExport))
        assert len(export.parts) > 2 and export.size > 2048
        export_id, size = export.id, export.size
    data = client.get(f"/compte/mes-donnees/{export_id}/telecharger").data
    assert len(data) == size and zipfile.ZipFile(io.BytesIO(data)).testzip() is None


@pytest.mark.parametrize("role", ["citizen", "agent", "admin"])
def test_only_the_owner_downloads(app, client, auth, create_user, tmp_path, role):
    owner_with_data(app, client, auth, create_user, tmp_path)
    post_form(client, "/compte/mes-donnees", {})
    prepared(app)
    with app.app_context():
        export_id = database.session.scalar(select(DataExport.id))
    auth.logout()
    url = f"/compte/mes-donnees/{export_id}/telecharger"
    assert client.get(url).status_code in (302, 303)  # to the login page
    create_user(email="intrus@example.org", role=role)
    auth.login("intrus@example.org", PASSWORD)
    response = client.get(url)
    assert response.status_code == 404 and b"PK" not in response.data[:2]
    assert "Fichiers prêts" not in page(client.get("/compte/mes-donnees"))


def test_exports_are_deleted_after_a_few_days_with_their_files(app, client, auth, create_user, tmp_path):
    owner_with_data(app, client, auth, create_user, tmp_path)
    post_form(client, "/compte/mes-donnees", {})
    prepared(app)
    with app.app_context():
        export = database.session.scalar(select(DataExport))
        keys = [p.storage_key for p in export.parts]
        export_id = export.id
        assert all((tmp_path / "uploads" / k).exists() for k in keys)
        assert exports.purge_expired(now=utcnow() + timedelta(days=2)) == 0
        assert exports.purge_expired(now=utcnow() + timedelta(days=exports.KEEP_DAYS, minutes=1)) == 1
        assert database.session.scalar(select(func.count()).select_from(DataExportPart)) == 0
    assert not any((tmp_path / "uploads" / k).exists() for k in keys)
    assert client.get(f"/compte/mes-donnees/{export_id}/telecharger").status_code == 404


def test_deleting_the_account_deletes_its_exports(app, client, auth, create_user, tmp_path):
    owner_with_data(app, client, auth, create_user, tmp_path)
    post_form(client, "/compte/mes-donnees", {})
    prepared(app)
    with app.app_context():
        keys = list(database.session.scalars(select(DataExportPart.storage_key)))
    assert post_form(client, "/compte/supprimer", {"current_password": PASSWORD}).status_code == 303
    with app.app_context():
        assert database.session.scalar(select(func.count()).select_from(DataExport)) == 0
    assert keys and not any((tmp_path / "uploads" / k).exists() for k in keys)


def test_a_file_refused_by_the_check_is_listed_without_bytes(app, client, auth, create_user, tmp_path):
    """The worker removes a refused file's bytes: the export lists it and still gets made."""
    owner_with_data(app, client, auth, create_user, tmp_path)
    with app.app_context():
        from portal.wallet.models import WalletDocument

        document = database.session.scalar(select(WalletDocument))
        document.check_status = "rejected"
        database.session.commit()
    post_form(client, "/compte/mes-donnees", {})
    prepared(app)
    with app.app_context():
        export = database.session.scalar(select(DataExport))
        assert export.status == "ready"
        export_id = export.id
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/compte/mes-donnees/{export_id}/telecharger").data))
    [photo] = json.loads(archive.read("donnees.json"))["porte_documents"]
    assert photo["title"] == "Ma photo" and photo["fichier"] is None
    assert not [name for name in archive.namelist() if name.startswith("porte-documents/")]
