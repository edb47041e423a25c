"""Flask extensions, created unbound and attached in the application factory."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from htmx_flask import Htmx


class HeaderFirstCSRFProtect(CSRFProtect):
    """The token htmx sends in ``X-CSRFToken`` is read before the body: a multipart post (a step
    with its documents) is not parsed before its token is known to be good, and an autosave
    reads its token without looking through the form."""

    def _get_csrf_token(self):
        from flask import current_app, request

        for header in current_app.config["WTF_CSRF_HEADERS"]:
            if request.headers.get(header):
                return request.headers[header]
        return super()._get_csrf_token()


csrf = HeaderFirstCSRFProtect()
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
