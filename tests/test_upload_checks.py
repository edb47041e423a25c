"""Uploads are screened in the request and checked by the worker; hostile files are refused.

The request only does cheap checks (size, signature, image header, page tree) and stores the
file pending; the worker's pass parses, re-encodes and scans it. Each hostile sample of the
attack (issue 14) is kept here as a test.
"""

from __future__ import annotations

import io
import re
import socket
import struct
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import db as database
from portal.accounts.models import User
from portal.demarches.models import DossierFile
from portal.files import checks, clamd
from portal.files import services as files
from tests.conftest import csrf_token, page, post_form
from tests.demarches_support import PDF, post_step, sign_in, start
from tests.hostile_samples import (
    ACTIVE_PDFS,
    build_pdf,
    link_pdf,
    many_pages_pdf,
    png_declaring,
    zip_polyglot,
)
from tests.test_demarches_other import ADDRESS
from tests.wallet_samples import big_pdf, pdf_bytes, run_file_checks, upload

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def full_check(app, data: bytes, name: str = "document.pdf"):
    with app.app_context():
        return files.check_content(data, name)


def refusal(app, data: bytes, name: str = "document.pdf") -> str:
    with pytest.raises(files.UploadRejected) as info:
        full_check(app, data, name)
    return str(info.value)


# --- the samples ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ACTIVE_PDFS))
def test_pdf_active_content_is_refused(app, name):
    message = refusal(app, ACTIVE_PDFS[name])
    assert "contenu actif" in message or "autre format" in message


@pytest.mark.parametrize("name", sorted(set(ACTIVE_PDFS) - {"html_markup"}))
def test_the_decision_holds_on_parsed_objects_not_only_on_raw_bytes(app, name):
    """Names decoded by the parser (#xx), chains followed: a compressed object stream hides
    nothing from this walk (``html_markup`` is a comment: raw bytes only)."""
    with app.app_context(), pytest.raises(files.UploadRejected):
        files.check_pdf(ACTIVE_PDFS[name])


def test_a_pdf_that_is_also_a_zip_holding_a_page_is_refused(app):
    data = zip_polyglot()
    assert data.rstrip().endswith(b"%%EOF") and b"<html" not in data  # the page is compressed
    assert "autre format" in refusal(app, data)


def test_ordinary_pdfs_pass(app):
    for data in (build_pdf(), link_pdf(), pdf_bytes()):  # a link the reader clicks is fine
        assert full_check(app, data)[1] == "application/pdf"


def test_page_counts_are_bounded_cheaply_in_the_request_and_fully_by_the_worker(app):
    with app.app_context(), pytest.raises(files.UploadRejected, match="trop de pages"):
        files.screen_content(many_pages_pdf(2000), "x.pdf")  # the declared page tree, no parse
    lying = many_pages_pdf(600, declared=1)
    with app.app_context():
        files.screen_content(lying, "x.pdf")  # the request cannot tell
    assert "trop de pages" in refusal(app, lying)  # the worker's walk counts them


def test_image_pixels_are_bounded_from_the_header_in_the_request(app):
    with app.app_context(), pytest.raises(files.UploadRejected, match="trop grande"):
        files.screen_content(png_declaring(8000, 6000), "bombe.png")  # 48 Mpx declared
    assert files.Image.MAX_IMAGE_PIXELS == files.MAX_IMAGE_PIXELS  # Pillow's limit set explicitly


# --- the request stores, the worker decides -----------------------------------------------------


@pytest.fixture
def citizen(create_user, auth):
    user = create_user()
    auth.login()
    return user


def add_to_wallet(client, data: bytes, name: str = "avis.pdf", title: str = "Avis"):
    return post_form(client, "/porte-documents/ajouter", {
        "file": upload(data, name), "kind": "autre", "title": title, "person": "moi",
        "issued_on": "", "valid_until": ""})


def wallet_rows(app):
    from portal.wallet.services import documents_of
    with app.app_context():
        rows = documents_of(database.session.scalars(select(User)).one())
        database.session.expunge_all()
        return rows


def test_the_request_stores_a_hostile_file_pending_and_the_worker_refuses_it(app, client, citizen):
    bomb = png_declaring(7000, 5657)  # about 40 Mpx declared, 115 Ko sent: under the limit
    assert add_to_wallet(client, bomb, "photo.png", "Photo").status_code == 303
    assert add_to_wallet(client, ACTIVE_PDFS["launch_chained_through_next"], title="Lanceur").status_code == 303
    assert [d.check_status for d in wallet_rows(app)] == ["pending", "pending"]  # nothing decoded yet
    photo = next(d for d in wallet_rows(app) if d.title == "Photo")
    with app.app_context():  # the worker checks the PDF; decoding the bomb is left out of the tests
        from portal.wallet.models import WalletDocument

        database.session.get(WalletDocument, photo.id).check_after = database.utcnow() + timedelta(days=1)
        database.session.commit()
    assert run_file_checks(app) == {"ok": 0, "rejected": 1, "waiting": 0}
    launcher = next(d for d in wallet_rows(app) if d.title == "Lanceur")
    assert launcher.check_status == "rejected" and "contenu actif" in launcher.check_message
    assert "Document refusé : « Lanceur »" in page(client.get("/notifications"))


