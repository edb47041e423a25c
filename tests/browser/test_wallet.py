"""Porte-documents in Chromium, JavaScript on and off, axe-core on every page visited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Ui, assert_accessible, assert_reflows, create_live_user
from tests.wallet_samples import pdf_bytes, png_bytes, run_file_checks

pytestmark = pytest.mark.browser

WRONG_FORMAT = "Le fichier doit être au format PDF, JPEG ou PNG (d'après son contenu)."


def path_of(ui: Ui) -> str:
    return re.sub(r"^https?://[^/]+", "", ui.page.url)


def sample_files(tmp_path: Path) -> dict[str, Path]:
    files = {"pdf": tmp_path / "facture-mars.pdf", "png": tmp_path / "photo.png",
             "text": tmp_path / "notes.pdf"}
    files["pdf"].write_bytes(pdf_bytes("Facture d'électricité"))
    files["png"].write_bytes(png_bytes())
    files["text"].write_bytes(b"Ceci n'est qu'un texte, pas un PDF.\n" * 20)
    return files


def add_document(ui: Ui, file: Path, kind: str, title: str, issued_on: str = "", valid_until: str = "",
                 check: bool = True) -> None:
    """Add a document; the worker then checks it (pages shown from now on see it checked)."""
    ui.visit("/porte-documents/ajouter")
    ui.page.locator("#file").set_input_files(str(file))
    ui.page.locator("#kind").select_option(kind)
    ui.fill("title", title)
    ui.fill("issued_on", issued_on)
    ui.fill("valid_until", valid_until)
    ui.submit("Ajouter le document")
    if check:
        run_file_checks(ui.live.app)


def test_a_document_is_shown_pending_until_the_worker_checked_it(ui: Ui, tmp_path: Path):
    """« En cours de vérification » in a live region; htmx asks again until the worker has
    decided, a reload does the same without JavaScript."""
    files = sample_files(tmp_path)
    create_live_user(ui.live, "attente@example.org")
    ui.login("attente@example.org")
    add_document(ui, files["pdf"], "autre", "Facture", check=False)
    row = ui.page.locator("#documents tbody tr", has_text="Facture")
    expect(row.locator('[role="status"]')).to_contain_text("En cours de vérification")
    expect(row.get_by_role("link", name="Télécharger Facture")).to_have_count(0)
    assert_accessible(ui.page)
    run_file_checks(ui.live.app)
    if ui.javascript:
        expect(row.locator('[role="status"]')).to_contain_text("Fichier vérifié", timeout=6000)
    else:
        ui.visit("/porte-documents/")
        expect(row.locator('[role="status"]')).to_have_count(0)
    ui.visit("/porte-documents/")
    expect(row.get_by_role("link", name="Télécharger Facture")).to_have_count(1)


def titles_listed(ui: Ui) -> list[str]:
    return [t.strip() for t in ui.page.locator("#documents tbody tr td:first-child").all_inner_texts()]


def test_add_list_filter_modify_download_delete(ui: Ui, tmp_path: Path):
    files = sample_files(tmp_path)
    create_live_user(ui.live, "porte@example.org")
    ui.login("porte@example.org")
    ui.visit("/porte-documents/")
    assert "Votre porte-documents est vide." in ui.text()
    ui.follow("Ajouter un document")
    assert path_of(ui) == "/porte-documents/ajouter"

    add_document(ui, files["pdf"], "justificatif_domicile", "Facture d'électricité", issued_on="02/03/2026")
    assert path_of(ui) == "/porte-documents/"
    assert "Le document « Facture d'électricité » a été ajouté à votre porte-documents." in ui.text()
    add_document(ui, files["png"], "photo_identite", "Photo d'identité de Camille", valid_until="31/12/2099")
    assert titles_listed(ui) and set(titles_listed(ui)) == {"Facture d'électricité", "Photo d'identité de Camille"}
    row = ui.page.locator("#documents tbody tr", has_text="Facture d'électricité")
    expect(row).to_contain_text("Justificatif de domicile")
    expect(row).to_contain_text("Délivré le 02/03/2026")
    expect(row).to_contain_text("PDF")
    png_row = ui.page.locator("#documents tbody tr", has_text="Photo d'identité de Camille")
    expect(png_row).to_contain_text("Valable jusqu'au 31/12/2099")
    expect(png_row).to_contain_text("PNG")

    # Filter by kind: with JavaScript htmx swaps the list in place; without, the form is sent.
    if ui.javascript:
        ui.page.evaluate("window.sameDocument = true")
        ui.page.locator("#kind").select_option("photo_identite")
        expect(ui.page.locator("#documents caption")).to_have_text(re.compile(r"1 document\s+\(filtrés\)"))
        assert ui.page.evaluate("window.sameDocument === true")  # no reload
        expect(ui.page).to_have_url(re.compile(r"kind=photo_identite"))  # data-hx-push-url
        expect(ui.page.locator("#live-region [data-live-text]")).to_have_text("1 document affiché.")
        assert_accessible(ui.page)
    else:
        ui.page.locator("#kind").select_option("photo_identite")
        ui.submit("Filtrer")
        assert "kind=photo_identite" in ui.page.url
    assert titles_listed(ui) == ["Photo d'identité de Camille"]
    ui.visit("/porte-documents/?kind=avis_imposition")
    assert "Aucun document ne correspond à ces critères." in ui.text()
    ui.follow("Voir tous les documents")
    assert len(titles_listed(ui)) == 2

    # Modify: the title, and the date of issue the document lacked.
    ui.follow("Modifier Photo d'identité de Camille")
    assert ui.page.locator("h1").inner_text() == "Modifier un document"
    expect(ui.page.locator("#kind")).to_have_value("photo_identite")
    expect(ui.page.locator("#valid_until")).to_have_value("31/12/2099")
    expect(ui.page.get_by_role("radio", name="Moi")).to_be_checked()
    ui.fill("issued_on", "01/01/2026")
    ui.submit("Enregistrer les modifications")
    assert "Le document « Photo d'identité de Camille » a été modifié." in ui.text()
    expect(ui.page.locator("#documents tbody tr", has_text="Photo d'identité de Camille")).to_contain_text(
        "Délivré le 01/01/2026")
    ui.follow("Modifier Facture d'électricité")
    assert ui.page.locator("#title").input_value() == "Facture d'électricité"
    expect(ui.page.locator("#issued_on")).to_have_value("02/03/2026")
    ui.fill("title", "")
    ui.fill("valid_until", "01/01/2020")
    ui.submit("Enregistrer les modifications")
    assert ui.page.title().startswith("Erreur : ")
    summary = ui.page.locator(".error-summary")
    expect(summary).to_contain_text("Saisissez un titre pour ce document.")
    expect(summary).to_contain_text("La date de fin de validité doit être après la date de délivrance.")
    ui.fill("title", "Facture EDF mars 2026")
    ui.fill("valid_until", "")
    ui.submit("Enregistrer les modifications")
    assert "Le document « Facture EDF mars 2026 » a été modifié." in ui.text()
    assert "Facture EDF mars 2026" in titles_listed(ui)

    # Download: the title is the file name, with the true extension and type.
    with ui.page.expect_download() as info:
        ui.page.get_by_role("link", name="Télécharger Facture EDF mars 2026", exact=True).click()
    download = info.value
    assert download.suggested_filename == "Facture EDF mars 2026.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
    response = ui.page.request.get(download.url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    with ui.page.expect_download() as info:
        ui.page.get_by_role("link", name="Télécharger Photo d'identité de Camille", exact=True).click()
    assert info.value.suggested_filename == "Photo d'identité de Camille.png"
    assert ui.page.request.get(info.value.url).headers["content-type"] == "image/png"

    # Delete, after a confirmation page; « Annuler » keeps the document.
    ui.follow("Supprimer Facture EDF mars 2026")
    assert ui.page.locator("h1").inner_text() == "Supprimer un document"
    assert "« Facture EDF mars 2026 » (Justificatif de domicile)" in ui.text()
    ui.follow("Annuler")
    assert "Facture EDF mars 2026" in titles_listed(ui)
    ui.follow("Supprimer Facture EDF mars 2026")
    ui.submit("Supprimer le document")
    assert path_of(ui) == "/porte-documents/"
    assert "Le document « Facture EDF mars 2026 » a été supprimé." in ui.text()
    assert titles_listed(ui) == ["Photo d'identité de Camille"]


def test_an_invalid_file_is_refused_in_french_and_the_answers_stay(ui: Ui, tmp_path: Path):
    files = sample_files(tmp_path)
    create_live_user(ui.live, "refus@example.org")
    ui.login("refus@example.org")
    add_document(ui, files["text"], "avis_imposition", "Avis 2025", issued_on="15/09/2025")
    assert path_of(ui) == "/porte-documents/ajouter"
    assert ui.page.title().startswith("Erreur : ")
    summary = ui.page.locator(".error-summary")
    expect(summary).to_contain_text("Il y a un problème")
    expect(summary.get_by_role("link", name=WRONG_FORMAT)).to_have_attribute("href", "#file")
    expect(ui.page.locator("#file-error")).to_contain_text(WRONG_FORMAT)
    assert "file-error" in ui.page.locator("#file").get_attribute("aria-describedby")
    if ui.javascript:
        expect(summary).to_be_focused()
    assert ui.page.locator("#kind").input_value() == "avis_imposition"
    assert ui.page.locator("#title").input_value() == "Avis 2025"
    assert ui.page.locator("#issued_on").input_value() == "15/09/2025"

    # Nothing chosen at all, then a future issue date: each said in French.
    ui.page.locator("#issued_on").fill("01/01/2099")
    ui.submit("Ajouter le document")
    expect(summary).to_contain_text("Sélectionnez un fichier.")
    expect(summary).to_contain_text("La date de délivrance ne peut pas être dans le futur.")

    ui.page.locator("#file").set_input_files(str(files["pdf"]))
    ui.fill("issued_on", "15/09/2025")
    ui.fill("valid_until", "31/12/2025")
    ui.submit("Ajouter le document")  # axe checks the "Expiré" tag too
    run_file_checks(ui.live.app)
    assert path_of(ui) == "/porte-documents/"
    assert titles_listed(ui) == ["Avis 2025"]
    expect(ui.page.locator("#documents .tag--expired")).to_have_text("Expiré le 31/12/2025")


def test_wallet_pages_reflow_at_320_px(narrow_ui: Ui, tmp_path: Path):
    ui = narrow_ui
    files = sample_files(tmp_path)
    create_live_user(ui.live, "etroit.porte-documents@example.org")
    ui.login("etroit.porte-documents@example.org")
    ui.visit("/porte-documents/ajouter")
    assert_reflows(ui.page)
    ui.submit("Ajouter le document")  # with its errors
    assert ui.page.title().startswith("Erreur : ")
    assert_reflows(ui.page)
    add_document(ui, files["pdf"], "justificatif_domicile",
                 "Justificatif de domicile avec un titre particulièrement long pour l'écran étroit",
                 issued_on="02/03/2026", valid_until="02/03/2027")
    add_document(ui, files["png"], "photo_identite", "Photo")
    ui.visit("/porte-documents/")
    assert len(titles_listed(ui)) == 2
    assert_reflows(ui.page)
    ui.follow("Supprimer Photo")  # the confirmation page
    assert_reflows(ui.page)


@pytest.fixture
def relations_in_wallet(live_server):
    """Mes relations offered as "Personne concernée". The démarches integration wires this in
    the app itself; until it is merged, the test plugs it in (and takes it out again)."""
    from portal.relations.services import relations_for

    extensions = live_server.app.extensions
    added = "wallet_relation_choices" not in extensions
    if added:
        extensions["wallet_relation_choices"] = lambda user: [(r.id, r.display_name) for r in relations_for(user)]
    yield
    if added:
        del extensions["wallet_relation_choices"]


@pytest.mark.usefixtures("relations_in_wallet")
def test_a_document_for_a_relation_is_listed_and_filtered_by_person(ui: Ui, tmp_path: Path):
    from sqlalchemy import select

    from portal import db as database
    from portal.accounts.models import User
    from portal.relations.services import create_relation

    files = sample_files(tmp_path)
    create_live_user(ui.live, "famille@example.org")
    with ui.live.app.app_context():
        user = database.session.scalar(select(User).where(User.email == "famille@example.org"))
        create_relation(user, "enfant", {"civilite": "Madame", "nom": "Martin", "prenom": "Léa",
                                         "date_naissance": None, "adresse": None, "code_postal": None,
                                         "commune": None})
        database.session.commit()
    ui.login("famille@example.org")
    ui.visit("/porte-documents/ajouter")
    ui.page.locator("#file").set_input_files(str(files["pdf"]))
    ui.page.locator("#kind").select_option("certificat_medical")
    ui.fill("title", "Certificat de Léa")
    ui.page.get_by_label("Léa Martin").check()
    ui.submit("Ajouter le document")
    add_document(ui, files["png"], "photo_identite", "Ma photo")
    expect(ui.page.locator("#documents tbody tr", has_text="Certificat de Léa")).to_contain_text("Léa Martin")
    expect(ui.page.locator("#documents tbody tr", has_text="Ma photo")).to_contain_text("Moi")

    ui.page.locator("#person").select_option(label="Léa Martin")
    if ui.javascript:
        expect(ui.page.locator("#documents caption")).to_have_text(re.compile(r"1 document\s+\(filtrés\)"))
        assert_accessible(ui.page)
    else:
        ui.submit("Filtrer")
    assert titles_listed(ui) == ["Certificat de Léa"]
