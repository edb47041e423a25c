"""Mes relations in Chromium, JavaScript on and off, axe-core on every page visited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Ui, assert_accessible, assert_reflows, create_live_user

pytestmark = pytest.mark.browser

SIRET_KEY = ("Le numéro SIRET n'est pas valide : sa clé de contrôle ne correspond pas. "
             "Vérifiez les 14 chiffres.")
SIRET_FORMAT = "Le numéro SIRET doit comporter 14 chiffres, par exemple 732 829 320 00074."
POSTCODE_FORMAT = "Le code postal doit comporter 5 chiffres, par exemple 75001."
VALID_SIRET = "73282932000074"


def path_of(ui: Ui) -> str:
    return re.sub(r"^https?://[^/]+", "", ui.page.url)


def login(ui: Ui, email: str = "proches@example.org") -> None:
    create_live_user(ui.live, email)
    ui.login(email)


def choose(ui: Ui, label: str) -> None:
    ui.page.get_by_label(label, exact=True).check()


def test_add_edit_delete_a_child_and_an_association(ui: Ui):
    login(ui)
    ui.visit("/relations")
    assert "Vous n'avez enregistré aucune personne physique." in ui.text()

    # A child
    ui.follow("Ajouter une personne physique")
    assert ui.page.locator("h1").inner_text() == "Ajouter une personne physique"
    choose(ui, "Enfant")
    choose(ui, "Madame")
    ui.fill("nom", "Martin")
    ui.fill("prenom", "Léa")
    ui.fill("date_naissance", "14/07/2015")
    ui.submit("Enregistrer")
    assert path_of(ui) == "/relations"
    assert "La relation « Léa Martin » a été ajoutée." in ui.text()
    row = ui.page.locator("tbody tr", has_text="Léa Martin")
    expect(row).to_contain_text("Enfant")
    expect(row).to_contain_text("14/07/2015")

    # An association: a wrong SIRET key first, said in French, the other answers kept.
    ui.follow("Ajouter une personne morale")
    choose(ui, "Association")
    ui.fill("raison_sociale", "Les Amis du Quartier")
    ui.fill("siret", "732 829 320 00075")
    ui.fill("adresse", "12 rue des Lilas")
    ui.fill("code_postal", "75001")
    ui.fill("commune", "Paris")
    ui.submit("Enregistrer")
    assert ui.page.title().startswith("Erreur : ")
    summary = ui.page.locator(".error-summary")
    expect(summary.get_by_role("link", name=SIRET_KEY)).to_have_attribute("href", "#siret")
    expect(ui.page.locator("#siret-error")).to_contain_text(SIRET_KEY)
    expect(ui.page.locator("#siret")).to_have_attribute("aria-invalid", "true")
    if ui.javascript:
        expect(summary).to_be_focused()
    assert ui.page.locator("#raison_sociale").input_value() == "Les Amis du Quartier"
    assert ui.page.locator("#commune").input_value() == "Paris"
    assert ui.page.get_by_label("Association", exact=True).is_checked()
    ui.fill("siret", VALID_SIRET)
    ui.submit("Enregistrer")
    assert path_of(ui) == "/relations"
    assert "La relation « Les Amis du Quartier » a été ajoutée." in ui.text()
    row = ui.page.locator("tbody tr", has_text="Les Amis du Quartier")
    expect(row).to_contain_text(VALID_SIRET)
    expect(row).to_contain_text("12 rue des Lilas, 75001 Paris")

    # Edit the child
    ui.follow("Modifier Léa Martin")
    assert ui.page.locator("h1").inner_text() == "Modifier « Léa Martin »"
    assert ui.page.locator("#date_naissance").input_value() == "14/07/2015"
    ui.fill("prenom", "Léane")
    ui.fill("code_postal", "7500")
    ui.submit("Enregistrer")
    expect(ui.page.locator(".error-summary")).to_contain_text(POSTCODE_FORMAT)
    ui.fill("code_postal", "")
    ui.submit("Enregistrer")
    assert "La relation « Léane Martin » a été modifiée." in ui.text()
    assert ui.page.locator("tbody tr", has_text="Léane Martin").count() == 1

    # Delete the association after confirmation; « Annuler » keeps it.
    ui.follow("Supprimer Les Amis du Quartier")
    assert ui.page.locator("h1").inner_text() == "Supprimer « Les Amis du Quartier » de mes relations"
    ui.follow("Annuler")
    assert path_of(ui) == "/relations"
    ui.follow("Supprimer Les Amis du Quartier")
    ui.submit("Supprimer cette relation")
    assert "La relation « Les Amis du Quartier » a été supprimée." in ui.text()
    assert "Vous n'avez enregistré aucune personne morale." in ui.text()
    assert ui.page.locator("tbody tr", has_text="Léane Martin").count() == 1


def live_text(ui: Ui):
    return ui.page.locator("#live-region [data-live-text]")


def test_inline_checks_show_the_error_beside_the_field_and_announce_it(ui_js: Ui):
    ui = ui_js
    login(ui)
    ui.visit("/relations/ajouter/personne-morale")
    ui.fill("siret", "123")
    ui.page.keyboard.press("Tab")
    expect(ui.page.locator("#siret-error")).to_contain_text(SIRET_FORMAT)
    expect(live_text(ui)).to_have_text(re.compile(re.escape(SIRET_FORMAT)))
    expect(ui.page.locator("#siret")).to_have_attribute("aria-invalid", "true")
    assert ui.page.locator("#siret").input_value() == "123"
    assert_accessible(ui.page)

    ui.page.locator("#siret").fill("73282932000075")
    ui.page.keyboard.press("Tab")
    expect(ui.page.locator("#siret-error")).to_contain_text(SIRET_KEY)
    expect(live_text(ui)).to_have_text(re.compile(re.escape(SIRET_KEY)))

    ui.page.locator("#siret").fill(VALID_SIRET)
    ui.page.keyboard.press("Tab")
    expect(ui.page.locator("#siret-error")).to_have_count(0)
    expect(ui.page.locator("#siret")).not_to_have_attribute("aria-invalid", "true")

    ui.fill("code_postal", "75A01")
    ui.page.keyboard.press("Tab")
    expect(ui.page.locator("#code_postal-error")).to_contain_text(POSTCODE_FORMAT)
    expect(live_text(ui)).to_have_text(re.compile(re.escape(POSTCODE_FORMAT)))
    assert ui.page.locator("#siret").input_value() == VALID_SIRET
    assert ui.page.locator(".error-summary").count() == 0  # only the submit lists every error
    assert_accessible(ui.page)


def tab_to(ui: Ui, element_id: str, most: int = 12) -> None:
    """Press Tab until the element has focus, as a keyboard user would."""
    for _ in range(most):
        ui.page.keyboard.press("Tab")
        if ui.page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} jamais atteint au clavier")


def test_add_a_relation_with_the_keyboard_only(ui: Ui):
    login(ui, "clavier@example.org")
    ui.visit("/relations")
    for _ in range(40):
        ui.page.keyboard.press("Tab")
        focused = ui.page.evaluate("document.activeElement.textContent.trim()")
        if focused == "Ajouter une personne physique":
            break
    else:
        raise AssertionError("lien « Ajouter une personne physique » jamais atteint au clavier")
    with ui.page.expect_navigation():
        ui.page.keyboard.press("Enter")
    ui.check()
    assert path_of(ui) == "/relations/ajouter/personne-physique"

    tab_to(ui, "kind-0", most=40)  # "Enfant", the first radio
    ui.page.keyboard.press("Space")
    tab_to(ui, "civilite-0")  # "Madame"
    ui.page.keyboard.press("ArrowRight")  # "Monsieur": arrows move within a radio group
    tab_to(ui, "nom")
    ui.page.keyboard.type("Bernard")
    tab_to(ui, "prenom")
    ui.page.keyboard.type("Hugo")
    tab_to(ui, "date_naissance")
    ui.page.keyboard.type("03/02/2012")
    for _ in range(20):
        ui.page.keyboard.press("Tab")
        if ui.page.evaluate("document.activeElement.textContent.trim()") == "Enregistrer":
            break
    else:
        raise AssertionError("bouton « Enregistrer » jamais atteint au clavier")
    with ui.page.expect_navigation():
        ui.page.keyboard.press("Enter")
    ui.check()
    assert path_of(ui) == "/relations"
    assert "La relation « Hugo Bernard » a été ajoutée." in ui.text()
    row = ui.page.locator("tbody tr", has_text="Hugo Bernard")
    expect(row).to_contain_text("Monsieur Hugo Bernard")  # one civilité vocabulary everywhere
    expect(row).to_contain_text("Enfant")
    expect(row).to_contain_text("03/02/2012")


def test_relations_pages_reflow_at_320_px(narrow_ui: Ui):
    ui = narrow_ui
    login(ui, "etroit.relations@example.org")
    for category in ("personne-physique", "personne-morale"):
        ui.visit(f"/relations/ajouter/{category}")
        assert_reflows(ui.page)
    ui.submit("Enregistrer")  # the legal person form with all its errors
    assert ui.page.title().startswith("Erreur : ")
    assert_reflows(ui.page)
    choose(ui, "Association")
    ui.fill("raison_sociale", "Association intercommunale pour la sauvegarde des jardins partagés")
    ui.fill("siret", VALID_SIRET)
    ui.fill("adresse", "12 rue des Lilas")
    ui.fill("code_postal", "75001")
    ui.fill("commune", "Paris")
    ui.submit("Enregistrer")
    assert path_of(ui) == "/relations"
    ui.visit("/relations/ajouter/personne-physique")
    choose(ui, "Enfant")
    choose(ui, "Madame")
    ui.fill("nom", "Durand-de-la-Longue-Famille")
    ui.fill("prenom", "Marie-Charlotte")
    ui.fill("date_naissance", "01/01/2010")
    ui.submit("Enregistrer")
    assert path_of(ui) == "/relations"
    assert_reflows(ui.page)
    ui.follow("Supprimer Marie-Charlotte Durand-de-la-Longue-Famille")  # the confirmation page
    assert_reflows(ui.page)