def test_uploads_waiting_for_their_check_are_limited_per_person(app, client, citizen):
    app.config["UPLOAD_MAX_PENDING"] = 2
    for title in ("Un", "Deux"):
        assert add_to_wallet(client, pdf_bytes(title), title=title).status_code == 303
    response = add_to_wallet(client, pdf_bytes("Trois"), title="Trois")
    assert response.status_code == 422
    assert "Vous avez déjà 2 fichiers en cours de vérification" in page(response)
    run_file_checks(app)
    assert add_to_wallet(client, pdf_bytes("Trois"), title="Trois").status_code == 303


def test_a_procedure_file_is_usable_once_checked_and_submission_waits_for_it(app, client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi_duplicata")
    response = post_step(client, draft, "motif", {"motif": "vol", "mention": "stationnement",
                                                  "numero_carte": "CMI-99"},
                         files={"declaration_vol": PDF}, check_files=False)
    assert response.status_code == 303
    step = page(client.get(f"/brouillons/{draft}/etapes/motif"))
    assert "En cours de vérification" in step and 'role="status"' in step
    with app.app_context():
        row = database.session.scalars(select(DossierFile)).one()
        row_id = row.id
    poll = f"/dossiers/{draft}/fichiers/{row_id}/verification"
    assert f'data-hx-get="{poll}"' in step
    assert client.get(f"/dossiers/{draft}/fichiers/{row_id}").status_code == 303  # not downloadable yet
    post_step(client, draft, "titulaire", {"nom": "Martin", "prenom": "Camille", "date_naissance": "1950-03-27",
                                           **ADDRESS, "email": "camille@example.org"})
    post_step(client, draft, "paiement", {"accord_tarif": "oui"})
    summary = page(client.get(f"/brouillons/{draft}/recapitulatif"))
    assert "est en cours de vérification" in summary
    response = submit(client, draft)
    assert response.status_code == 422 and "est en cours de vérification" in page(response)

    assert run_file_checks(app)["ok"] == 1
    fragment = page(client.get(poll, headers={"HX-Request": "true"}))
    assert "Fichier vérifié" in fragment and "data-hx-get" not in fragment
    assert client.get(f"/dossiers/{draft}/fichiers/{row_id}").data.startswith(b"%PDF-")
    assert submit(client, draft).status_code == 303


def test_a_procedure_file_refused_by_the_worker_is_said_on_its_step_and_blocks_submission(
        app, client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi_duplicata")
    post_step(client, draft, "motif", {"motif": "vol", "mention": "stationnement", "numero_carte": "CMI-99"},
              files={"declaration_vol": ACTIVE_PDFS["submitform_in_link_annotation"]})  # checked at once
    step = page(client.get(f"/brouillons/{draft}/etapes/motif"))
    assert "Fichier refusé" in step and "contenu actif" in step
    response = post_step(client, draft, "motif", {"motif": "vol", "mention": "stationnement",
                                                  "numero_carte": "CMI-99"})
    assert response.status_code == 422 and "a été refusé" in page(response)
    with app.app_context():
        from portal.notifications.models import Notification

        [note] = database.session.scalars(select(Notification)).all()
        assert note.kind == "document" and note.link == f"/brouillons/{draft}/etapes/motif"


def submit(client, draft):
    summary = page(client.get(f"/brouillons/{draft}/recapitulatif"))
    version = re.search(r'name="version" value="(\d+)"', summary).group(1)
    return client.post(f"/brouillons/{draft}/deposer", data={
        "csrf_token": csrf_token(client, f"/brouillons/{draft}/recapitulatif"), "version": version})


def test_files_of_procedures_count_in_the_one_quota(app, client, auth, create_user):
    sign_in(client, auth, create_user)
    big = big_pdf(60)
    app.config["WALLET_QUOTA_BYTES"] = len(big) + 30_000
    draft = start(client, "cmi_duplicata")
    assert post_step(client, draft, "motif", {"motif": "vol", "mention": "stationnement", "numero_carte": "A"},
                     files={"declaration_vol": big}).status_code == 303
    response = add_to_wallet(client, big, title="Encore")
    assert response.status_code == 422 and "Votre porte-documents est plein" in page(response)
    assert "démarches compris" in page(response)
    other = start(client, "cmi_duplicata")
    response = post_step(client, other, "motif", {"motif": "vol", "mention": "stationnement",
                                                  "numero_carte": "B"}, files={"declaration_vol": big})
    assert response.status_code == 422 and "Votre porte-documents est plein" in page(response)


# --- clamd -----------------------------------------------------------------------------------------


class FakeClamd:
    """A local TCP server that speaks clamd's INSTREAM: ``stream: OK``, or EICAR found."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.scanned: list[bytes] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                stream = conn.makefile("rb")
                command = b""
                while not command.endswith(b"\0"):
                    command += stream.read(1)
                assert command == b"zINSTREAM\0"
                data = b""
                while (size := struct.unpack("!I", stream.read(4))[0]):
                    data += stream.read(size)
                self.scanned.append(data)
                verdict = b"stream: Eicar-Test-Signature FOUND\0" if EICAR in data else b"stream: OK\0"
                conn.sendall(verdict)

    def close(self):
        self.server.close()


@pytest.fixture
def fake_clamd():
    server = FakeClamd()
    yield server
    server.close()


def test_the_clamd_client_speaks_instream(fake_clamd):
    assert clamd.scan(b"%PDF-1.7 propre" * 10_000, fake_clamd.address) is None
    assert clamd.scan(b"abc" + EICAR, fake_clamd.address) == "Eicar-Test-Signature"
    assert fake_clamd.scanned[0] == b"%PDF-1.7 propre" * 10_000  # sent whole, in chunks
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(clamd.ScanUnavailable):
        clamd.scan(b"x", f"127.0.0.1:{port}", timeout=2)


def store_pending(app, data: bytes, title: str) -> int:
    from portal.wallet import services as wallet
    with app.test_request_context():
        user = database.session.scalars(select(User)).one()
        document = wallet.add_document(user, FileStorage(io.BytesIO(data), filename=f"{title}.pdf"),
                                       "autre", title)
        database.session.commit()
        return document.id


def document(app, document_id: int):
    from portal.wallet.models import WalletDocument

    with app.app_context():
        row = database.session.get(WalletDocument, document_id)
        database.session.expunge_all()
        return row


def test_files_are_held_until_clamd_scanned_them(app, create_user, fake_clamd):
    create_user()
    app.config["CLAMD_ADDRESS"] = fake_clamd.address
    clean = store_pending(app, pdf_bytes("Propre"), "Propre")
    infected = store_pending(app, build_pdf(comment=EICAR.decode()), "Infecté")
    assert run_file_checks(app) == {"ok": 1, "rejected": 1, "waiting": 0}
    assert document(app, clean).check_status == "ok"
    refused = document(app, infected)
    assert refused.check_status == "rejected" and "virus" in refused.check_message
    assert "Eicar-Test-Signature" in refused.check_message


def test_clamd_unreachable_keeps_the_file_pending_and_retries_it(app, create_user, fake_clamd):
    create_user()
    closed = socket.create_server(("127.0.0.1", 0))
    app.config["CLAMD_ADDRESS"] = f"127.0.0.1:{closed.getsockname()[1]}"
    closed.close()
    document_id = store_pending(app, pdf_bytes("Attente"), "Attente")
    assert run_file_checks(app) == {"ok": 0, "rejected": 0, "waiting": 1}
    waiting = document(app, document_id)
    assert waiting.check_status == "pending" and "antivirus" in waiting.check_message  # never accepted unscanned
    assert run_file_checks(app) == {"ok": 0, "rejected": 0, "waiting": 0}  # not before its retry time
    for _attempt in range(5):  # clamd stays down for a while: still pending, never refused
        with app.app_context():
            checks.check_pending(now=database.utcnow() + timedelta(hours=2))
    assert document(app, document_id).check_status == "pending"
    app.config["CLAMD_ADDRESS"] = fake_clamd.address  # back
    with app.app_context():
        assert checks.check_pending(now=database.utcnow() + timedelta(hours=2))["ok"] == 1
    assert document(app, document_id).check_status == "ok"


def test_rows_are_claimed_once(app, create_user):
    """Two workers never check the same file: the claim is a conditional update."""
    create_user()
    document_id = store_pending(app, pdf_bytes("Un"), "Un")
    holder = next(h for h in app.extensions["file_holders"] if h.model.__tablename__ == "wallet_documents")
    with app.app_context():
        now = database.utcnow()
        assert checks._claim(holder, now) == document_id
        assert checks._claim(holder, now) is None  # leased to the first worker
        assert checks._claim(holder, now + checks.LEASE + timedelta(seconds=1)) == document_id  # it died
