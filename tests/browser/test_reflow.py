"""Reflow (WCAG 1.4.10): at 320 CSS pixels no page scrolls horizontally."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Ui, assert_reflows, create_live_user

pytestmark = pytest.mark.browser

PUBLIC_PAGES = ["/", "/connexion", "/inscription", "/identifiant-oublie", "/mot-de-passe-oublie",
                "/mentions-legales", "/cgu", "/plan-du-site", "/accessibilite", "/cookies",
                "/donnees-personnelles", "/inscription/envoyee", "/inscription/confirmer/perime",
                "/page-inexistante"]
ACCOUNT_PAGES = ["/compte", "/compte/informations", "/compte/mot-de-passe", "/compte/email",
                 "/compte/supprimer"]


def test_every_page_reflows_at_320_px(narrow_ui: Ui):
    ui = narrow_ui
    for path in PUBLIC_PAGES:
        ui.visit(path)
        assert_reflows(ui.page)
    ui.visit("/connexion")
    ui.submit("Se connecter")  # the error summary and inline errors too
    assert_reflows(ui.page)

    create_live_user(ui.live, "etroit.avec.une.adresse.tres.longue@example.org",
                     nom="Durand-de-la-Longue-Famille")
    ui.login("etroit.avec.une.adresse.tres.longue@example.org")
    for path in ACCOUNT_PAGES:
        ui.visit(path)
        assert_reflows(ui.page)
    ui.submit("Supprimer définitivement mon compte")  # the page with its errors
    assert ui.page.title().startswith("Erreur : ")
    assert_reflows(ui.page)


def test_at_400_percent_zoom_the_header_leaves_room_for_the_page(browser, live_server, mailbox):
    """1280 × 1024 at 400 % is 320 × 256 CSS pixels: the signed-in header (every menu link)
    takes less than half of that first screen."""
    from tests.browser.conftest import _ui

    for ui in _ui(browser, live_server, mailbox, True, viewport={"width": 320, "height": 256}):
        create_live_user(ui.live, "zoom@example.org")
        ui.login("zoom@example.org")
        ui.visit("/mes-demarches")
        height = ui.page.locator("header").bounding_box()["height"]
        assert height < 128, f"l'en-tête occupe {height} px sur 256"
        assert_reflows(ui.page)
