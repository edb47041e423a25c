"""Se connecter: email or 15-digit identifier, seed messages, generic error, growing delay."""

from __future__ import annotations

from datetime import timedelta

import pytest
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
    target = create_user(email="target@example.org")
    for _ in range(5):
        post_form(client, "/connexion", {"login": "target@example.org", "password": "Mauvais-1!"})
    # Even the right password waits: the delay protects the account, it does not lock it.
    response = post_form(client, "/connexion", {"login": "target@example.org", "password": PASSWORD})
    assert response.status_code == 422
    assert "Trop de tentatives de connexion" in page(response)
    row = db.session.get(LoginThrottle, f"account:{target.id}")
    first_block = row.blocked_until - row.updated_at
    assert timedelta(seconds=10) <= first_block <= timedelta(seconds=20)
    # The delay runs out by itself.
    row.blocked_until = row.updated_at - timedelta(seconds=1)
    db.session.commit()
    post_form(client, "/connexion", {"login": "target@example.org", "password": "Mauvais-1!"})
    db.session.expire_all()
    row = db.session.get(LoginThrottle, f"account:{target.id}")
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
    row = db.session.get(LoginThrottle, "login:ghost@example.org")
    row.failures = 40
    row.blocked_until = None
    db.session.commit()
    post_form(client, "/connexion", {"login": "ghost@example.org", "password": "x"})
    db.session.expire_all()
    row = db.session.get(LoginThrottle, "login:ghost@example.org")
    assert row.blocked_until - row.updated_at <= timedelta(seconds=app.config["LOGIN_MAX_DELAY_SECONDS"])


def test_every_spelling_of_an_account_charges_the_same_counter(app, client, create_user):
    target = create_user(email="target@example.org", identifier="100011701060005")
    for login in ("target@example.org", "TARGET@example.org ", "100011701060005", "1 00011701060005",
                  "100 011 701 060 005"):
        post_form(client, "/connexion", {"login": login, "password": "Mauvais-1!"})
    response = post_form(client, "/connexion", {"login": "100011701060005", "password": PASSWORD})
    assert "Trop de tentatives de connexion" in page(response)
    assert db.session.get(LoginThrottle, f"account:{target.id}").failures == 5


def test_each_address_has_its_own_counter(app, create_user):
    create_user(email="camille@example.org")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for n in range(20):  # made-up accounts: only the attacker's address is charged for all of them
        post_form(attacker, "/connexion", {"login": f"ghost{n}@example.org", "password": "x"})
    blocked = post_form(attacker, "/connexion", {"login": "ghost99@example.org", "password": "x"})
    assert "Trop de tentatives de connexion" in page(blocked)
    assert db.session.get(LoginThrottle, "ip:203.0.113.7").failures == 21
    someone_else = app.test_client()
    someone_else.environ_base["REMOTE_ADDR"] = "198.51.100.2"
    response = post_form(someone_else, "/connexion", {"login": "camille@example.org", "password": PASSWORD})
    assert response.status_code == 303


def test_an_attacker_cannot_lock_the_owner_out_of_a_known_browser(app, create_user):
    owner = app.test_client()
    create_user(email="target@example.org")
    assert post_form(owner, "/connexion", {"login": "target@example.org", "password": PASSWORD}).status_code == 303
    assert owner.get_cookie("guichet_appareil").http_only
    post_form(owner, "/deconnexion", {})
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for _ in range(6):
        post_form(attacker, "/connexion", {"login": "target@example.org", "password": "Mauvais-1!"})
    assert "Trop de tentatives" in page(post_form(attacker, "/connexion",
                                                  {"login": "target@example.org", "password": PASSWORD}))
    # The owner's browser, known to the account, has its own counter: they get in.
    response = post_form(owner, "/connexion", {"login": "target@example.org", "password": PASSWORD})
    assert response.status_code == 303
    # A new browser is still held back by the account's delay, and a forged cookie changes nothing.
    stranger = app.test_client()
    stranger.set_cookie("guichet_appareil", "forged.value.here")
    response = post_form(stranger, "/connexion", {"login": "target@example.org", "password": PASSWORD})
    assert "Trop de tentatives" in page(response)


def test_failures_on_a_known_browser_are_throttled_too(app, client, create_user):
    create_user(email="target@example.org")
    post_form(client, "/connexion", {"login": "target@example.org", "password": PASSWORD})
    post_form(client, "/deconnexion", {})
    for _ in range(5):
        post_form(client, "/connexion", {"login": "target@example.org", "password": "Mauvais-1!"})
    response = post_form(client, "/connexion", {"login": "target@example.org", "password": PASSWORD})
    assert "Trop de tentatives" in page(response)


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


class TestBehindAProxy:
    @pytest.fixture
    def app_config(self):
        return {"TRUSTED_PROXIES": 1}

    def test_each_visitor_has_their_own_address(self, app):
        """Without it, every visitor shares the proxy's address and one attacker blocks everyone."""
        attacker = app.test_client()
        attacker.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
        for n in range(21):
            post_form(attacker, "/connexion", {"login": f"ghost{n}@example.org", "password": "x"})
        assert db.session.get(LoginThrottle, "ip:203.0.113.7").failures >= 20
        assert db.session.get(LoginThrottle, "ip:127.0.0.1") is None
        visitor = app.test_client()
        visitor.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.2")
        response = post_form(visitor, "/connexion", {"login": "ghost0@example.org", "password": "x"})
        assert "Identifiant ou mot de passe incorrect." in page(response)
        assert db.session.get(LoginThrottle, "ip:198.51.100.2").failures == 1


def test_forwarded_addresses_are_ignored_without_a_trusted_proxy(client):
    client.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    post_form(client, "/connexion", {"login": "ghost@example.org", "password": "x"})
    assert db.session.get(LoginThrottle, "ip:203.0.113.7") is None  # a client cannot pick its address
    assert db.session.get(LoginThrottle, "ip:127.0.0.1").failures == 1
