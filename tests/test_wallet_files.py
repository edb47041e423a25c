"""The shared file layer: content checks, metadata removal, encryption at rest, storage."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from portal import db as database
from portal.files import services as files
from tests.wallet_samples import jpeg_with_metadata, pdf_bytes, png_bytes


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads"), "UPLOAD_MAX_BYTES": 64 * 1024}


def as_upload(data: bytes, name: str = "fichier.pdf", mimetype: str = "application/pdf") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=mimetype)


def check(app, data: bytes, name: str = "fichier.pdf"):
    with app.test_request_context():
        return files.read_upload(as_upload(data, name))


def refused(app, data: bytes, name: str = "fichier.pdf") -> str:
    with pytest.raises(files.UploadRejected) as info:
        check(app, data, name)
    return str(info.value)


def test_type_comes_from_content_not_name(app):
    data, content_type, name = check(app, png_bytes(), "scan.pdf")
    assert content_type == "image/png" and name == "scan.png"
    _data, content_type, name = check(app, pdf_bytes(), "photo.jpg")
    assert content_type == "application/pdf" and name == "photo.pdf"
    assert "PDF, JPEG ou PNG" in refused(app, b"GIF89a" + b"\x00" * 100, "image.png")
    assert "PDF, JPEG ou PNG" in refused(app, b"<html><body>hello</body></html>", "page.pdf")


def test_empty_and_oversized_files_are_refused(app):
    assert refused(app, b"") == "Le fichier est vide."
    big = pdf_bytes() + b"%" + b"x" * (64 * 1024)
    assert "dépasse la taille maximale de 64 Ko" in refused(app, big)
    with app.test_request_context(), pytest.raises(files.UploadRejected, match="Sélectionnez un fichier"):
        files.read_upload(as_upload(b"", name=""))


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.7\n1 0 obj << >> endobj\n", "incomplet ou endommagé"),  # no %%EOF
    (b"%PDF-1.4\ngarbage garbage\nstartxref\n999\n%%EOF\n", "incomplet ou endommagé"),  # unparsable
    (png_bytes()[:60] + b"IEND\xaeB`\x82", "endommagée"),  # truncated PNG that ends like one
    (b"\xff\xd8\xff\xe0" + b"\x00" * 50 + b"\xff\xd9", "endommagée"),  # JPEG signature, no image
])
def test_malformed_files_are_refused(app, data, message):
    assert message in refused(app, data)


@pytest.mark.parametrize("data", [
    png_bytes() + b"%PDF-1.4 trailing pdf",  # PNG with a PDF appended
    jpeg_with_metadata() + b"PK\x03\x04zipzip",  # JPEG with a ZIP appended (data after EOI)
    pdf_bytes() + b"\n<html><script>alert(1)</script></html>",  # PDF with a page appended
    pdf_bytes() + png_bytes(),  # PDF then PNG
])
def test_polyglots_with_trailing_data_are_refused(app, data):
    assert "données après la fin" in refused(app, data)


def test_polyglots_with_embedded_markers_are_refused(app):
    # A valid PNG whose text chunk carries HTML or a PDF header.
    from PIL import PngImagePlugin

    for payload in ("<script>alert(1)</script>", "%PDF-1.4 1 0 obj"):
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", payload)
        out = io.BytesIO()
        Image.new("RGB", (10, 10)).save(out, "PNG", pnginfo=info)
        assert "autre format" in refused(app, out.getvalue(), "x.png")
    # A PDF carrying JavaScript.
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Formulaire")
    data = bytes(pdf.output()).replace(b"/Type /Catalog", b"/Type /Catalog /Names << /JavaScript 1 0 R >>", 1)
    assert "contenu actif" in refused(app, data)


def test_valid_files_pass(app):
    data, content_type, _ = check(app, pdf_bytes())
    assert content_type == "application/pdf" and data.startswith(b"%PDF-")
    data, content_type, _ = check(app, jpeg_with_metadata(), "photo.jpeg")
    assert content_type == "image/jpeg"


def test_images_are_reencoded_without_metadata(app):
    original = jpeg_with_metadata()
    assert b"SecretPhoneMaker" in original and b"GPS home" in original
    data, _type, _name = check(app, original, "photo.jpg")
    assert b"SecretPhoneMaker" not in data and b"ModelWithSerial123" not in data and b"GPS home" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (64, 48)
        assert not image.getexif()


@pytest.mark.parametrize("name", [
    "../../etc/passwd.pdf", "C:\\Users\\moi\\avis.pdf", "/tmp/avis.pdf",
    "fac\x00ture.pdf", "fac\x1b[31mture.pdf", "facture\u202efdp.exe", "a\nb.pdf",
])
def test_names_with_paths_or_control_characters_are_refused(app, name):
    assert "caractères non autorisés" in refused(app, pdf_bytes(), name)


def test_ordinary_names_pass_as_they_are(app):
    for name in ("Avis d'impôt 2025 (copie).pdf", "زوج\u200cفاتورة.pdf", "👩\u200d👧 famille.pdf"):
        assert check(app, pdf_bytes(), name)[2] == name


@pytest.mark.parametrize("raw, expected", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\moi\\avis.pdf", "avis.pdf"),
    ("fac\x00ture\x1b[31m\u202e.pdf", "facture[31m.pdf"),
    ("   .pdf", "document.pdf"),
    ("rapport.exe", "rapport.pdf"),
])
def test_names_are_cleaned(raw, expected):
    assert files.clean_filename(raw, "application/pdf") == expected


def test_files_are_encrypted_at_rest_under_server_made_names(app, tmp_path):
    with app.test_request_context():
        stored = files.store_upload(as_upload(pdf_bytes("Texte secret"), "avis.pdf"))
        database.session.commit()
        on_disk = (tmp_path / "uploads" / stored.key).read_bytes()
        assert stored.original_name == "avis.pdf" and len(stored.key) >= 30
        assert b"%PDF" not in on_disk and b"Texte secret" not in on_disk
        assert files.load_bytes(stored.key).startswith(b"%PDF-")
        # The name is authenticated: another file's bytes under this name do not decrypt.
        other = files.store_bytes(b"autre")
        database.session.commit()
        (tmp_path / "uploads" / stored.key).write_bytes((tmp_path / "uploads" / other).read_bytes())
        with pytest.raises(Exception):  # noqa: B017 - InvalidTag from cryptography
            files.load_bytes(stored.key)


def test_key_rotation_keeps_old_files_readable(app):
    with app.test_request_context():
        key = files.store_bytes(b"ancien contenu")
        database.session.commit()
        old = app.config["FILES_ENCRYPTION_KEY"]
        app.config["FILES_ENCRYPTION_KEY"] = files.new_key() + "," + old
        assert files.load_bytes(key) == b"ancien contenu"
        app.config["FILES_ENCRYPTION_KEY"] = files.new_key()
        with pytest.raises(ValueError):
            files.load_bytes(key)


def test_files_follow_the_transaction(app, tmp_path):
    folder = tmp_path / "uploads"
    with app.test_request_context():
        key = files.store_bytes(b"brouillon")
        assert (folder / key).exists()
        database.session.rollback()
        assert not (folder / key).exists()  # written, then the unit of work failed: removed

        kept = files.store_bytes(b"garde")
        database.session.commit()
        from portal.accounts.models import User

        database.session.get(User, 1)  # open a transaction, as a request does
        files.delete_stored(kept)
        database.session.rollback()
        assert (folder / kept).exists()  # the deletion was rolled back with the transaction
        database.session.get(User, 1)
        files.delete_stored(kept)
        database.session.commit()
        assert not (folder / kept).exists()
    assert [p.name for p in folder.iterdir()] == []


def test_production_refuses_to_start_without_files_key(monkeypatch):
    from portal import create_app
    from portal.config import ConfigError

    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("FILES_ENCRYPTION_KEY", raising=False)
    with pytest.raises(ConfigError, match="FILES_ENCRYPTION_KEY"):
        create_app()
    monkeypatch.setenv("FILES_ENCRYPTION_KEY", "trop-courte")
    with pytest.raises(ConfigError, match="FILES_ENCRYPTION_KEY"):
        create_app()
    monkeypatch.setenv("FILES_ENCRYPTION_KEY", files.new_key())
    monkeypatch.setenv("FILES_STORAGE", "s3")
    with pytest.raises(ConfigError, match="S3_BUCKET"):
        create_app()


class TestS3Storage:
    @pytest.fixture
    def app_config(self, s3_config):
        return s3_config

    def test_store_load_copy_delete_on_s3(self, app, s3_config):
        from tests.conftest import s3_keys

        with app.test_request_context():
            stored = files.store_upload(as_upload(pdf_bytes("Contenu S3"), "avis.pdf"))
            database.session.commit()
            assert s3_keys(s3_config) == ["files/" + stored.key]
            storage = files.get_storage()
            raw = storage.get(stored.key)
            assert b"Contenu S3" not in raw and b"%PDF" not in raw  # encrypted before leaving
            copy = files.copy_stored(stored)
            database.session.commit()
            assert copy.key != stored.key and files.load_bytes(copy.key) == files.load_bytes(stored.key)
            files.delete_stored(stored.key)  # no transaction open: at once
            assert s3_keys(s3_config) == ["files/" + copy.key]
            assert not files.stored_exists(stored.key) and files.stored_exists(copy.key)
            # A failed unit of work leaves nothing in the bucket either.
            key = files.store_bytes(b"perdu")
            database.session.rollback()
            assert s3_keys(s3_config) == ["files/" + copy.key] and key not in str(s3_keys(s3_config))


def test_limits_default_and_come_from_the_environment(monkeypatch):
    from portal import create_app

    app = create_app({"TESTING": True})
    assert app.config["UPLOAD_MAX_BYTES"] == 10 * 1024 * 1024
    assert app.config["WALLET_QUOTA_BYTES"] == 200 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["UPLOAD_MAX_BYTES"]
    assert app.config["FILES_STORAGE"] == "local"
    monkeypatch.setenv("UPLOAD_MAX_MB", "3")
    monkeypatch.setenv("WALLET_QUOTA_MB", "50")
    app = create_app({"TESTING": True})
    assert (app.config["UPLOAD_MAX_BYTES"], app.config["WALLET_QUOTA_BYTES"]) == (3 * 1024 * 1024, 50 * 1024 * 1024)


def test_png_keeps_its_pixels_and_transparency_but_not_its_text(app):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Camille Martin, 12 rue des Lilas")
    image = Image.new("RGBA", (20, 10), (255, 0, 0, 0))
    image.putpixel((3, 4), (0, 128, 0, 255))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    data, content_type, _name = check(app, out.getvalue(), "capture.png")
    assert content_type == "image/png" and b"Camille Martin" not in data
    with Image.open(io.BytesIO(data)) as clean:
        assert clean.mode == "RGBA" and clean.getpixel((3, 4)) == (0, 128, 0, 255)
        assert clean.getpixel((0, 0))[3] == 0 and not clean.text


def test_decompression_bombs_are_refused(app):
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, "PNG")  # 64 Mpx in a few KB
    assert len(out.getvalue()) < 64 * 1024
    assert "trop grande" in refused(app, out.getvalue(), "bombe.png")


def test_truncated_images_are_called_damaged(app):
    assert "endommagée ou incomplète" in refused(app, png_bytes()[:-20], "coupee.png")
    assert "endommagée ou incomplète" in refused(app, jpeg_with_metadata()[:300], "coupee.jpg")


def keep_in_rows(app, create_user, wallet_key: str, dossier_key: str) -> None:
    """A wallet document and a request's file that refer to two stored keys."""
    from portal.demarches.models import Dossier, DossierFile
    from portal.wallet.models import WalletDocument

    user = create_user(email="camille@example.org")
    with app.app_context():
        database.session.add(WalletDocument(user_id=user.id, kind="autre", title="Avis", storage_key=wallet_key,
                                            original_name="avis.pdf", content_type="application/pdf", size=5))
        dossier = Dossier(user_id=user.id, procedure_id="cmi")
        dossier.files.append(DossierFile(field_id="photo", storage_key=dossier_key, original_name="photo.png",
                                         content_type="image/png", size=5))
        database.session.add(dossier)
        database.session.commit()


