"""Mes notifications and Mes préférences: inbox, unread badge, emails per preference,
security always emailed, per-account access."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import db as database
from portal.mail.models import OutboxEmail
from portal.notifications import services
from portal.notifications.models import Notification, NotificationPreference
from tests.conftest import PASSWORD, body, deliver, emails_to, link_in, post_form
from tests.conftest import page as page_of

EMAIL = "camille@example.org"
SWITCHABLE = ("status", "agent_message", "answer", "draft_reminder", "appointment")
HTMX = {"HX-Request": "true", "HX-Target": "notification-badge",
        "HX-Current-URL": "http://localhost/compte"}


@pytest.fixture
def camille(create_user, auth):
    user = create_user(email=EMAIL, prenom="Camille")
    auth.login(EMAIL, PASSWORD)
    return user


def notify(app, user, kind="status", subject="Votre demande RSA-2026-001 est acceptée",
           message="Votre demande de RSA a été acceptée : montant 607,75 €.", link=None):
    with app.test_request_context():
        notification = services.notify(user, kind, subject, message, link)
        database.session.commit()
        return notification.id


def rows(app, model, **filters):
    with app.app_context():
        query = select(model)
        for name, value in filters.items():
            query = query.where(getattr(model, name) == value)
        found = database.session.scalars(query).all()
        database.session.expunge_all()
        return found


def visible_text(html: str) -> str:
    """Text as a screen reader gets it (tags removed, spaces collapsed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


# --- notify and emails ------------------------------------------------------------------


def test_notify_fills_the_inbox_and_emails_a_link_not_the_content(app, client, mailbox, camille):
    notification_id = notify(app, camille, link="/compte")
    deliver(app)
    (message,) = emails_to(mailbox, EMAIL)
    assert message["Subject"].endswith("Le statut de l'une de vos demandes a changé")
    text = body(message) + message.get_body(preferencelist=("html",)).get_content()
    assert "RSA" not in text and "607,75" not in text and "acceptée" not in text
    assert link_in(message) == f"/notifications/{notification_id}"
    assert "Mes préférences" in body(message)
    # The link works once logged in and shows the full message.
    page = page_of(client.get(link_in(message)))
    assert "<h1>Votre demande RSA-2026-001 est acceptée</h1>" in page
    assert "montant 607,75 €" in page and 'href="/compte"' in page


def test_email_link_asks_to_log_in_first(app, client, mailbox, create_user):
    user = create_user(email=EMAIL)
    notification_id = notify(app, user)
    response = client.get(f"/notifications/{notification_id}")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


@pytest.mark.parametrize("kind", SWITCHABLE)
def test_each_preference_is_respected(app, client, mailbox, camille, kind):
    data = {k: "y" for k in SWITCHABLE if k != kind}
    assert post_form(client, "/compte/preferences", data).status_code == 303
    notify(app, camille, kind=kind)
    deliver(app)
    assert emails_to(mailbox, EMAIL) == []  # switched off: inbox only
    assert len(rows(app, Notification, kind=kind)) == 1
    other = next(k for k in SWITCHABLE if k != kind)
    notify(app, camille, kind=other)
    deliver(app)
    assert len(emails_to(mailbox, EMAIL)) == 1  # the others still come


def test_emails_are_on_by_default_for_every_kind(app, mailbox, create_user):
    user = create_user(email=EMAIL)
    for kind in services.KINDS:
        notify(app, user, kind=kind)
    deliver(app)
    assert len(emails_to(mailbox, EMAIL)) == len(services.KINDS)


def test_security_email_cannot_be_switched_off(app, client, mailbox, camille):
    # Everything unticked, and a forged "security" field in the post.
    assert post_form(client, "/compte/preferences", {"security": ""}).status_code == 303
    assert rows(app, NotificationPreference, kind="security") == []
    # Even a row written behind the form's back does not stop it.
    with app.app_context():
        database.session.add(NotificationPreference(user_id=camille.id, kind="security", email_enabled=False))
        database.session.commit()
        assert services.preferences_of(camille)["security"] is True
    notify(app, camille, kind="security", subject="Connexion inhabituelle", message="…")
    notify(app, camille, kind="status")
    deliver(app)
    (message,) = emails_to(mailbox, EMAIL)
    assert "Information sur la sécurité de votre compte" in message["Subject"]
    assert "Mes préférences" not in body(message)  # nothing to switch off


def test_notify_from_the_worker_outside_a_request(app, mailbox, create_user):
    user = create_user(email=EMAIL)
    with app.app_context():
        services.notify(user, "draft_reminder", "Votre brouillon expire bientôt", "…")
        database.session.commit()
    assert len(rows(app, Notification)) == 1
    (email,) = rows(app, OutboxEmail)
    assert "http://localhost/notifications/" in email.body_text


def test_notify_refuses_unknown_kinds_and_outside_links(app, create_user):
    user = create_user(email=EMAIL)
    with app.test_request_context():
        with pytest.raises(ValueError):
            services.notify(user, "publicite", "x", "y")
        for link in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
            with pytest.raises(ValueError):
                services.notify(user, "status", "x", "y", link=link)


# --- preferences page -------------------------------------------------------------------


def test_preferences_page_shows_one_checkbox_per_kind(client, camille):
    page = page_of(client.get("/compte/preferences"))
    assert "<h1>Mes préférences</h1>" in page
    assert '<legend class="legend">Recevoir aussi un email pour :</legend>' in page
    for kind in SWITCHABLE:
        assert re.search(rf'<input checked class="checkbox__input" id="{kind}" name="{kind}" type="checkbox"', page)
        assert f'<label class="checkbox__label" for="{kind}">' in page
    security = re.search(r'<input[^>]*id="preference-security"[^>]*>', page).group(0)
    assert "checked" in security and "disabled" in security and "name=" not in security
    assert "sont toujours envoyés : ils ne peuvent pas être désactivés" in page


def test_preferences_are_saved_and_shown_again(app, client, camille):
    response = post_form(client, "/compte/preferences", {"status": "y", "answer": "y"})
    assert response.status_code == 303 and response.headers["Location"] == "/compte/preferences"
    page = page_of(client.get("/compte/preferences"))
    assert "Vos préférences ont été enregistrées." in page
    with app.app_context():
        assert services.preferences_of(camille) == {
            "status": True, "agent_message": False, "answer": True, "draft_reminder": False,
            "appointment": False, "document": False, "security": True}
    assert re.search(r'<input class="checkbox__input" id="agent_message"', page)
    assert re.search(r'<input checked class="checkbox__input" id="answer"', page)


# --- inbox ------------------------------------------------------------------------------


def _age(app, notification_id, minutes):
    with app.app_context():
        n = database.session.get(Notification, notification_id)
        n.created_at = n.created_at - timedelta(minutes=minutes)
        database.session.commit()


def test_inbox_newest_first_with_unread_marked(app, client, camille):
    old = notify(app, camille, subject="Ancienne notification")
    new = notify(app, camille, kind="agent_message", subject="Nouveau message")
    _age(app, old, 60)
    page = page_of(client.get("/notifications"))
    assert "<h1>Mes notifications</h1>" in page
    assert page.index("Nouveau message") < page.index("Ancienne notification")
    assert page.count("Non lue</span>") == 2
    assert "Vous avez 2 notifications non lues." in page
    assert "Message d'un agent" in page
    client.get(f"/notifications/{new}")
    page = page_of(client.get("/notifications"))
    assert page.count("Non lue</span>") == 1 and "Vous avez 1 notification non lue." in page
    assert rows(app, Notification, id=new)[0].read_at is not None
    assert rows(app, Notification, id=old)[0].read_at is None


def test_mark_all_read(app, client, camille):
    for i in range(3):
        notify(app, camille, subject=f"Notification {i}")
    page = page_of(client.get("/notifications"))
    assert "Tout marquer comme lu" in page
    response = post_form(client, "/notifications/tout-marquer-comme-lu", {})
    assert response.status_code == 303 and response.headers["Location"] == "/notifications"
    page = page_of(client.get("/notifications"))
    assert "Toutes vos notifications sont marquées comme lues." in page
    assert "Toutes vos notifications sont lues." in page and "Tout marquer comme lu" not in page
    assert all(n.read_at for n in rows(app, Notification))


def test_mark_all_read_needs_post_with_csrf(client, camille):
    assert client.get("/notifications/tout-marquer-comme-lu").status_code == 405
    assert client.post("/notifications/tout-marquer-comme-lu").status_code == 400


def test_inbox_is_paginated(app, client, camille):
    with app.test_request_context():
        for i in range(services.PAGE_SIZE + 3):
            n = services.add_to_inbox(camille, "status", f"Sujet numéro {i:02d}", "…")
            n.created_at = n.created_at + timedelta(seconds=i)
        database.session.commit()
    first = page_of(client.get("/notifications"))
    assert "Sujet numéro 22" in first and "Sujet numéro 03" in first and "Sujet numéro 02" not in first
    assert "Page 1 sur 2" in first and 'href="/notifications?page=2"' in first
    assert '<nav class="pagination" aria-label="Pagination">' in first
    second = page_of(client.get("/notifications?page=2"))
    assert "Sujet numéro 02" in second and "Sujet numéro 00" in second and "Sujet numéro 03" not in second
    assert 'href="/notifications?page=1"' in second
    assert "Page 2 sur 2" in page_of(client.get("/notifications?page=99"))
    assert "Page 1 sur 2" in page_of(client.get("/notifications?page=abc"))


def test_empty_inbox(client, camille):
    page = page_of(client.get("/notifications"))
    assert "Vous n'avez aucune notification." in page and "Tout marquer comme lu" not in page


# --- unread badge -----------------------------------------------------------------------


def test_header_shows_unread_count_accessibly_on_every_page(app, client, camille):
    assert "Mes notifications" in visible_text(page_of(client.get("/compte")))
    assert "non lue" not in visible_text(page_of(client.get("/compte")))
    first = notify(app, camille)
    assert "Mes notifications, 1 non lue" in visible_text(page_of(client.get("/compte")))
    for _ in range(2):
        notify(app, camille)
    for url in ("/compte", "/relations", "/cgu", "/"):
        assert "Mes notifications, 3 non lues" in visible_text(page_of(client.get(url))), url
    # Opening one: the page that opened it already counts it as read.
    assert "Mes notifications, 2 non lues" in visible_text(page_of(client.get(f"/notifications/{first}")))


def test_badge_has_htmx_polling_and_fragment_endpoint(app, client, camille):
    page = page_of(client.get("/compte"))
    assert re.search(r'<li id="notification-badge" data-background data-hx-get="/notifications/compteur" '
                     r'data-hx-trigger="every 60s" data-hx-swap="outerHTML" data-hx-vals=\'{"affiche": 0}\'>', page)
    notify(app, camille)
    notify(app, camille)
    fragment = client.get("/notifications/compteur", headers=HTMX)
    assert fragment.status_code == 200
    html = page_of(fragment)
    assert html.lstrip().startswith('<li id="notification-badge"') and "<html" not in html
    assert "Mes notifications, 2 non lues" in visible_text(html)
    assert "aria-current" not in html
    on_inbox = page_of(client.get("/notifications/compteur",
                                  headers={**HTMX, "HX-Current-URL": "http://localhost/notifications"}))
    assert 'aria-current="page"' in on_inbox
    assert "data-announce" not in html  # no count was sent: nothing to compare with


def test_badge_refresh_announces_new_notifications(app, client, camille):
    notify(app, camille)
    unchanged = page_of(client.get("/notifications/compteur?affiche=1", headers=HTMX))
    assert "data-announce" not in unchanged
    notify(app, camille)
    notify(app, camille)
    fragment = page_of(client.get("/notifications/compteur?affiche=1", headers=HTMX))
    assert re.search(r'data-announce>Vous avez reçu 2 nouvelles notifications.<', fragment)
    assert """data-hx-vals='{"affiche": 3}'""" in fragment


def test_badge_without_htmx_goes_to_the_inbox(client, camille):
    response = client.get("/notifications/compteur")
    assert response.status_code == 303 and response.headers["Location"] == "/notifications"


def test_badge_stops_polling_when_logged_out(client):
    assert client.get("/notifications/compteur", headers=HTMX).status_code == 286
    response = client.get("/notifications/compteur")
    assert response.status_code == 303 and "/connexion" in response.headers["Location"]


def test_logged_out_header_has_no_notifications(client):
    assert "Mes notifications" not in page_of(client.get("/"))


# --- access -----------------------------------------------------------------------------


def test_another_account_gets_404_and_sees_nothing(app, client, create_user, auth, mailbox):
    owner = create_user(email="owner@example.org")
    secret = notify(app, owner, subject="Votre dossier médical")
    create_user(email=EMAIL)
    auth.login(EMAIL, PASSWORD)
    assert client.get(f"/notifications/{secret}").status_code == 404
    assert client.get("/notifications/999999").status_code == 404
    assert "Votre dossier médical" not in page_of(client.get("/notifications"))
    post_form(client, "/notifications/tout-marquer-comme-lu", {})
    assert rows(app, Notification, id=secret)[0].read_at is None  # still unread for its owner
    assert "non lue" not in visible_text(page_of(client.get("/compte")))


@pytest.mark.parametrize("url", ["/notifications", "/notifications/1", "/compte/preferences"])
def test_pages_require_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_account_deletion_deletes_notifications_and_preferences(app, client, camille):
    notify(app, camille)
    post_form(client, "/compte/preferences", {})
    post_form(client, "/compte/supprimer", {"current_password": PASSWORD})
    assert rows(app, Notification) == [] and rows(app, NotificationPreference) == []


def test_account_page_links(client, camille):
    page = page_of(client.get("/compte"))
    for href in ('href="/relations"', 'href="/notifications"', 'href="/compte/preferences"'):
        assert href in page


# --- account security events reach the inbox --------------------------------------------


def test_password_change_adds_a_security_notification_and_one_email(app, client, mailbox, camille):
    new_password = "Autre-cheval-42!"
    response = post_form(client, "/compte/mot-de-passe", {"current_password": PASSWORD,
                                                         "password": new_password,
                                                         "password_confirm": new_password})
    assert response.status_code == 303
    (notification,) = rows(app, Notification)
    assert notification.kind == "security" and notification.subject == "Votre mot de passe a été modifié"
    deliver(app)
    assert len(emails_to(mailbox, EMAIL)) == 1  # accounts' own email, not a second one
    assert "Mes notifications, 1 non lue" in visible_text(page_of(client.get("/compte")))


def test_password_reset_adds_a_security_notification(app, client, mailbox, create_user):
    create_user(email=EMAIL)
    post_form(client, "/mot-de-passe-oublie", {"login": EMAIL})
    deliver(app)
    reset_link = link_in(emails_to(mailbox, EMAIL)[0])
    new_password = "Autre-cheval-42!"
    response = post_form(client, reset_link, {"password": new_password, "password_confirm": new_password})
    assert response.status_code == 303
    (notification,) = rows(app, Notification)
    assert notification.kind == "security"


def test_email_change_adds_a_security_notification(app, client, mailbox, camille):
    post_form(client, "/compte/email", {"email": "nouvelle@example.org",
                                        "email_confirm": "nouvelle@example.org",
                                        "current_password": PASSWORD})
    deliver(app)
    confirm_link = link_in(emails_to(mailbox, "nouvelle@example.org")[0])
    assert post_form(client, confirm_link, {}).status_code == 303
    (notification,) = rows(app, Notification)
    assert notification.kind == "security" and "nouvelle@example.org" in notification.message


def test_first_connection_page_has_no_polling_badge(app, client, auth):
    from portal.accounts.services import provision_account

    with app.app_context():
        account = provision_account("Durand", "Alex", "alex@example.org", "Mairie")
        database.session.commit()
        temporary = account.temporary_password
    response = auth.login("alex@example.org", temporary)
    assert response.status_code == 303 and response.headers["Location"] == "/premiere-connexion"
    page = page_of(client.get("/premiere-connexion"))
    assert "notification-badge" not in page and 'href="/relations"' not in page
