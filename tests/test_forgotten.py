"""Identifiant oublié and Mot de passe oublié: same answers, single-use one-hour links."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import db
from portal.accounts.models import Token
from tests.conftest import PASSWORD, deliver, emails_to, link_in, page, post_form, without_tokens

NEW = "Nouveau-secret7!"


def test_identifier_is_emailed_and_answer_is_the_same_for_unknown(app, client, mailbox, create_user):
    user = create_user(email="oubli@example.org")
    known = post_form(client, "/identifiant-oublie", {"email": "oubli@example.org"}, follow_redirects=True)
    unknown = post_form(app.test_client(), "/identifiant-oublie", {"email": "inconnu@example.org"},
                        follow_redirects=True)
    assert without_tokens(page(known)) == without_tokens(page(unknown))
    deliver(app)
    [message] = emails_to(mailbox, "oubli@example.org")
    assert user.identifier in message.get_body(("plain",)).get_content()
    assert emails_to(mailbox, "inconnu@example.org") == []


def test_identifier_form_errors(client):
    for value in ("", "pas-une-adresse"):
        response = post_form(client, "/identifiant-oublie", {"email": value})
        assert response.status_code == 422
        assert "La saisie de l'email est obligatoire et doit être une adresse email valide." in page(response)


def test_annuler_returns_where_the_person_came_from(client):
    text = page(client.get("/identifiant-oublie", headers={"Referer": "http://localhost/inscription"}))
    assert 'href="/inscription">Annuler' in text
    assert 'href="/connexion">Annuler' in page(client.get("/mot-de-passe-oublie"))
    foreign = page(client.get("/mot-de-passe-oublie?next=https://evil.example/x"))
    assert 'href="/connexion">Annuler' in foreign
    # After an error the page still knows where to go back to.
    response = post_form(client, "/identifiant-oublie?next=/inscription", {"email": ""})
    assert 'href="/inscription">Annuler' in page(response)


def test_password_reset_by_identifier_or_email(app, client, auth, mailbox, create_user):
    user = create_user(email="reset@example.org")
    for login in (user.identifier, "reset@example.org"):
        mailbox.clear()
        response = post_form(client, "/mot-de-passe-oublie", {"login": login}, follow_redirects=True)
        assert "Si cet identifiant correspond à un compte" in page(response)
        deliver(app)
        [message] = emails_to(mailbox, "reset@example.org")
        content = message.get_body(("plain",)).get_content()
        assert PASSWORD not in content and "une heure" in content
    link = link_in(message)
    response = post_form(client, link, {"password": NEW, "password_confirm": NEW})
    assert response.headers["Location"] == "/connexion"
    assert auth.login("reset@example.org", PASSWORD).status_code == 422
    assert auth.login("reset@example.org", NEW).status_code == 303


def test_reset_answer_is_the_same_for_unknown_identifiers(app, client, create_user):
    create_user(email="reset@example.org")
    known = post_form(client, "/mot-de-passe-oublie", {"login": "reset@example.org"}, follow_redirects=True)
    unknown = post_form(app.test_client(), "/mot-de-passe-oublie", {"login": "999999999999999"},
                        follow_redirects=True)
    assert without_tokens(page(known)) == without_tokens(page(unknown))


def test_empty_identifier_message(client):
    response = post_form(client, "/mot-de-passe-oublie", {"login": ""})
    assert "La saisie de l'identifiant est obligatoire." in page(response)


def test_reset_link_is_single_use_and_expires(app, client, mailbox, create_user):
    create_user(email="reset@example.org")
    post_form(client, "/mot-de-passe-oublie", {"login": "reset@example.org"})
    post_form(client, "/mot-de-passe-oublie", {"login": "reset@example.org"})
    deliver(app)
    first, second = (link_in(m) for m in emails_to(mailbox, "reset@example.org"))
    assert post_form(client, first, {"password": NEW, "password_confirm": NEW}).status_code == 303
    assert client.get(first).status_code == 410  # used
    assert client.get(second).status_code == 410  # void once the password changed
    post_form(client, "/mot-de-passe-oublie", {"login": "reset@example.org"})
    deliver(app)
    third = link_in(emails_to(mailbox, "reset@example.org")[-1])
    token = db.session.scalars(select(Token).order_by(Token.id.desc())).first()
    token.expires_at = token.created_at + timedelta(hours=1) - timedelta(hours=2)
    db.session.commit()
    assert client.get(third).status_code == 410


def test_reset_ends_every_session(app, client, auth, mailbox, create_user):
    create_user(email="reset@example.org")
    other_device = app.test_client()
    post_form(other_device, "/connexion", {"login": "reset@example.org", "password": PASSWORD})
    assert other_device.get("/compte").status_code == 200
    post_form(client, "/mot-de-passe-oublie", {"login": "reset@example.org"})
    deliver(app)
    link = link_in(emails_to(mailbox, "reset@example.org")[0])
    post_form(client, link, {"password": NEW, "password_confirm": NEW})
    assert other_device.get("/compte").status_code == 302
