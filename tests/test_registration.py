"""Créer mon compte: email twice, a 48-hour single-use link, choose a password, logged in."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import func, select

from portal import db
from portal.accounts.models import Token, User
from tests.conftest import PASSWORD, deliver, emails_to, link_in, post_form, without_tokens

SENT = "Vous allez recevoir un email vous indiquant la marche à suivre pour finaliser la création de votre compte."


def register(client, email, confirm=None):
    return post_form(client, "/inscription", {"email": email, "email_confirm": confirm or email},
                     follow_redirects=True)


def test_register_confirm_and_land_logged_in(app, client, mailbox):
    page = register(client, "Nouvelle@Example.org").get_data(as_text=True)
    assert SENT in html.unescape(page)
    deliver(app)
    [message] = emails_to(mailbox, "nouvelle@example.org")
    assert "48 heures" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)) is not None
    link = link_in(message)
    form = client.get(link).get_data(as_text=True)
    assert "Nouveau mot de passe" in form and "Confirmer votre mot de passe" in form
    response = post_form(client, link, {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"].endswith("/compte")
    account = client.get("/compte").get_data(as_text=True)
    assert "nouvelle@example.org" in account
    user = db.session.scalar(select(User).where(User.email == "nouvelle@example.org"))
    assert len(user.identifier) == 15 and user.identifier.isdigit()
    assert user.password_hash.startswith("$argon2id$")


def test_link_is_single_use(app, client, mailbox):
    register(client, "once@example.org")
    deliver(app)
    link = link_in(emails_to(mailbox, "once@example.org")[0])
    post_form(client, link, {"password": PASSWORD, "password_confirm": PASSWORD})
    other = app.test_client()
    response = other.get(link)
    assert response.status_code == 410
    assert "plus valable" in response.get_data(as_text=True)


def test_link_expires_after_48_hours(app, client, mailbox):
    register(client, "late@example.org")
    deliver(app)
    link = link_in(emails_to(mailbox, "late@example.org")[0])
    token = db.session.scalar(select(Token).where(Token.email == "late@example.org"))
    token.expires_at = token.created_at + timedelta(hours=48) - timedelta(hours=49)
    db.session.commit()
    assert client.get(link).status_code == 410
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_existing_address_gets_same_page_and_a_different_email(app, client, mailbox, create_user):
    create_user(email="deja@example.org")
    known = register(client, "deja@example.org")
    unknown = register(app.test_client(), "jamais@example.org")
    assert known.status_code == unknown.status_code == 200
    assert without_tokens(known.get_data(as_text=True)) == without_tokens(unknown.get_data(as_text=True))
    deliver(app)
    [message] = emails_to(mailbox, "deja@example.org")
    assert "déjà un compte" in message["Subject"]
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_mismatched_or_invalid_emails_are_reported_in_french(client):
    response = post_form(client, "/inscription", {"email": "a@example.org", "email_confirm": "b@example.org"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<title>Erreur : " in page
    assert "Les deux adresses email doivent être identiques." in page
    assert 'value="a@example.org"' in page  # nothing the person typed is lost
    response = post_form(client, "/inscription", {"email": "pas-une-adresse", "email_confirm": ""})
    page = html.unescape(response.get_data(as_text=True))
    assert "La saisie de l\'email est obligatoire et doit être une adresse email valide." in page
    assert 'aria-describedby="email-error"' in page and 'href="#email"' in page


def test_weak_password_is_refused_with_the_rules(app, client, mailbox):
    register(client, "weak@example.org")
    deliver(app)
    link = link_in(emails_to(mailbox, "weak@example.org")[0])
    for weak in ("court", "toutenminuscules!", "Azerty123!", "SansSpecial1"):
        response = post_form(client, link, {"password": weak, "password_confirm": weak})
        assert response.status_code == 422, weak
        assert "ne respecte pas les règles" in response.get_data(as_text=True)
    long_password = "Aa!" + "x" * 70
    response = post_form(client, link, {"password": long_password, "password_confirm": long_password})
    assert response.status_code == 303


def test_password_confirmation_must_match(app, client, mailbox):
    register(client, "match@example.org")
    deliver(app)
    link = link_in(emails_to(mailbox, "match@example.org")[0])
    response = post_form(client, link, {"password": PASSWORD, "password_confirm": PASSWORD + "x"})
    assert "Les deux mots de passe doivent être identiques." in response.get_data(as_text=True)


def test_two_pending_registrations_make_one_account(app, client, mailbox):
    register(client, "twice@example.org")
    register(app.test_client(), "twice@example.org")
    deliver(app)
    first, second = (link_in(m) for m in emails_to(mailbox, "twice@example.org"))
    post_form(client, first, {"password": PASSWORD, "password_confirm": PASSWORD})
    other = app.test_client()
    response = post_form(other, second, {"password": PASSWORD, "password_confirm": PASSWORD},
                         follow_redirects=True)
    assert "Un compte existe déjà" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 1
