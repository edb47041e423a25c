"""Configuration read from the environment. Fail closed: anything but an explicit
``PORTAL_ENV=development`` is production.

Production refuses to start without its keys and addresses (``REQUIRED_IN_PRODUCTION``),
naming every missing variable; development (``scripts/serve.sh`` chooses it) generates its
keys once into ``instance/`` so sessions and stored files survive restarts.
"""

from __future__ import annotations

import os
import re
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


REQUIRED_IN_PRODUCTION = {
    "SECRET_KEY": "signe les sessions et les jetons CSRF",
    "FILES_ENCRYPTION_KEY": "chiffre les fichiers déposés ; générez-en une avec : python -c "
                            "\"from portal.files.services import new_key; print(new_key())\"",
    "DATABASE_URL": "la base PostgreSQL",
    "PORTAL_BASE_URL": "l'adresse publique utilisée dans les liens des courriels",
    "RATELIMIT_STORAGE_URI": "le stockage partagé des limites de débit entre processus "
                             "(redis://…, ou memory:// pour un seul processus)",
}


def portal_env(overrides: dict | None = None) -> str:
    """``development`` only when chosen explicitly; unset or empty means production."""
    raw = (overrides or {}).get("PORTAL_ENV") or os.environ.get("PORTAL_ENV") or "production"
    env = raw.strip().lower()
    if env not in {"development", "production"}:
        raise ConfigError("PORTAL_ENV doit valoir « development » ou « production ».")
    return env


def _missing_in_production(overrides: dict) -> list[str]:
    return [name for name in REQUIRED_IN_PRODUCTION
            if not overrides.get(name) and not os.environ.get(name, "").strip()]


def _secret_key(instance_path: Path, env: str) -> str:
    key = os.environ.get("SECRET_KEY")
    if key or env == "production":
        return key or ""  # production without it: refused by load_config, naming it
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
            return ""  # refused by load_config, naming it
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


def load_config(instance_path: Path, overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from environment variables.

    ``overrides`` (tests, benchmarks) may choose ``PORTAL_ENV`` and supply the keys that
    production otherwise requires from the environment."""
    overrides = overrides or {}
    env = portal_env(overrides)
    instance_path.mkdir(parents=True, exist_ok=True)
    default_db = f"sqlite:///{instance_path / 'guichet.sqlite3'}"
    production = env == "production"
    upload_max = _int("UPLOAD_MAX_MB", 10) * 1024 * 1024
    config = {
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
    missing = _missing_in_production(overrides) if production else []
    if missing:
        raise ConfigError(
            "Le portail démarre en production (PORTAL_ENV n'est pas « development ») et ces variables "
            "manquent : " + " ; ".join(f"{name} ({REQUIRED_IN_PRODUCTION[name]})" for name in missing)
            + ". Pour travailler en local, choisissez PORTAL_ENV=development."
        )
    return config


# --- theme colours -------------------------------------------------------------------------

HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# What each colour carries against white: the primary colour is text (links, white text on the
# header and buttons, WCAG 1.4.3: 4.5:1); the accent is the header's line (WCAG 1.4.11: 3:1).
THEME_CONTRAST = {"PORTAL_PRIMARY_COLOUR": 4.5, "PORTAL_ACCENT_COLOUR": 3.0}


def contrast_with_white(colour: str) -> float:
    """WCAG contrast ratio of a hex colour with white."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(digits[i:i + 2]) for i in (0, 2, 4))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def check_theme(config: dict) -> None:
    """Refuse to start with a theme colour that is not a hex colour or lacks contrast: an
    unreadable portal must not go live by a configuration mistake."""
    for name, needed in THEME_CONTRAST.items():
        value = str(config.get(name, "")).strip()
        if not HEX_COLOUR.match(value):
            raise ConfigError(f"{name} doit être une couleur hexadécimale comme #1d4f91 (reçu : {value!r}).")
        ratio = contrast_with_white(value)
        if ratio < needed:
            raise ConfigError(f"{name}={value} n'est pas assez contrasté avec le blanc ({ratio:.2f}:1 ; "
                              f"{needed}:1 au moins, RGAA 3.2 / WCAG 1.4.3 et 1.4.11) : choisissez une "
                              f"couleur plus foncée.")
