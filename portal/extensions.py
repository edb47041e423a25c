"""Flask extensions, created unbound and attached in the application factory."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from htmx_flask import Htmx

csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def select_locale() -> str:
    from flask import has_request_context, session

    chosen = session.get("lang") if has_request_context() else None
    if chosen in ("fr", "en"):
        return chosen
    return "fr"  # French first, whatever the browser says


babel = Babel()


__all__ = ["babel", "csrf", "htmx", "limiter", "login_manager", "select_locale"]
