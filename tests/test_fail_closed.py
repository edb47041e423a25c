"""Fail closed: production unless development is chosen, keys required, the outbox page local only."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.config import REQUIRED_IN_PRODUCTION, ConfigError
from portal.files.services import new_key
from tests.conftest import make_app, post_form

PRODUCTION_ENV = {
    "SECRET_KEY": "s" * 40,
    "FILES_ENCRYPTION_KEY": new_key(),
    "DATABASE_URL": "sqlite:///{tmp}/prod.sqlite3",
    "PORTAL_BASE_URL": "https://demarches.example.org",
    "RATELIMIT_STORAGE_URI": "memory://",
}


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    """A complete production environment, with PORTAL_ENV left unset."""
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    return monkeypatch


def test_unset_portal_env_is_production(production_env):
    app = create_app()
    assert app.config["PORTAL_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["DEV_EMAIL_ECHO"] is False


@pytest.mark.parametrize("name", sorted(REQUIRED_IN_PRODUCTION))
def test_production_refuses_to_start_without_each_key(production_env, name):
    production_env.delenv(name)
    with pytest.raises(ConfigError, match=name) as refused:
        create_app()
    assert "PORTAL_ENV=development" in str(refused.value)  # says how to work locally


def test_empty_portal_env_is_production_too(production_env):
    production_env.setenv("PORTAL_ENV", "")
    production_env.delenv("SECRET_KEY")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_unknown_portal_env_is_refused(production_env):
    production_env.setenv("PORTAL_ENV", "dev")
    with pytest.raises(ConfigError, match="PORTAL_ENV"):
        create_app()


def test_production_sets_secure_cookies_and_hsts(production_env, create_user_in_production):
    app, client = create_user_in_production
    response = post_form(client, "/connexion", {"login": "prod@example.org", "password": "Correct-cheval9!"})
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies)
    assert client.get("/").headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.fixture
def create_user_in_production(tmp_path, smtp_server):
    from portal import db as database
    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password

    app = make_app("sqlite", tmp_path, smtp_server[1], PORTAL_ENV="production")
    with app.app_context():
        database.session.add(User(identifier="100000000000001", email="prod@example.org",
                                  password_hash=hash_password("Correct-cheval9!"), status="active"))
        database.session.commit()
    client = app.test_client()
    yield app, client
    database.session.remove()


def test_development_has_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_dev_outbox_does_not_exist_in_production(tmp_path, smtp_server):
    app = make_app("sqlite", tmp_path, smtp_server[1], PORTAL_ENV="production")
    assert "mail.outbox" not in app.view_functions
    assert app.test_client().get("/dev/emails").status_code == 404


@pytest.mark.parametrize("address", ["203.0.113.7", "10.0.0.2", "2001:db8::1"])
def test_dev_outbox_answers_only_to_the_machine_itself(client, address):
    other = {"REMOTE_ADDR": address}
    assert client.get("/dev/emails", environ_base=other).status_code == 404
    assert client.get("/dev/emails/1", environ_base=other).status_code == 404
    assert client.get("/dev/emails").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/dev/emails", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
