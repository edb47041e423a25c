"""Never twice the same slot: 1,000 concurrent booking attempts over real HTTP, against gunicorn
with 4 workers, on SQLite (a file) and on PostgreSQL, at the same few slots.

Each attempt is a distinct logged-in person at the last step of the journey (their signed
session cookie is built here, as the portal builds it, to avoid 1,000 password hashes);
some people double-click (the same submission twice at once). Expected: each slot and
guichet held by at most one person, every seat taken, every refused person told in French
with the next free slots, one appointment per person, and no other answer than 303 or 409.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, insert, select

from portal import db as database
from portal.accounts.models import AuthSession, User
from portal.appointments import services
from portal.appointments.journey import start_value
from portal.appointments.models import Appointment, Lieu, SlotLock
from tests.appointments_support import make_town
from tests.conftest import free_port, make_app

ROOT = Path(__file__).resolve().parent.parent
ATTEMPTS = 1000
DOUBLE_CLICKS = 50  # people among them who send their submission twice at once
CONTESTED_STARTS = 3
GUICHETS = 2
SECRET = "concurrency-test-secret"


def _people(app, count: int) -> list[tuple[int, str]]:
    """``count`` active accounts, each with a live server-side session: (user id, cookie secret)."""
    secrets_by_index = [secrets.token_urlsafe(16) for _ in range(count)]
    with app.app_context():
        database.session.execute(insert(User), [
            {"identifier": f"{900000000000000 + i}", "email": f"personne{i}@example.org", "password_hash": None,
             "status": "active", "role": "citizen", "prenom": f"Personne{i}", "nom": "Test",
             "date_naissance": date(1980, 1, 1)} for i in range(count)])
        database.session.commit()
        ids = dict(database.session.execute(
            select(User.email, User.id).where(User.email.like("personne%@example.org"))).all())
        database.session.execute(insert(AuthSession), [
            {"id": hashlib.sha256(secrets_by_index[i].encode()).hexdigest(),
             "user_id": ids[f"personne{i}@example.org"]} for i in range(count)])
        database.session.commit()
        return [(ids[f"personne{i}@example.org"], secrets_by_index[i]) for i in range(count)]


def _cookie_and_form(app, town, user_id: int, sid: str, index: int, start: str) -> tuple[str, dict]:
    """The session cookie and the form of a person at the summary, as the portal makes them."""
    raw_csrf = hashlib.sha1(secrets.token_bytes(16)).hexdigest()
    key = secrets.token_urlsafe(24)
    journey = {"motif": town["motif"], "who": ["moi"], "lieu": town["lieu"], "key": key, "start": start,
               "details": {"moi": {"birth": "1980-01-01", "situation": "premiere", "titre": "oui",
                                   "predemande": f"C{index:09d}"}}}
    session = {"sid": sid, "_user_id": str(user_id), "_fresh": True, "csrf_token": raw_csrf, "rdv": journey}
    with app.app_context():
        cookie = app.session_interface.get_signing_serializer(app).dumps(session)
    token = URLSafeTimedSerializer(SECRET, salt="wtf-csrf-token").dumps(raw_csrf)
    return f"guichet_session={cookie}", {"csrf_token": token, "start": start, "key": key}


def _post(port: int, cookie: str, form: dict) -> tuple[int, str]:
    from urllib.parse import urlencode

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/rendez-vous/prendre/confirmer", body=urlencode(form),
                           headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(server.stderr.read().decode() if server.stderr else "gunicorn stopped")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/cgu")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 30 s")


@pytest.mark.skipif(shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None,
                    reason="gunicorn is not installed in the virtual environment")
def test_a_thousand_concurrent_attempts_never_double_book(backend, tmp_path, smtp_server):
    config = {"TESTING": False, "SECRET_KEY": SECRET, "ARGON2_PROFILE": "fast", "SMTP_HOST": "127.0.0.1",
              "SMTP_PORT": smtp_server[1], "DEV_EMAIL_ECHO": False, "PORTAL_BASE_URL": "http://localhost",
              "RATELIMIT_ENABLED": False, "UPLOAD_FOLDER": str(tmp_path / "uploads")}
    app = make_app(backend, tmp_path, smtp_server[1], **config)
    config["DATABASE_URL"] = app.config["DATABASE_URL"]
    town = make_town(app, guichets=GUICHETS, minutes=15, min_delay_hours=0, max_delay_days=3,
                     hours=((8, 0), (20, 0)))
    with app.app_context():
        motif, lieu = services.get_motif(town["motif"]), database.session.get(Lieu, town["lieu"])
        contested = sorted({s.start for s in services.free_slots(motif, lieu, 1)})[:CONTESTED_STARTS]
    assert len(contested) == CONTESTED_STARTS
    people = _people(app, ATTEMPTS)
    requests = []
    for index, (user_id, sid) in enumerate(people):
        cookie, form = _cookie_and_form(app, town, user_id, sid, index, start_value(contested[index % len(contested)]))
        requests.append((user_id, cookie, form))
        if index < DOUBLE_CLICKS:
            requests.append((user_id, cookie, form))  # the same submission, twice
    database.session.remove()
    app.extensions["sqlalchemy_engine"].dispose()

    port = free_port()
    env = {**os.environ, "GUICHET_TEST_CONFIG": json.dumps(config), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", "4", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--timeout", "120", "tests.appointments_server:create()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_until_up(port, server)
        with ThreadPoolExecutor(max_workers=32) as pool:
            answers = list(pool.map(lambda r: (r[0], *_post(port, r[1], r[2])), requests))
    finally:
        server.terminate()
        server.wait(timeout=30)

    statuses = [status for _user, status, _body in answers]
    assert set(statuses) <= {303, 409}, sorted(set(statuses))
    refused = [body for _user, status, body in answers if status == 409]
    assert refused, "the few slots cannot hold everybody"
    for body in refused:
        assert "Ce créneau n'est plus disponible" in html.unescape(body)
        assert 'name="start"' in body  # the next free slots to choose from

    with app.app_context():
        appointments = list(database.session.scalars(select(Appointment)))
        seats = GUICHETS * CONTESTED_STARTS
        assert len(appointments) == seats  # every seat taken, none twice
        held = [(a.guichet_id, a.starts_at) for a in appointments]
        assert len(set(held)) == len(held)
        assert {a.starts_at for a in appointments} == set(contested)
        per_user = database.session.execute(
            select(Appointment.user_id, func.count()).group_by(Appointment.user_id)).all()
        assert all(count == 1 for _user, count in per_user)
        assert database.session.scalar(select(func.count()).select_from(SlotLock)) == seats * 3
        owners = {a.user_id for a in appointments}
    assert {user for user, status, _body in answers if status == 303} == owners
    database.session.remove()
    app.extensions["sqlalchemy_engine"].dispose()