def test_orphaned_files_are_swept_after_a_grace_period(app, create_user, tmp_path):
    from datetime import timedelta

    from portal.db import utcnow

    folder = tmp_path / "uploads"
    with app.app_context():
        wallet_key, dossier_key, orphan, fresh_orphan = (files.store_bytes(b"x") for _ in range(4))
        database.session.commit()
    keep_in_rows(app, create_user, wallet_key, dossier_key)
    (folder / (orphan + ".part")).write_bytes(b"half")  # a write cut short by a crash
    with app.app_context():
        assert files.sweep_orphans(now=utcnow()) == 0  # nothing is old enough yet
        later = utcnow() + timedelta(days=2)
        (folder / fresh_orphan).touch()
        import os

        os.utime(folder / fresh_orphan, (later.timestamp(), later.timestamp()))  # written "just now"
        assert files.sweep_orphans(now=later) == 1
    assert sorted(p.name for p in folder.iterdir()) == sorted([wallet_key, dossier_key, fresh_orphan])


def test_the_worker_sweeps_at_most_every_six_hours(app, tmp_path):
    from portal import worker

    folder = tmp_path / "uploads"
    with app.app_context():
        key = files.store_bytes(b"x")
        database.session.commit()
        import os

        os.utime(folder / key, (0, 0))  # written long ago, referenced by nothing
        assert worker.run_once()["sweep_orphan_files"] == 1
        assert not (folder / key).exists()
        assert worker.run_once()["sweep_orphan_files"] == "skipped"


class TestS3Sweep:
    @pytest.fixture
    def app_config(self, s3_config):
        return s3_config

    def test_orphans_are_swept_from_s3_too(self, app, s3_config, create_user):
        from datetime import timedelta

        from portal.db import utcnow
        from tests.conftest import s3_keys

        with app.app_context():
            kept_key, other_key, orphan = (files.store_bytes(b"x") for _ in range(3))
            database.session.commit()
        keep_in_rows(app, create_user, kept_key, other_key)
        with app.app_context():
            assert files.sweep_orphans(now=utcnow()) == 0
            assert files.sweep_orphans(now=utcnow() + timedelta(days=2)) == 1
        assert sorted(s3_keys(s3_config)) == sorted(["files/" + kept_key, "files/" + other_key])
