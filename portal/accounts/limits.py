"""Rate limits on every route that sends an email: per session, per address, per recipient.

The counters live in Flask-Limiter's storage, shared by every web worker when
``RATELIMIT_STORAGE_URI`` points at Redis (required in production). Only requests that
went through (a 303) count, so typing mistakes do not use up the allowance; a refused
request gets the French 429 page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import request, session
from flask_limiter.util import get_remote_address

from portal.extensions import limiter

PER_SESSION = "3 per minute; 10 per hour"
PER_ADDRESS = "10 per minute; 60 per hour"
PER_RECIPIENT = "3 per 15 minutes; 10 per day"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def session_key() -> str:
    """The browser's session: its login session, else the CSRF secret every form post carries."""
    secret = session.get("sid") or session.get("csrf_token") or "no-session"
    return _digest(str(secret))


def recipient_key() -> str:
    """Whom the email goes to, as typed (email or identifier), normalised."""
    typed = request.form.get("email") or request.form.get("login") or ""
    return _digest(typed.strip().lower().replace(" ", ""))


def _went_through(response) -> bool:
    return response.status_code == 303


def limit_email_sending(view: Callable) -> Callable:
    """Decorate a view that sends an email (POST only); the three limits are shared by all of them."""
    for scope, limit, key_func in (("email-session", PER_SESSION, session_key),
                                   ("email-address", PER_ADDRESS, get_remote_address),
                                   ("email-recipient", PER_RECIPIENT, recipient_key)):
        view = limiter.shared_limit(limit, scope=scope, key_func=key_func, methods=["POST"],
                                    deduct_when=_went_through)(view)
    return view
