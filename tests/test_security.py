"""CSRF, sessions (idle, lifetime, logout), cookies, rate limit, per-object links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import db
from portal.accounts.models import AuthSession
from tests.conftest import PASSWORD, csrf_token, deliver, make_app, page, post_form


@pytest.mark.parametrize("url", ["/connexion", "/inscription", "/identifiant-oublie", "/mot-de-passe-oublie",
                                 "/deconnexion", "/langue", "/mot-de-passe/verifier"])
def test_posts_without_csrf_token_are_refused(client, url):
    response = client.post(url, data={"email": "a@example.org", "login": "x", "password": "y"})
    assert response.status_code == 400
    assert "Formulaire expiré" in page(response)


def test_logged_in_posts_without_csrf_are_refused(client, auth, create_user):
    create_user()
    auth.login()
    for url in ("/compte/informations", "/compte/mot-de-passe", "/compte/email", "/compte/supprimer"):
        assert client.post(url, data={"current_password": PASSWORD}).status_code == 400
    assert client.get("/compte").status_code == 200  # still there


def test_htmx_header_token_is_accepted(client):
    from tests.conftest import csrf_token

    token = csrf_token(client)
    response = client.post("/mot-de-passe/verifier", data={"password": "abc"},
                           headers={"X-CSRFToken": token, "HX-Request": "true", "HX-Target": "password-rules"})
    assert response.status_code == 200


def _age_session(**delta):
    row = db.session.scalar(select(AuthSession))
    row.last_seen_at -= timedelta(**delta.get("idle", {}))
    row.created_at -= timedelta(**delta.get("age", {}))
    db.session.commit()


def test_session_ends_after_30_minutes_of_inactivity(client, auth, create_user):
    create_user()
    auth.login()
    _age_session(idle={"minutes": 29})
    assert client.get("/compte").status_code == 200
    _age_session(idle={"minutes": 31})
    assert client.get("/compte").status_code == 302
    assert db.session.scalar(select(AuthSession)) is None


def test_the_badge_polling_alone_does_not_keep_an_idle_session_alive(client, auth, create_user):
    create_user()
    auth.login()
    poll = {"HX-Request": "true", "HX-Target": "notification-badge"}
    _age_session(idle={"minutes": 20})
    assert client.get("/notifications/compteur", headers=poll).status_code == 200  # still logged in
    _age_session(idle={"minutes": 11})  # 31 minutes since the person last did anything
    assert client.get("/notifications/compteur", headers=poll).status_code == 286  # htmx: stop polling
    assert client.get("/compte").status_code == 302
    assert db.session.scalar(select(AuthSession)) is None


def test_requests_that_change_nothing_do_not_send_the_session_cookie_back(client, auth, create_user):
    """Otherwise a slow htmx check answering after a post puts the older cookie back."""
    create_user()
    auth.login()
    assert client.get("/compte").status_code == 200  # the CSRF token is made once, here or before
    response = client.get("/compte")
    assert response.status_code == 200
    assert not any("guichet_session=" in h for h in response.headers.getlist("Set-Cookie"))
    response = client.post("/mot-de-passe/verifier", data={"password": "abc"},
                           headers={"X-CSRFToken": csrf_token(client, "/compte"), "HX-Request": "true",
                                    "HX-Target": "password-rules"})
    assert response.status_code == 200
    assert not any("guichet_session=" in h for h in response.headers.getlist("Set-Cookie"))


def test_session_ends_after_12_hours_even_when_active(client, auth, create_user):
    create_user()
    auth.login()
    _age_session(age={"hours": 12, "minutes": 1})
    assert client.get("/compte").status_code == 302


def test_logout_ends_the_session_on_the_server(client, auth, create_user):
    create_user()
    auth.login()
    with client.session_transaction() as sess:
        stolen = dict(sess)
    auth.logout()
    with client.session_transaction() as sess:
        sess.update(stolen)  # replaying the old cookie does not bring the session back
    assert client.get("/compte").status_code == 302


def test_session_cookie_flags(client, create_user, auth):
    create_user()
    response = auth.login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(tmp_path, smtp_server):
    app = make_app("sqlite", tmp_path, smtp_server[1], PORTAL_ENV="production", SESSION_COOKIE_SECURE=True)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/")
    assert "Strict-Transport-Security" in response.headers


def test_production_config_turns_secure_cookies_on(monkeypatch, tmp_path):
    from pathlib import Path

    from portal.config import load_config

    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    from portal.files.services import new_key

    monkeypatch.setenv("FILES_ENCRYPTION_KEY", new_key())
    monkeypatch.setenv("DATABASE_URL", "postgresql://guichet@db/guichet")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://demarches.example.org")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/1")
    config = load_config(Path(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True and config["DEV_EMAIL_ECHO"] is False


def test_rate_limit_on_login_posts(tmp_path, smtp_server):
    app = make_app("sqlite", tmp_path, smtp_server[1], RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [post_form(client, "/connexion", {"login": f"x{i}@example.org", "password": "x"}).status_code
                for i in range(32)]
    assert statuses[-1] == 429
    assert "Trop de demandes" in page(post_form(client, "/connexion", {"login": "x", "password": "x"}))


def test_dev_email_page_is_hidden_in_production(tmp_path, smtp_server):
    app = make_app("sqlite", tmp_path, smtp_server[1], PORTAL_ENV="production")
    assert app.test_client().get("/dev/emails").status_code == 404


def test_dev_email_page_lists_the_outbox(app, client):
    post_form(client, "/inscription", {"email": "dev@example.org", "email_confirm": "dev@example.org"})
    deliver(app)
    text = page(client.get("/dev/emails"))
    assert "dev@example.org" in text and "Finalisez la création de votre compte" in text


def test_password_hashes_are_argon2id(app, create_user):
    user = create_user()
    assert user.password_hash.startswith("$argon2id$")
