"""Account flows in Chromium, JavaScript on and off, axe-core on every page visited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal import db as database
from tests.browser.conftest import PASSWORD, Ui, create_live_user

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Autre-cheval7?"
REGISTRATION_SENT = ("Vous allez recevoir un email vous indiquant la marche à suivre pour "
                     "finaliser la création de votre compte.")


def path_of(ui: Ui) -> str:
    return re.sub(r"^https?://[^/]+", "", ui.page.url)


def identifier_shown(ui: Ui) -> str:
    return ui.page.locator(".summary-list__row", has_text="Identifiant").locator("dd").inner_text()


def choose_password(ui: Ui, password: str, button: str) -> None:
    ui.fill("password", password)
    ui.fill("password_confirm", password)
    ui.submit(button)


def test_register_confirm_log_out_and_in_with_email_then_identifier(ui: Ui):
    ui.visit("/")
    ui.follow("M'inscrire")
    assert path_of(ui) == "/inscription"
    ui.fill("email", "nouvelle@example.org")
    ui.fill("email_confirm", "nouvelle@example.org")
    ui.submit("Créer mon compte")
    assert REGISTRATION_SENT in ui.text()

    ui.visit(ui.link_for("nouvelle@example.org"))
    assert ui.page.locator("h1").inner_text() == "Création de votre compte"
    choose_password(ui, PASSWORD, "Créer mon compte")
    assert path_of(ui) == "/compte"
    assert "nouvelle@example.org" in ui.text()
    identifier = identifier_shown(ui)
    assert re.fullmatch(r"\d{15}", identifier)
    assert f"Votre identifiant est {identifier}" in ui.text()

    ui.logout()
    assert path_of(ui) == "/" and "Vous êtes déconnecté(e)." in ui.text()
    ui.login("nouvelle@example.org")
    assert path_of(ui) == "/compte"
    ui.logout()
    ui.login(identifier)
    assert path_of(ui) == "/compte" and identifier_shown(ui) == identifier


def test_forgotten_password_link_new_password_login(ui: Ui):
    create_live_user(ui.live, "oubli@example.org")
    ui.visit("/connexion")
    ui.follow("Mot de passe oublié")
    ui.fill("login", "oubli@example.org")
    ui.submit("Valider")
    assert path_of(ui) == "/connexion"
    assert "un email contenant un lien pour choisir un nouveau mot de passe" in ui.text()

    ui.visit(ui.link_for("oubli@example.org"))
    assert ui.page.locator("h1").inner_text() == "Choisir un nouveau mot de passe"
    choose_password(ui, NEW_PASSWORD, "Valider")
    assert path_of(ui) == "/connexion"
    assert "Votre mot de passe a été modifié" in ui.text()
    ui.login("oubli@example.org", PASSWORD)
    assert "Identifiant ou mot de passe incorrect." in ui.text()
    ui.login("oubli@example.org", NEW_PASSWORD)
    assert path_of(ui) == "/compte"


def test_forgotten_identifier_is_emailed(ui: Ui):
    user = create_live_user(ui.live, "ident@example.org")
    ui.visit("/connexion")
    ui.follow("Identifiant oublié")
    ui.fill("email", "ident@example.org")
    ui.submit("Valider")
    assert path_of(ui) == "/connexion"
    assert "un email contenant votre identifiant" in ui.text()
    assert user.identifier in ui.email_text("ident@example.org")


def test_cancel_returns_to_the_previous_page(ui: Ui):
    ui.visit("/")
    ui.follow("Identifiant oublié")
    ui.follow("Annuler")
    assert path_of(ui) == "/"


def test_first_connection_of_a_provisioned_account(ui: Ui):
    from portal.accounts.services import provision_account

    with ui.live.app.app_context():
        provisioned = provision_account("Martin", "Alix", "alix.martin@example.org", "Mairie")
        identifier, temporary = provisioned.user.identifier, provisioned.temporary_password
        database.session.commit()

    ui.login(identifier, temporary)
    assert path_of(ui) == "/premiere-connexion"
    assert ui.page.locator("h1").inner_text() == "Créer votre compte"
    assert ui.page.locator("#nom").input_value() == "Martin"
    assert ui.page.locator("#prenom").input_value() == "Alix"
    assert ui.page.locator("#identifiant").input_value() == identifier
    assert ui.page.locator("#identifiant").get_attribute("readonly") is not None
    assert ui.page.locator("#email").input_value() == "alix.martin@example.org"

    ui.visit("/compte")  # nothing else is reachable before the first connection is finished
    assert path_of(ui) == "/premiere-connexion"

    ui.fill("temporary_password", temporary)
    ui.fill("password", PASSWORD)
    ui.fill("password_confirm", PASSWORD)
    ui.fill("email_confirm", "alix.martin@example.org")
    ui.submit("Créer mon compte")
    assert path_of(ui) == "/compte"
    assert "Votre compte est créé" in ui.text()

    ui.logout()
    ui.login(identifier, temporary)
    assert "Identifiant ou mot de passe incorrect." in ui.text()
    ui.login(identifier, PASSWORD)
    assert path_of(ui) == "/compte"


def test_mon_compte_pages(ui: Ui):
    create_live_user(ui.live, "moi@example.org")
    ui.login("moi@example.org")

    ui.follow("Mes informations personnelles")
    ui.page.get_by_label("Madame").check()
    ui.fill("nom", "Durand")
    ui.fill("prenom", "Camille")
    ui.fill("code_postal", "750")
    ui.submit("Enregistrer")
    assert ui.page.title().startswith("Erreur : ")
    assert "Le code postal doit comporter 5 chiffres" in ui.text()
    assert ui.page.locator("#nom").input_value() == "Durand"  # what was typed is kept
    ui.fill("code_postal", "75001")
    ui.fill("date_naissance", "14/07/1985")
    ui.submit("Enregistrer")
    assert path_of(ui) == "/compte"
    assert "Vos informations personnelles ont été enregistrées." in ui.text()
    ui.follow("Mes informations personnelles")
    assert ui.page.locator("#date_naissance").input_value() == "14/07/1985"
    assert ui.page.get_by_label("Madame").is_checked()
    ui.follow("Annuler")

    ui.follow("Modifier mon mot de passe")
    ui.fill("current_password", PASSWORD)
    choose_password(ui, NEW_PASSWORD, "Enregistrer")
    assert path_of(ui) == "/compte"
    assert "Votre mot de passe a été modifié" in ui.text()

    ui.follow("Modifier mon adresse email (identifiant de connexion)")
    ui.fill("email", "nouveau@example.org")
    ui.fill("email_confirm", "nouveau@example.org")
    ui.fill("current_password", NEW_PASSWORD)
    ui.submit("Envoyer le lien de confirmation")
    assert path_of(ui) == "/compte" and "moi@example.org" in ui.text()
    ui.visit(ui.link_for("nouveau@example.org"))
    assert "nouveau@example.org" in ui.text()
    ui.submit("Confirmer cette adresse")
    assert path_of(ui) == "/compte"
    assert "Votre adresse email est désormais nouveau@example.org." in ui.text()

    ui.follow("Supprimer mon compte")
    ui.fill("current_password", "pas le bon")
    ui.submit("Supprimer définitivement mon compte")
    assert "Le mot de passe est incorrect." in ui.text()
    ui.fill("current_password", NEW_PASSWORD)
    ui.submit("Supprimer définitivement mon compte")
    assert path_of(ui) == "/"
    assert "supprimés définitivement" in ui.text()
    ui.login("nouveau@example.org", NEW_PASSWORD)
    assert "Identifiant ou mot de passe incorrect." in ui.text()


def test_empty_login_shows_the_seed_messages_in_a_focused_summary(ui: Ui):
    ui.visit("/connexion")
    ui.submit("Se connecter")
    assert ui.page.title().startswith("Erreur : ")
    summary = ui.page.locator("[data-error-summary]")
    assert summary.is_visible()
    assert summary.locator("a").all_inner_texts() == [
        "La saisie de l'identifiant est obligatoire.",
        "La saisie du mot de passe est obligatoire.",
    ]
    assert ui.page.locator("#login").get_attribute("aria-invalid") == "true"
    assert "login-error" in ui.page.locator("#login").get_attribute("aria-describedby")
    if ui.javascript:
        assert ui.page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    summary.get_by_role("link", name="La saisie du mot de passe est obligatoire.").click()
    assert ui.page.url.endswith("#password")


def test_error_pages_of_the_other_forms(ui: Ui):
    ui.visit("/inscription")
    ui.fill("email", "a@example.org")
    ui.fill("email_confirm", "b@example.org")
    ui.submit("Créer mon compte")
    assert ui.page.title().startswith("Erreur : ")
    assert "Les deux adresses email doivent être identiques." in ui.text()
    assert ui.page.locator("#email").input_value() == "a@example.org"

    ui.visit("/identifiant-oublie")
    ui.submit("Valider")
    assert "La saisie de l'email est obligatoire et doit être une adresse email valide." in ui.text()

    ui.visit("/mot-de-passe-oublie")
    ui.submit("Valider")
    assert "La saisie de l'identifiant est obligatoire." in ui.text()

    ui.login("personne@example.org", "Mauvais-mot2!")
    assert ui.page.title().startswith("Erreur : ")
    assert "Identifiant ou mot de passe incorrect." in ui.text()

    response = ui.visit("/inscription/confirmer/jeton-invalide")
    assert response.status == 410 and "Lien invalide ou expiré" in ui.text()
    response = ui.visit("/page-qui-n-existe-pas")
    assert response.status == 404 and "Page introuvable" in ui.text()


def test_footer_pages(ui: Ui):
    ui.visit("/")
    for name in ("Mentions légales", "CGU", "Plan du site", "Accessibilité : non conforme",
                 "Cookies", "Données personnelles"):
        ui.follow(name)
        assert ui.page.locator("h1").count() == 1
    ui.submit("Display in English")
    assert ui.page.locator("html").get_attribute("lang") == "en"
    ui.submit("Afficher en français")
    assert ui.page.locator("html").get_attribute("lang") == "fr"


def test_keyboard_only_login_through_the_skip_link(ui: Ui):
    create_live_user(ui.live, "clavier@example.org")
    ui.visit("/connexion")
    keyboard = ui.page.keyboard
    keyboard.press("Tab")
    assert ui.page.evaluate("document.activeElement.className") == "skip-link"
    keyboard.press("Enter")
    assert ui.page.url.endswith("#contenu")
    assert ui.page.evaluate("document.activeElement.id") == "contenu"
    keyboard.press("Tab")
    assert ui.page.evaluate("document.activeElement.id") == "login"
    keyboard.type("clavier@example.org")
    keyboard.press("Tab")
    assert ui.page.evaluate("document.activeElement.id") == "password"
    keyboard.type(PASSWORD)
    with ui.page.expect_navigation():
        keyboard.press("Enter")
    ui.check()
    assert path_of(ui) == "/compte"


def test_password_rules_update_while_typing(ui_js: Ui):
    ui = ui_js
    create_live_user(ui.live, "regles@example.org")
    ui.login("regles@example.org")
    ui.follow("Modifier mon mot de passe")
    rules = ui.page.locator("#password-rules .password-rule")
    assert rules.count() >= 3 and ui.page.locator(".password-rule--ok").count() == 0
    ui.page.locator("#password").press_sequentially("abc", delay=20)
    ui.page.locator(".password-rule--ko").first.wait_for()
    ok_before = ui.page.locator(".password-rule--ok").count()
    ui.page.locator("#password").press_sequentially("DEF-gh!", delay=20)
    # expect() rather than wait_for_function: the portal's CSP forbids eval in the page.
    expect(ui.page.locator("#password-rules .password-rule--ko")).to_have_count(0)
    assert ui.page.locator(".password-rule--ok").count() == rules.count() > ok_before
    expect(ui.page.locator("#live-region")).to_contain_text("règles sur")
    # heard by screen readers, not shown as stray text above the title
    assert ui.page.locator("#live-region [data-live-text]").bounding_box()["width"] <= 1
    ui.check()


def test_inline_email_check_after_leaving_the_field(ui_js: Ui):
    ui = ui_js
    ui.visit("/inscription")
    ui.fill("email", "pas-une-adresse")
    ui.page.keyboard.press("Tab")
    error = ui.page.locator("#email-error")
    error.wait_for()
    message = "La saisie de l'email est obligatoire et doit être une adresse email valide."
    assert message in error.inner_text()
    assert ui.page.locator("#email").get_attribute("aria-invalid") == "true"
    expect(ui.page.locator("#live-region")).to_contain_text(message)
    ui.check()
    ui.fill("email", "bonne@example.org")
    ui.page.keyboard.press("Tab")
    error.wait_for(state="detached")
    ui.check()
