"""Enter never loses data on a démarche step, and the focus never falls back to <body> after
« Ajouter », « Retirer » or « Supprimer ». JavaScript on and off."""

from __future__ import annotations

import pytest

from portal import db as database
from tests.browser.conftest import Ui
from tests.browser.demarches_ui import (
    CONTINUE,
    PDF_FILE,
    PNG_FILE,
    draft_id,
    heading,
    sign_in,
    start,
    stored_answers,
)

pytestmark = pytest.mark.browser


def _set_answers(ui: Ui, dossier: int, answers: dict) -> None:
    from portal.demarches.models import Dossier

    with ui.live.app.app_context():
        row = database.session.get(Dossier, dossier)
        row.answers = {**row.answers, **answers}
        database.session.commit()
        database.session.remove()


def _enter(ui: Ui, selector: str) -> None:
    with ui.page.expect_navigation():
        ui.page.locator(selector).press("Enter")
    ui.check()


def _focused(ui: Ui) -> str:
    return ui.page.evaluate("document.activeElement ? document.activeElement.id : ''")


def test_enter_in_the_card_number_saves_the_step_and_keeps_the_file(ui: Ui):
    sign_in(ui)
    draft = start(ui, "cmi_duplicata")
    ui.page.locator("#f-motif-1").check()  # vol
    ui.page.locator("#f-mention").check()
    ui.page.locator("#f-numero_carte").fill("CMI-1")
    if not ui.javascript:
        ui.submit(CONTINUE)  # the optional « Déclaration de vol » is asked on the same step
        ui.submit(CONTINUE)
        ui.visit(draft + "/etapes/motif")
    ui.page.locator("#f-declaration_vol").set_input_files(PDF_FILE)
    ui.submit(CONTINUE)
    assert heading(ui) == "Le titulaire de la carte"
    ui.visit(draft + "/etapes/motif")
    assert ui.page.get_by_role("button", name="Supprimer certificat.pdf").count() == 1
    ui.page.locator("#f-numero_carte").fill("CMI-2")
    _enter(ui, "#f-numero_carte")
    assert heading(ui) == "Le titulaire de la carte", ui.text()[:1000]
    stored = stored_answers(ui, draft_id(draft))
    assert stored["numero_carte"] == "CMI-2" and stored["declaration_vol"]["name"] == "certificat.pdf"


def test_enter_on_a_checkbox_of_the_documents_step_keeps_every_file(ui: Ui):
    sign_in(ui)
    draft = start(ui, "cmi")
    dossier = draft_id(draft)
    _set_answers(ui, dossier, {"type_demande": "premiere", "mentions": ["stationnement"], "nationalite": "francaise",
                               "filiere": "mdph", "adresse": {"adresse": "1 rue de la Paix", "code_postal": "62000",
                                                               "commune": "Arras"}})
    ui.visit(draft + "/etapes/documents")
    for key, upload in [("certificat_medical", PDF_FILE), ("justificatif_domicile", PDF_FILE),
                        ("piece_identite", PNG_FILE)]:
        ui.page.locator(f"#f-{key}").set_input_files(upload)
    ui.submit(CONTINUE)
    assert heading(ui) == "Attestation"
    ui.visit(draft + "/etapes/documents")
    _enter(ui, "#f-piece_identite-conserver")
    assert heading(ui) == "Attestation", ui.text()[:1000]
    stored = stored_answers(ui, dossier)
    assert all(stored[key]["file_id"] for key in ("certificat_medical", "justificatif_domicile",
                                                   "piece_identite"))


def test_enter_in_the_rate_adds_nobody_and_saves(ui: Ui):
    sign_in(ui)
    draft = start(ui, "cmi")
    dossier = draft_id(draft)
    _set_answers(ui, dossier, {"type_demande": "premiere", "mentions": ["stationnement", "invalidite"],
                               "sous_mentions": ["besoin_accompagnement"], "filiere": "mdph"})
    ui.visit(draft + "/etapes/handicap")
    assert ui.page.get_by_role("button", name="Ajouter une personne").count() == 1
    ui.page.locator("#f-reconnaissance").check()
    if not ui.javascript:
        ui.submit(CONTINUE)  # « Taux d'incapacité » is asked on the same step
    ui.page.locator("#f-deplacement").check()
    ui.page.locator("#f-taux").fill("85")
    _enter(ui, "#f-taux")
    assert heading(ui) == "Vos justificatifs", ui.text()[:1000]
    stored = stored_answers(ui, dossier)
    assert stored["taux"] == "85" and not stored.get("aidants")


def test_the_focus_follows_ajouter_retirer_and_supprimer(ui: Ui):
    sign_in(ui)
    draft = start(ui, "cmi")
    dossier = draft_id(draft)
    _set_answers(ui, dossier, {"type_demande": "premiere", "mentions": ["stationnement", "invalidite"],
                               "sous_mentions": ["besoin_accompagnement"], "filiere": "mdph",
                               "nationalite": "francaise"})
    ui.visit(draft + "/etapes/handicap")
    ui.submit("Ajouter une personne")
    assert _focused(ui) == "f-aidants-0-nom"
    ui.page.keyboard.type("Dominique Martin")
    ui.submit("Retirer personne 1")
    assert _focused(ui) == "f-aidants"
    ui.visit(draft + "/etapes/documents")
    ui.page.locator("#f-piece_identite").set_input_files(PNG_FILE)
    ui.submit("Enregistrer et reprendre plus tard")
    ui.visit(draft + "/etapes/documents")
    ui.submit("Supprimer photo.png")
    assert _focused(ui) == "f-piece_identite"
    assert "piece_identite" not in stored_answers(ui, dossier)
