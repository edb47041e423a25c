"""What only exists with JavaScript on a démarche: autosave and its announcements, conditional
fields shown without moving the focus, saves retried after a network cut, answers sent when the
tab closes, two tabs on one draft, a session that expires while typing, the live catalogue search.
No answer may be lost in any of these cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from portal import db as database
from tests.browser.conftest import PASSWORD, Ui
from tests.browser.demarches_ui import EMAIL, draft_id, sign_in, start, stored_answers

pytestmark = pytest.mark.browser

SAVED = "Brouillon enregistré à"
TIMEOUT = 15_000  # a retry after a network cut waits 5 s


def _identity_step(ui: Ui) -> tuple[str, int]:
    sign_in(ui)
    draft = start(ui, "cmi")
    ui.visit(draft + "/etapes/identite")
    return draft, draft_id(draft)


def _status(ui: Ui, page=None):
    return (page or ui.page).locator("#save-status")


def test_autosave_is_announced_and_survives_a_reload(ui_js: Ui):
    ui = ui_js
    draft, dossier = _identity_step(ui)
    status = _status(ui)
    live = ui.page.locator("#live-region")  # the page's one live region; the status is only shown
    assert live.get_attribute("role") == "status" and status.get_attribute("aria-live") is None
    ui.page.locator("#f-nom").fill("Durand")
    expect(status).to_contain_text(SAVED, timeout=TIMEOUT)
    expect(live).to_contain_text(SAVED)
    assert ui.page.evaluate("document.activeElement.id") == "f-nom"
    assert stored_answers(ui, dossier)["nom"] == "Durand"
    ui.page.reload()
    ui.check()
    expect(ui.page.locator("#f-nom")).to_have_value("Durand")
    ui.page.locator("#f-nom").fill("Dupont")
    expect(live).to_contain_text(SAVED, timeout=TIMEOUT)
    # Saved again: the same state is not announced again.
    ui.page.evaluate("document.querySelector('#live-region [data-live-text]').textContent = ''")
    ui.page.locator("#f-lieu_naissance").fill("Lens")
    for _ in range(50):
        if stored_answers(ui, dossier)["lieu_naissance"] == "Lens":
            break
        ui.page.wait_for_timeout(200)
    ui.page.wait_for_timeout(500)
    assert stored_answers(ui, dossier)["lieu_naissance"] == "Lens"
    assert live.inner_text().strip() == ""


def test_a_conditional_field_appears_announced_and_the_focus_stays(ui_js: Ui):
    ui = ui_js
    sign_in(ui)
    draft = start(ui, "cmi")
    ui.visit(draft + "/etapes/residence")
    permit = ui.page.locator("#f-titre_sejour_numero")
    assert permit.count() == 0
    other = ui.page.locator("#f-nationalite-2")
    other.focus()
    ui.page.keyboard.press("Space")
    permit.wait_for()
    expect(_status(ui)).to_contain_text("Nouvelle question affichée : « Numéro de votre titre de séjour »")
    assert ui.page.evaluate("document.activeElement.id") == "f-nationalite-2"
    assert_accessible_now(ui)
    ui.page.locator("#f-nationalite").check()  # back to « Française »: the question goes away
    permit.wait_for(state="detached")
    expect(_status(ui)).to_contain_text("Question retirée : « Numéro de votre titre de séjour »")
    assert ui.page.evaluate("document.activeElement.id") == "f-nationalite"


def assert_accessible_now(ui: Ui) -> None:
    from tests.browser.conftest import assert_accessible

    assert_accessible(ui.page)


def test_an_offline_save_is_retried_when_back_online(ui_js: Ui):
    ui = ui_js
    draft, dossier = _identity_step(ui)
    ui.page.context.set_offline(True)
    ui.page.locator("#f-lieu_naissance").fill("Lens")
    status = _status(ui)
    expect(status).to_contain_text("Échec de l'enregistrement du brouillon", timeout=TIMEOUT)
    expect(status).to_contain_text("Vos réponses sont gardées sur cet appareil")
    live = ui.page.locator("#live-region")
    expect(live).to_contain_text("Échec de l'enregistrement du brouillon")
    assert "La vérification n'a pas pu être faite" not in live.inner_text()  # one region speaks
    assert_accessible_now(ui)
    assert stored_answers(ui, dossier)["lieu_naissance"] == "Arras"
    # The next retry (after 5 s) fails again, silently.
    ui.page.evaluate("document.querySelector('#live-region [data-live-text]').textContent = ''")
    ui.page.wait_for_timeout(6_000)
    assert live.inner_text().strip() == ""
    ui.page.context.set_offline(False)
    expect(status).to_contain_text(SAVED, timeout=TIMEOUT)
    expect(live).to_contain_text("La connexion est rétablie.")
    assert stored_answers(ui, dossier)["lieu_naissance"] == "Lens"


def test_a_lost_session_cookie_says_the_session_ended_and_stops_retrying(ui_js: Ui):
    ui = ui_js
    draft, dossier = _identity_step(ui)
    ui.page.context.clear_cookies()  # the server now answers « formulaire expiré »
    saves: list[str] = []
    ui.page.on("request", lambda r: "/enregistrer" in r.url and saves.append(r.url))
    ui.page.locator("#f-lieu_naissance").fill("Lens")
    status = _status(ui)
    expect(status).to_contain_text("Votre session a pris fin.", timeout=TIMEOUT)
    expect(ui.page.locator("#live-region")).to_contain_text("Votre session a pris fin.")
    assert "connexion" not in status.inner_text()
    tried = len(saves)
    ui.page.wait_for_timeout(6_000)
    assert len(saves) == tried  # no retry that cannot succeed
    assert_accessible_now(ui)
    with ui.page.expect_navigation():
        status.get_by_role("link", name="Rechargez la page").click()
    ui.check()
    ui.fill("login", EMAIL)
    ui.fill("password", PASSWORD)
    loads: list[str] = []
    with ui.page.expect_event("load", predicate=lambda page: loads.append(page.url) or len(loads) == 2,
                              timeout=TIMEOUT):
        ui.page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(ui.page.locator("#f-lieu_naissance")).to_have_value("Lens")
    assert stored_answers(ui, dossier)["lieu_naissance"] == "Lens"


def test_typing_then_closing_the_tab_keeps_the_answer(ui_js: Ui):
    ui = ui_js
    draft, dossier = _identity_step(ui)
    tab = ui.page.context.new_page()
    tab.goto(draft + "/etapes/identite")
    tab.locator("#f-prenom").fill("Zoé")  # closed before the autosave delay has passed
    tab.close(run_before_unload=True)
    ui.page.reload()
    # sent as the tab closed, or else from this browser's copy as the step is opened again
    # (no axe run here: the page may reload itself once this browser's copy is saved)
    expect(ui.page.locator("#f-prenom")).to_have_value("Zoé", timeout=TIMEOUT)
    assert stored_answers(ui, dossier)["prenom"] == "Zoé"


def test_two_tabs_on_one_draft_show_the_conflict_and_lose_nothing(ui_js: Ui):
    ui = ui_js
    draft, dossier = _identity_step(ui)
    first = ui.page
    second = first.context.new_page()
    second.goto(draft + "/etapes/identite")
    second.locator("#f-nom").fill("DepuisB")
    expect(_status(ui, second)).to_contain_text(SAVED, timeout=TIMEOUT)
    first.locator("#f-lieu_naissance").fill("Béthune")
    first.locator("#f-nom").fill("DepuisA")
    status = _status(ui)
    expect(status).to_contain_text("Réponse non enregistrée : elle a été modifiée dans un autre onglet",
                                    timeout=TIMEOUT)
    expect(status).to_contain_text("enregistré ailleurs : DepuisB ; votre saisie : DepuisA")
    assert_accessible_now(ui)
    stored = stored_answers(ui, dossier)
    assert stored["nom"] == "DepuisB" and stored["lieu_naissance"] == "Béthune"  # no silent overwrite
    expect(first.get_by_role("link", name="recharger la page avec la réponse enregistrée ailleurs")).to_be_visible()
    first.get_by_role("button", name="Garder ma saisie").click()
    expect(status).to_contain_text(SAVED, timeout=TIMEOUT)
    # The button is gone: the focus is on what replaced it, not on <body>.
    first.wait_for_function("() => document.activeElement.getAttribute('data-save-state') === 'saved'")
    assert stored_answers(ui, dossier)["nom"] == "DepuisA"
    second.reload()
    expect(second.locator("#f-nom")).to_have_value("DepuisA")
    expect(second.locator("#f-lieu_naissance")).to_have_value("Béthune")


def test_session_expired_while_typing_then_every_answer_is_in_the_draft(ui_js: Ui):
    from portal.accounts.models import AuthSession

    ui = ui_js
    draft, dossier = _identity_step(ui)
    ui.page.locator("#f-nom").fill("Durand")
    expect(_status(ui)).to_contain_text(SAVED, timeout=TIMEOUT)
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    with ui.live.app.app_context():
        database.session.execute(update(AuthSession).values(last_seen_at=long_ago, created_at=long_ago))
        database.session.commit()
    ui.page.locator("#f-lieu_naissance").fill("Lens")
    ui.page.locator("#f-telephone").fill("07 98 76 54 32")
    status = _status(ui)
    expect(status).to_contain_text("Votre session a expiré.", timeout=TIMEOUT)
    expect(status).to_contain_text("Vos réponses sont conservées")
    assert_accessible_now(ui)
    with ui.page.expect_navigation():
        status.get_by_role("link", name="Se reconnecter").click()
    ui.check()
    ui.fill("login", EMAIL)
    ui.fill("password", PASSWORD)
    # Back on the step, the answers this browser kept are posted again, then the page reloads.
    loads: list[str] = []

    def second_load(page) -> bool:
        loads.append(page.url)
        return len(loads) == 2

    with ui.page.expect_event("load", predicate=second_load, timeout=TIMEOUT):
        ui.page.get_by_role("button", name="Se connecter", exact=True).click()
    ui.check()
    assert "/etapes/identite" in ui.page.url, ui.page.url
    expect(ui.page.locator("#f-lieu_naissance")).to_have_value("Lens")
    expect(ui.page.locator("#f-telephone")).to_have_value("07 98 76 54 32")
    expect(ui.page.locator("#f-nom")).to_have_value("Durand")
    stored = stored_answers(ui, dossier)
    assert stored["nom"] == "Durand" and stored["lieu_naissance"] == "Lens"
    assert stored["telephone"].replace(" ", "") == "0798765432"


def test_the_catalogue_narrows_as_you_type(ui_js: Ui):
    ui = ui_js
    ui.visit("/demarches")
    cards = ui.page.locator("#catalogue-results h2")
    total = cards.count()
    assert total >= 4
    address = ui.page.url
    ui.page.locator("#q").press_sequentially("recours", delay=30)
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Recours administratif préalable obligatoire")
    assert ui.page.url.split("?")[0] == address.split("?")[0]
    expect(ui.page.locator("#catalogue-results")).to_contain_text("1 démarche trouvée")
    assert_accessible_now(ui)
    ui.page.locator("#q").fill("")
    ui.page.locator("#q").press_sequentially("dupli", delay=30)
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Duplicata")


def test_a_step_that_disappears_updates_the_position_and_is_announced(ui_js: Ui):
    ui = ui_js
    sign_in(ui)
    draft = start(ui, "cmi")
    ui.visit(draft + "/etapes/situation")
    progress, following = ui.page.locator("#step-progress"), ui.page.locator("#step-next")
    expect(progress).to_have_text("Étape 4 sur 7")
    expect(following).to_contain_text("Votre handicap")
    ui.page.locator("#f-filiere").check()
    ui.page.locator("#f-gir").wait_for()
    ui.page.locator("#f-gir").select_option("1")
    expect(progress).to_have_text("Étape 4 sur 6", timeout=TIMEOUT)
    expect(following).to_contain_text("Vos justificatifs")
    expect(ui.page.locator("#step-list")).not_to_contain_text("Votre handicap")
    expect(ui.page.locator("#live-region")).to_contain_text("Étape retirée : « Votre handicap »")
    assert_accessible_now(ui)


def test_the_badge_refresh_keeps_the_focus(ui_js: Ui):
    ui = ui_js
    sign_in(ui)
    ui.visit("/mes-demarches")
    link = ui.page.locator("#notification-link")
    link.focus()
    with ui.page.expect_response(lambda r: "/notifications/compteur" in r.url):
        ui.page.evaluate("""() => { const badge = document.getElementById('notification-badge');
                                   htmx.ajax('GET', badge.getAttribute('data-hx-get'),
                                             {source: badge, target: badge, swap: 'outerHTML'}); }""")
    ui.page.wait_for_timeout(300)
    assert ui.page.evaluate("document.activeElement.id") == "notification-link"
