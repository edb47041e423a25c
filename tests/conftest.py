"""Fixtures in the style of the Flask tutorial (app, client, auth) and Indico's factories.

Every database test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set.
Emails really travel: the worker delivers the outbox to an aiosmtpd server.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from portal import create_app
from portal import db as database
from portal.db import Base
from portal.models import import_all_models

PASSWORD = "Correct-cheval9!"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
_pg_schema_ready = False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    """What the SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "421 Service not available"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def clear(self):
        self.messages.clear()
        self.refuse = False


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture(scope="session")
def s3_server():
    """A local S3-compatible server (moto), started once when a test asks for it."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_config(s3_server):
    """Configuration pointing the file storage at a fresh bucket of the local S3 server."""
    import secrets

    import boto3

    options = {"endpoint_url": s3_server, "region_name": "us-east-1",
               "aws_access_key_id": "guichet-test", "aws_secret_access_key": "guichet-test"}
    bucket = "guichet-" + secrets.token_hex(6)
    boto3.client("s3", **options).create_bucket(Bucket=bucket)
    return {"FILES_STORAGE": "s3", "S3_BUCKET": bucket, "S3_PREFIX": "files/",
            "S3_ENDPOINT_URL": s3_server, "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": "guichet-test", "S3_SECRET_ACCESS_KEY": "guichet-test"}


def s3_keys(config: dict) -> list[str]:
    """The object names in the configured bucket."""
    import boto3

    client = boto3.client("s3", endpoint_url=config["S3_ENDPOINT_URL"], region_name=config["S3_REGION"],
                          aws_access_key_id=config["S3_ACCESS_KEY_ID"],
                          aws_secret_access_key=config["S3_SECRET_ACCESS_KEY"])
    answer = client.list_objects_v2(Bucket=config["S3_BUCKET"])
    return [item["Key"] for item in answer.get("Contents", [])]


@pytest.fixture
def mailbox(smtp_server):
    box, _port = smtp_server
    box.clear()
    yield box
    box.clear()


def _database_url(backend: str, tmp_path) -> str:
    if backend == "postgresql":
        return os.environ["TEST_DATABASE_URL"]
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


def _reset_postgres(engine) -> None:
    global _pg_schema_ready
    if not _pg_schema_ready:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        Base.metadata.create_all(engine)
        _pg_schema_ready = True
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


TEST_FILES_KEY = "ZmlsZXMta2V5LWZvci10ZXN0cy1vbmx5LTMyLWJ5dGU"  # 32 bytes, tests only


@pytest.fixture(autouse=True)
def development_by_default(monkeypatch):
    """Tests choose development explicitly, as ``serve.sh`` does (unset means production)."""
    if not os.environ.get("PORTAL_ENV"):
        monkeypatch.setenv("PORTAL_ENV", "development")


def make_app(backend: str, tmp_path, smtp_port: int, **overrides):
    import_all_models()
    config = {
        "PORTAL_ENV": "development",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": _database_url(backend, tmp_path),
        "ARGON2_PROFILE": "fast",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_port,
        "DEV_EMAIL_ECHO": False,
        "PORTAL_BASE_URL": "http://localhost",
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "FILES_ENCRYPTION_KEY": TEST_FILES_KEY,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),  # never the developer's instance/uploads
    }
    config.update(overrides)
    app = create_app(config)
    engine = app.extensions["sqlalchemy_engine"]
    if backend == "postgresql":
        _reset_postgres(engine)
    else:
        Base.metadata.create_all(engine)  # tests only; the portal uses Alembic migrations
    return app


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def app_config():
    """Override in a test module to change the configuration."""
    return {}


@pytest.fixture
def app(backend, tmp_path, smtp_server, app_config):
    _box, port = smtp_server
    app = make_app(backend, tmp_path, port, **app_config)
    # No app context stays pushed: each test-client request gets its own, as in production
    # (a shared one would share ``g`` and Babel's cached locale between requests).
    yield app
    database.session.remove()
    app.extensions["sqlalchemy_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


# --- helpers ------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client, url: str = "/cgu") -> str:
    page = client.get(url).get_data(as_text=True)
    return CSRF_RE.search(page).group(1)


def post_form(client, url: str, data: dict, token_from: str = "/cgu", **kwargs):
    """Post a form as a browser would: with the CSRF token the session was given."""
    payload = {"csrf_token": csrf_token(client, token_from), **data}
    return client.post(url, data=payload, **kwargs)


def deliver(app) -> None:
    """What the worker does for emails: decide the recorded account requests, then deliver."""
    from portal.accounts.services import process_account_requests
    from portal.mail.services import deliver_due

    with app.app_context():
        process_account_requests()
        deliver_due()


def emails_to(mailbox: Mailbox, address: str) -> list[EmailMessage]:
    return [m for m in mailbox.messages if m["To"] == address]


def body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message: EmailMessage) -> str:
    """The portal path of the first portal link in an email."""
    match = re.search(r"http://localhost(/\S+)", body(message))
    assert match, body(message)
    return match.group(1)


@pytest.fixture
def create_user(app):
    """Factory: ``create_user(email=..., password=..., **fields)`` -> User (committed)."""
    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password
    from portal.accounts.services import new_identifier

    def factory(email: str = "camille@example.org", password: str = PASSWORD, **fields):
        with app.app_context():
            return _create(email, password, **fields)

    def _create(email, password, **fields):
        user = User(identifier=fields.pop("identifier", None) or new_identifier(), email=email,
                    password_hash=hash_password(password) if password else None,
                    status=fields.pop("status", "active"), role=fields.pop("role", "citizen"), **fields)
        database.session.add(user)
        database.session.commit()
        return user

    return factory


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, login: str = "camille@example.org", password: str = PASSWORD, **kwargs):
        return post_form(self._client, "/connexion", {"login": login, "password": password}, **kwargs)

    def logout(self):
        return post_form(self._client, "/deconnexion", {})


@pytest.fixture
def auth(client):
    return AuthActions(client)


def without_tokens(html: str) -> str:
    """A page with its per-session CSRF tokens blanked, to compare two answers exactly."""
    return re.sub(r'((?:name="csrf-token" content|name="csrf_token" type="hidden" value|name="csrf_token" value)=")[^"]+',
                  r"\1", html)


def page(response) -> str:
    """The response body with HTML entities decoded, to assert on French text."""
    import html

    return html.unescape(response.get_data(as_text=True))
