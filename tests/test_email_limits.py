"""Mail flooding and phishing relay: every route that sends an email is limited per session,
per address and per recipient (shared by all web workers through Redis); names are names."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, make_app, page, post_form

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True}


def _client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _forgot(client, login: str):
    return post_form(client, "/mot-de-passe-oublie", {"login": login})


def test_one_session_cannot_send_many_emails(app):
    client = app.test_client()
    statuses = [_forgot(client, f"personne{n}@example.org").status_code for n in range(4)]
    assert statuses == [303, 303, 303, 429]
    refused = _forgot(client, "encore@example.org")
    assert refused.status_code == 429 and "Trop de demandes" in page(refused)
    # The limit is shared by every route that sends an email.
    other = post_form(client, "/identifiant-oublie", {"email": "autre@example.org"})
    assert other.status_code == 429


def test_one_address_cannot_send_many_emails_with_fresh_sessions(app):
    statuses = [post_form(_client_at(app, "203.0.113.9"), "/inscription",
                          {"email": f"cible{n}@example.org", "email_confirm": f"cible{n}@example.org"}).status_code
                for n in range(11)]
    assert statuses == [303] * 10 + [429]
    assert _forgot(_client_at(app, "198.51.100.9"), "cible0@example.org").status_code == 303  # others are free


def test_one_recipient_cannot_be_flooded_from_many_addresses(app):
    statuses = [_forgot(_client_at(app, f"198.51.100.{n}"), " Victime@example.org").status_code for n in range(1, 5)]
    assert statuses == [303, 303, 303, 429]
    assert _forgot(_client_at(app, "198.51.100.20"), "quelquun@example.org").status_code == 303


def test_form_errors_do_not_use_up_the_allowance(app):
    client = app.test_client()
    for _ in range(5):
        assert post_form(client, "/identifiant-oublie", {"email": "pas une adresse"}).status_code == 422
    assert post_form(client, "/identifiant-oublie", {"email": "ok@example.org"}).status_code == 303


def test_change_email_is_limited(app, client, create_user, auth):
    create_user()
    auth.login()
    statuses = []
    for n in range(4):
        new = f"nouvelle{n}@example.org"
        statuses.append(post_form(client, "/compte/email", {"email": new, "email_confirm": new,
                                                            "current_password": PASSWORD}).status_code)
    assert statuses == [303, 303, 303, 429]


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


SECOND_WORKER = """
import sys
from tests.conftest import make_app, post_form
app = make_app("sqlite", __import__("pathlib").Path(sys.argv[1]), 25, RATELIMIT_ENABLED=True,
               RATELIMIT_STORAGE_URI=sys.argv[2], RATELIMIT_KEY_PREFIX=sys.argv[3])
client = app.test_client()
client.environ_base["REMOTE_ADDR"] = "198.51.100.77"
print(post_form(client, "/mot-de-passe-oublie", {"login": "partagee@example.org"}).status_code)
"""


@pytest.mark.skipif(not _redis_answers(), reason="no Redis server on 127.0.0.1:6379 for the shared-storage test")
def test_limits_hold_across_workers_with_redis(tmp_path, smtp_server):
    """Two processes (two gunicorn workers) share the per-recipient counter through Redis."""
    prefix = "guichet-test-" + secrets.token_hex(4)
    app = make_app("sqlite", tmp_path, smtp_server[1], RATELIMIT_ENABLED=True,
                   RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    for n in range(3):
        assert _forgot(_client_at(app, f"203.0.113.{n + 1}"), "partagee@example.org").status_code == 303
    other = tmp_path / "second"
    other.mkdir()
    result = subprocess.run([sys.executable, "-c", SECOND_WORKER, str(other), REDIS_URL, prefix], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PORTAL_ENV": "development"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "429"


# --- names are names ----------------------------------------------------------------------

BAD_NAMES = ["Jean\nCliquez sur https://evil.example", "Camille2", "www.evil.example", "Camille <b>",
             "x" * 61, "Jean\tPierre", "Camille !"]
GOOD_NAMES = ["Jean-Pierre", "N’Diaye", "d'Alembert", "Zoë", "Marie Claire", "Œdipe"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_profile_refuses_what_is_not_a_name(client, create_user, auth, name):
    create_user()
    auth.login()
    response = post_form(client, "/compte/informations", {"prenom": name, "nom": "Martin"})
    assert response.status_code == 422
    assert "Un nom ne contient que des lettres" in page(response)


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_profile_accepts_real_names(app, client, create_user, auth, name):
    from portal import db
    from portal.accounts.models import User

    create_user()
    auth.login()
    assert post_form(client, "/compte/informations", {"prenom": name, "nom": "Martin"}).status_code == 303
    assert db.session.get(User, 1).prenom == name


def test_relation_names_are_names(client, create_user, auth):
    create_user()
    auth.login()
    response = post_form(client, "/relations/ajouter/personne-physique",
                         {"kind": "enfant", "civilite": "Madame", "nom": "Martin", "prenom": "http://evil.example",
                          "date_naissance": "01/02/2015"}, token_from="/relations/ajouter/personne-physique")
    assert "Un nom ne contient que des lettres" in page(response)
