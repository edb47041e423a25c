"""Se connecter: email or 15-digit identifier, seed messages, generic error, growing delay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import db
from portal.accounts.models import AuthSession, LoginThrottle
from tests.conftest import PASSWORD, page, post_form, without_tokens


def test_login_with_email_or_identifier(client, auth, create_user):
    user = create_user(email="camille@example.org", identifier="100011701060005")
    response = auth.login("Camille@Example.org ", PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/compte"
    assert user.identifier in page(client.get("/compte"))
    auth.logout()
    assert client.get("/compte").status_code == 302
    assert auth.login("100011701060005", PASSWORD).status_code == 303


def test_empty_fields_give_the_seed_messages(client):
    response = post_form(client, "/connexion", {"login": "", "password": ""})
    text = page(response)
    assert response.status_code == 422
    assert "La saisie de l'identifiant est obligatoire." in text
    assert "La saisie du mot de passe est obligatoire." in text
    assert text.count("<title>Erreur : ") == 1
    assert 'href="#login"' in text and 'href="#password"' in text


def test_wrong_password_and_unknown_account_get_the_same_answer(app, client, create_user):
    create_user(email="known@example.org")
    wrong = post_form(client, "/connexion", {"login": "known@example.org", "password": "Mauvais-1!"})
    unknown = post_form(app.test_client(), "/connexion", {"login": "nobody@example.org", "password": "Mauvais-1!"})
    assert wrong.status_code == unknown.status_code == 422
    assert "Identifiant ou mot de passe incorrect." in page(wrong)
    normalise = lambda r: without_tokens(page(r)).replace("known@", "X@").replace("nobody@", "X@")  # noqa: E731
    assert normalise(wrong) == normalise(unknown)


def test_login_keeps_the_identifier_typed(client, create_user):
    response = post_form(client, "/connexion", {"login": "someone@example.org", "password": "x"})
    assert 'value="someone@example.org"' in page(response)
    assert 'name="password" required type="password" value=""' in page(response)


def test_repeated_failures_get_a_growing_delay_then_it_ends(app, client, create_user):
    create_user(email="target@example.org")
    for _ in range(5):
        post_form(client, "/connexion", {"login": "target@example.org", "password": "Mauvais-1!"})
    # Even the right password waits: the delay protects the account, it does not lock it.
    response = post_form(client, "/connexion", {"login": "target@example.org", "password": PASSWORD})
    assert response.status_code == 422
    assert "Trop de tentatives de connexion" in page(response)
    row = db.session.get(LoginThrottle, "id:target@example.org")
    first_block = row.blocked_until - row.updated_at
    assert timedelta(seconds=10) <= first_block <= timedelta(seconds=20)
    # The delay runs out by itself.
    row.blocked_until = row.updated_at - timedelta(seconds=1)
    db.session.commit()
    post_form(client, "/connexion", {"login": "target@example.org", "password": "Mauvais-1!"})
    db.session.expire_all()
    row = db.session.get(LoginThrottle, "id:target@example.org")
    assert row.blocked_until - row.updated_at > first_block  # it grows
    row.blocked_until = row.updated_at - timedelta(seconds=1)
    db.session.commit()
    assert post_form(client, "/connexion", {"login": "target@example.org", "password": PASSWORD}).status_code == 303


def test_unknown_identifiers_are_throttled_the_same_way(client):
    for _ in range(5):
        post_form(client, "/connexion", {"login": "ghost@example.org", "password": "Mauvais-1!"})
    response = post_form(client, "/connexion", {"login": "ghost@example.org", "password": "Mauvais-1!"})
    assert "Trop de tentatives de connexion" in page(response)


def test_delay_never_exceeds_the_configured_maximum(app, client):
    for _ in range(5):
        post_form(client, "/connexion", {"login": "ghost@example.org", "password": "x"})
    row = db.session.get(LoginThrottle, "id:ghost@example.org")
    row.failures = 40
    row.blocked_until = None
    db.session.commit()
    post_form(client, "/connexion", {"login": "ghost@example.org", "password": "x"})
    db.session.expire_all()
    row = db.session.get(LoginThrottle, "id:ghost@example.org")
    assert row.blocked_until - row.updated_at <= timedelta(seconds=app.config["LOGIN_MAX_DELAY_SECONDS"])


def test_login_starts_a_fresh_session(client, auth, create_user):
    create_user()
    client.get("/connexion")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    auth.login()
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert "sid" in sess
    assert db.session.scalar(select(AuthSession)) is not None


def test_next_parameter_is_kept_and_only_local(client, create_user):
    create_user()
    response = post_form(client, "/connexion?next=/compte/informations",
                         {"login": "camille@example.org", "password": PASSWORD})
    assert response.headers["Location"] == "/compte/informations"
    other = post_form(client.application.test_client(), "/connexion?next=https://evil.example/",
                      {"login": "camille@example.org", "password": PASSWORD})
    assert other.headers["Location"] == "/compte"


def test_logged_in_person_visiting_login_goes_to_account(client, auth, create_user):
    create_user()
    auth.login()
    assert client.get("/connexion").headers["Location"].endswith("/compte")
