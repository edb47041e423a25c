"""Mes notifications and Mes préférences in Chromium, JavaScript on and off, axe on every page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import db as database
from portal.db import utcnow
from tests.browser.conftest import (
    LiveServer,
    Ui,
    assert_accessible,
    assert_reflows,
    create_live_user,
)

pytestmark = pytest.mark.browser

EMAIL = "alertes@example.org"
# Oldest first; the inbox shows them the other way round.
NOTIFICATIONS = [
    ("status", "Votre demande RSA-2026-001 est en cours d'instruction", "Un agent étudie votre demande."),
    ("agent_message", "Un agent vous a écrit", "Merci de fournir un justificatif de domicile récent."),
    ("answer", "Une réponse est disponible pour RSA-2026-001", "Votre demande a été acceptée."),
]


def path_of(ui: Ui) -> str:
    return re.sub(r"^https?://[^/]+", "", ui.page.url)


def notify_all(live: LiveServer, email: str = EMAIL) -> None:
    """Through the service other packages call, then committed (an hour apart, oldest first)."""
    from portal.accounts.models import User
    from portal.notifications.services import notify

    with live.app.test_request_context():
        user = database.session.scalar(select(User).where(User.email == email))
        now = utcnow()
        for age, (kind, subject, message) in enumerate(reversed(NOTIFICATIONS)):
            notification = notify(user, kind, subject, message, link="/compte")
            notification.created_at = now - timedelta(hours=age)
        database.session.commit()


def header_link(ui: Ui):
    return ui.page.locator("#notification-badge a")


def inbox_subjects(ui: Ui) -> list[str]:
    return [re.sub(r"^Non lue\s+", "", s.strip())
            for s in ui.page.locator(".notification-list h2").all_inner_texts()]


def test_unread_count_inbox_reading_and_mark_all_read(ui: Ui):
    create_live_user(ui.live, EMAIL)
    notify_all(ui.live)
    ui.login(EMAIL)
    expect(ui.page.get_by_role("link", name="Mes notifications, 3 non lues", exact=True)).to_be_visible()

    ui.follow("Mes notifications, 3 non lues")
    assert path_of(ui) == "/notifications"
    expect(header_link(ui)).to_have_attribute("aria-current", "page")
    assert "Vous avez 3 notifications non lues." in ui.text()
    assert inbox_subjects(ui) == [subject for _kind, subject, _message in reversed(NOTIFICATIONS)]
    assert ui.page.locator(".notification--unread").count() == 3

    # Opening one marks it read; the count drops on the next page.
    newest = NOTIFICATIONS[-1][1]
    ui.follow(f"Non lue {newest}")
    assert ui.page.locator("h1").inner_text() == newest
    assert "Votre demande a été acceptée." in ui.text()
    ui.follow("Voir la page concernée")
    assert path_of(ui) == "/compte"
    expect(ui.page.get_by_role("link", name="Mes notifications, 2 non lues", exact=True)).to_be_visible()
    ui.follow("Mes notifications, 2 non lues")
    assert "Vous avez 2 notifications non lues." in ui.text()
    assert ui.page.locator(".notification--unread").count() == 2
    read = ui.page.locator(".notification", has_text=newest)
    expect(read).not_to_have_class(re.compile("notification--unread"))
    expect(read.get_by_role("link")).to_have_accessible_name(newest)

    ui.submit("Tout marquer comme lu")
    assert path_of(ui) == "/notifications"
    assert "Toutes vos notifications sont marquées comme lues." in ui.text()
    assert "Toutes vos notifications sont lues." in ui.text()
    assert ui.page.locator(".notification--unread").count() == 0
    expect(ui.page.get_by_role("button", name="Tout marquer comme lu")).to_have_count(0)
    expect(header_link(ui)).to_have_accessible_name("Mes notifications")
    expect(ui.page.locator("#notification-badge .badge")).to_have_count(0)


def test_an_empty_inbox_says_so(ui: Ui):
    create_live_user(ui.live, EMAIL)
    ui.login(EMAIL)
    ui.follow("Mes notifications")
    assert "Vous n'avez aucune notification." in ui.text()


def test_preferences_switch_a_kind_off_and_security_stays_on(ui: Ui):
    from portal.accounts.models import User
    from portal.notifications.services import email_wanted

    create_live_user(ui.live, EMAIL)
    ui.login(EMAIL)
    ui.visit("/notifications")
    ui.follow("Choisir les notifications reçues aussi par email")
    assert path_of(ui) == "/compte/preferences"
    agent = ui.page.get_by_label("Message d'un agent", exact=True)
    security = ui.page.get_by_label("Sécurité du compte", exact=True)
    expect(agent).to_be_checked()
    expect(security).to_be_checked()
    expect(security).to_be_disabled()
    expect(security).to_have_accessible_description(re.compile("toujours envoyés"))

    agent.uncheck()
    ui.submit("Enregistrer mes préférences")
    assert path_of(ui) == "/compte/preferences"
    assert "Vos préférences ont été enregistrées." in ui.text()
    expect(ui.page.get_by_label("Message d'un agent", exact=True)).not_to_be_checked()
    expect(ui.page.get_by_label("Changement de statut d'une demande", exact=True)).to_be_checked()
    expect(ui.page.get_by_label("Sécurité du compte", exact=True)).to_be_checked()
    expect(ui.page.get_by_label("Sécurité du compte", exact=True)).to_be_disabled()
    with ui.live.app.app_context():
        user = database.session.scalar(select(User).where(User.email == EMAIL))
        assert email_wanted(user, "agent_message") is False
        assert email_wanted(user, "status") is True
        assert email_wanted(user, "security") is True
        database.session.rollback()


def test_inbox_and_preferences_reflow_at_320_px(narrow_ui: Ui):
    ui = narrow_ui
    create_live_user(ui.live, "etroit.notifications.adresse.longue@example.org")
    notify_all(ui.live, "etroit.notifications.adresse.longue@example.org")
    ui.login("etroit.notifications.adresse.longue@example.org")
    for path in ("/notifications", "/compte/preferences"):
        ui.visit(path)
        assert_reflows(ui.page)
    ui.visit("/notifications")
    ui.follow(f"Non lue {NOTIFICATIONS[0][1]}")
    assert_reflows(ui.page)


def test_the_header_badge_refreshes_and_announces_new_notifications(ui_js: Ui):
    """With JavaScript, htmx asks for the count every minute (the page's clock is driven)."""
    ui = ui_js
    create_live_user(ui.live, EMAIL)
    ui.login(EMAIL)
    ui.page.clock.install()
    ui.visit("/compte")
    expect(header_link(ui)).to_have_accessible_name("Mes notifications")
    notify_all(ui.live)
    with ui.page.expect_response(re.compile(r"/notifications/compteur\?affiche=0")):
        ui.page.clock.run_for(61_000)
    expect(header_link(ui)).to_have_accessible_name("Mes notifications, 3 non lues")
    ui.page.clock.run_for(1_000)  # the live region is filled a moment after the swap
    expect(ui.page.locator("#live-region [data-live-text]")).to_have_text(
        "Vous avez reçu 3 nouvelles notifications.")
    assert path_of(ui) == "/compte"
    assert_accessible(ui.page)
