"""Configuration read from the environment, with safe development defaults.

Production refuses to start without an explicit SECRET_KEY; development generates
one once into ``instance/`` so sessions survive restarts.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    """Raised when the deployment is misconfigured; the message names the variable."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "oui", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} doit être un nombre entier (reçu : {raw!r}).") from exc


def _secret_key(instance_path: Path, env: str) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise ConfigError("SECRET_KEY est obligatoire quand PORTAL_ENV=production.")
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _files_key(instance_path: Path, env: str) -> str:
    """The key that encrypts uploaded files at rest (AES-256, base64url; comma-separated to rotate)."""
    from portal.files.services import decode_key, new_key

    key = os.environ.get("FILES_ENCRYPTION_KEY", "").strip()
    if not key:
        if env == "production":
            raise ConfigError("FILES_ENCRYPTION_KEY est obligatoire quand PORTAL_ENV=production "
                              "(générez-en une avec : python -c \"from portal.files.services import "
                              "new_key; print(new_key())\").")
        key_file = instance_path / "files_key"
        if key_file.exists():
            return key_file.read_text().strip()
        key = new_key()
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key
    try:
        for part in key.split(","):
            decode_key(part)
    except ValueError as exc:
        raise ConfigError("FILES_ENCRYPTION_KEY doit contenir des clés de 32 octets encodées en "
                          "base64url, séparées par des virgules.") from exc
    return key


def _storage(env: str) -> dict:
    backend = os.environ.get("FILES_STORAGE", "local").strip().lower() or "local"
    if backend not in {"local", "s3"}:
        raise ConfigError("FILES_STORAGE doit valoir « local » ou « s3 ».")
    bucket = os.environ.get("S3_BUCKET", "")
    if backend == "s3" and not bucket:
        raise ConfigError("S3_BUCKET est obligatoire quand FILES_STORAGE=s3.")
    return {
        "FILES_STORAGE": backend,
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", ""),
        "S3_BUCKET": bucket,
        "S3_PREFIX": os.environ.get("S3_PREFIX", ""),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL", ""),
        "S3_REGION": os.environ.get("S3_REGION", ""),
        "S3_ACCESS_KEY_ID": os.environ.get("S3_ACCESS_KEY_ID", ""),
        "S3_SECRET_ACCESS_KEY": os.environ.get("S3_SECRET_ACCESS_KEY", ""),
    }


def load_config(instance_path: Path) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = os.environ.get("PORTAL_ENV", "development").strip().lower()
    if env not in {"development", "production"}:
        raise ConfigError("PORTAL_ENV doit valoir « development » ou « production ».")
    instance_path.mkdir(parents=True, exist_ok=True)
    default_db = f"sqlite:///{instance_path / 'guichet.sqlite3'}"
    production = env == "production"
    upload_max = _int("UPLOAD_MAX_MB", 10) * 1024 * 1024
    return {
        "PORTAL_ENV": env,
        "SECRET_KEY": _secret_key(instance_path, env),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or default_db,
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(os.environ.get("SMTP_STARTTLS")),
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 10),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Guichet <ne-pas-repondre@guichet.localhost>"),
        "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # Theme: a commune, a département or a body sets its own name, colours and contact.
        "PORTAL_NAME": os.environ.get("PORTAL_NAME", "Guichet"),
        "PORTAL_OWNER": os.environ.get("PORTAL_OWNER", "Commune de Démoville"),
        "PORTAL_PRIMARY_COLOUR": os.environ.get("PORTAL_PRIMARY_COLOUR", "#1d4f91"),
        "PORTAL_ACCENT_COLOUR": os.environ.get("PORTAL_ACCENT_COLOUR", "#b3261e"),
        "PORTAL_LOGO_URL": os.environ.get("PORTAL_LOGO_URL", ""),
        "PORTAL_CONTACT": os.environ.get(
            "PORTAL_CONTACT", "Mairie de Démoville, 1 place de la Mairie, 00000 Démoville — 01 23 45 67 89"
        ),
        "PASSWORD_POLICY": os.environ.get("PASSWORD_POLICY", "cmi"),
        "TEMP_PASSWORD_DAYS": _int("TEMP_PASSWORD_DAYS", 30),
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 30),
        "SESSION_MAX_HOURS": _int("SESSION_MAX_HOURS", 12),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "LOGIN_FREE_ATTEMPTS": _int("LOGIN_FREE_ATTEMPTS", 5),
        "LOGIN_MAX_DELAY_SECONDS": _int("LOGIN_MAX_DELAY_SECONDS", 900),
        # Reverse proxies in front of the portal (nginx: 1). Their X-Forwarded-For gives the
        # visitor's address for login throttling; 0 trusts no such header.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "guichet_session",
        # The cookie is sent back only when the session changes: a slow background request
        # (an htmx inline check) answering after a login or a form post must not put the older
        # cookie back and lose the new session or its message. Idle time is kept on the server.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_MAX_HOURS", 12)),
        "REMEMBER_COOKIE_DURATION": 0,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session, which expires itself
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent.parent / "translations"),
        "DEV_EMAIL_ECHO": not production,
        # Uploaded files (portal/files): per-file limit, wallet quota, encryption, storage.
        "UPLOAD_MAX_BYTES": upload_max,
        "WALLET_QUOTA_BYTES": _int("WALLET_QUOTA_MB", 200) * 1024 * 1024,
        "FILES_ENCRYPTION_KEY": _files_key(instance_path, env),
        # Files wait for the worker's check; at most this many per person at once.
        "UPLOAD_MAX_PENDING": _int("UPLOAD_MAX_PENDING", 5),
        "CLAMD_ADDRESS": os.environ.get("CLAMD_ADDRESS", "").strip(),  # host:port or socket path
        "CLAMD_TIMEOUT": _int("CLAMD_TIMEOUT", 30),
        **_storage(env),
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", upload_max + 2 * 1024 * 1024),
    }
