"""The démarches pages around the steps, checked with axe (every page reached through ``Ui``):
the catalogue and its search, the information pages, Mes démarches (empty, with a draft), the
summary with its errors, the deletion of a draft; and reflow at 320 px of a step, the summary,
the tracking page and the other démarches pages."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Ui, assert_reflows
from tests.browser.demarches_ui import (
    CONTINUE,
    answer,
    fill_step,
    heading,
    sign_in,
    start,
    submit_request,
)

pytestmark = pytest.mark.browser

PROCEDURES = {"cmi": "Demande de Carte Mobilité Inclusion (CMI)",
              "cmi_duplicata": "Duplicata ou second exemplaire de CMI",
              "cmi_rapo": "Recours administratif préalable obligatoire (RAPO) contre une décision CMI",
              "cmi_eligibilite": "Suis-je éligible à la CMI ?"}


def test_catalogue_search_and_information_pages(ui: Ui):
    ui.visit("/demarches")
    assert heading(ui) == "Liste des démarches"
    for title in PROCEDURES.values():
        assert title in ui.text()
    ui.fill("q", "stationnement")
    ui.submit("Rechercher")
    assert "q=stationnement" in ui.page.url
    assert PROCEDURES["cmi"] in ui.text() and PROCEDURES["cmi_rapo"] not in ui.text()
    ui.fill("q", "passeport zzz")
    ui.submit("Rechercher")
    assert "Aucune démarche" in ui.text()
    for procedure_id, title in PROCEDURES.items():
        ui.visit(f"/demarches/{procedure_id}")
        assert heading(ui) == title
    ui.visit("/demarches/cmi")
    assert "Documents à préparer" in ui.text() and "Se connecter pour commencer" in ui.text()


def test_mes_demarches_summary_errors_and_draft_deletion(ui: Ui):
    sign_in(ui)
    ui.visit("/mes-demarches")
    assert heading(ui) == "Mes démarches"
    draft = start(ui, "cmi")
    answer(ui, "type_demande", True)
    ui.submit("Enregistrer et reprendre plus tard")
    assert heading(ui) == "Mes démarches"
    assert "Votre brouillon est enregistré" in ui.text() and PROCEDURES["cmi"] in ui.text()
    assert ui.page.locator(f'a[href="{draft.split(ui.live.url)[1]}"]').count() == 1
    ui.visit(draft + "/recapitulatif")
    assert heading(ui) == "Vérifiez vos réponses" and "À compléter" in ui.text()
    ui.submit("Déposer ma demande")  # incomplete: the summary's error state
    assert ui.page.title().startswith("Erreur : ")
    assert "Sélectionnez au moins une mention." in ui.text()
    with ui.page.expect_navigation():
        ui.page.locator(".error-summary a").first.click()
    ui.check()
    assert heading(ui) == "Votre demande" and "Retour au récapitulatif" in ui.page.locator(".back-link").inner_text()
    ui.visit(draft + "/supprimer")
    assert heading(ui).startswith("Supprimer le brouillon")
    ui.submit("Supprimer le brouillon")
    assert heading(ui) == "Mes démarches"
    assert ui.page.locator(f'a[href="{draft.split(ui.live.url)[1]}"]').count() == 0


def test_a_rapo_without_any_decision_says_where_to_write(ui: Ui):
    """Said on the information page, before any draft exists (no « Commencer » into a dead end)."""
    sign_in(ui)
    ui.visit("/demarches/cmi_rapo")
    assert "aucune demande ayant reçu une décision" in ui.text() and "CDAPH" in ui.text()
    assert ui.page.get_by_role("button", name="Commencer").count() == 0


def test_demarches_pages_reflow_at_320_px(narrow_ui: Ui):
    ui = narrow_ui
    for path in ["/demarches", "/demarches?q=carte", "/demarches/cmi", "/demarches/cmi_eligibilite"]:
        ui.visit(path)
        assert_reflows(ui.page)
    ui.submit("Voir le résultat")  # the questionnaire's errors
    assert_reflows(ui.page)
    sign_in(ui)
    draft = start(ui, "cmi")
    assert_reflows(ui.page)  # the first step, its list of steps below
    ui.submit(CONTINUE)
    assert ui.page.title().startswith("Erreur : ")
    assert_reflows(ui.page)
    ui.visit(draft + "/etapes/residence")
    answer(ui, "nationalite-2", True)
    ui.page.locator("#f-titre_sejour_numero").wait_for()
    assert_reflows(ui.page)
    start(ui, "cmi_duplicata")
    fill_step(ui, "Le motif de votre demande", [("motif", True), ("mention", True), ("numero_carte", "CMI-99")],
              "Le titulaire de la carte")
    fill_step(ui, "Le titulaire de la carte", [], "Le coût de la carte")
    assert_reflows(ui.page)
    fill_step(ui, "Le coût de la carte", [("accord_tarif", True)], None)
    assert_reflows(ui.page)  # the summary
    submit_request(ui)
    assert_reflows(ui.page)  # the confirmation
    ui.follow("Suivre ma demande")
    assert_reflows(ui.page)  # the tracking page
    ui.visit("/mes-demarches")
    assert_reflows(ui.page)
