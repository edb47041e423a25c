"""Guichet: the application factory."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, g, request
from flask_wtf.csrf import CSRFError

from portal import db as database
from portal.config import check_theme, load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(Path(app.instance_path), overrides))
    if overrides:
        app.config.update(overrides)
    check_theme(app.config)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("portal").setLevel(logging.INFO)

    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    from portal.core.delivery import init_app as init_delivery

    init_delivery(app)  # before the database: responses are compressed after the commit
    from portal.core.ids import DatabaseIdConverter

    app.url_map.converters["int"] = DatabaseIdConverter  # ids in URLs stay within the database's range
    database.init_app(app)
    from portal.files.services import init_app as init_files

    init_files(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_security_headers(app)
    _register_errors(app)
    _register_template_helpers(app)

    from portal.cli import register_cli

    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal.accounts.services import load_session_user
    from portal.extensions import babel, csrf, htmx, limiter, login_manager, select_locale

    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    from portal.core import i18n

    i18n.init_app(app)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Veuillez vous connecter pour accéder à cette page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # server-side sessions do this job
    login_manager.user_loader(load_session_user)


def _register_blueprints(app: Flask) -> None:
    from portal.accounts.views import bp as accounts_bp
    from portal.mail.views import bp as mail_bp
    from portal.notifications.views import bp as notifications_bp
    from portal.pages.views import bp as pages_bp
    from portal.relations.views import bp as relations_bp
    from portal.wallet.views import bp as wallet_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(accounts_bp)
    if app.config["PORTAL_ENV"] == "development":
        app.register_blueprint(mail_bp)  # the development outbox never exists in production
    app.register_blueprint(relations_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(wallet_bp)
    from portal.exports.views import bp as exports_bp

    app.register_blueprint(exports_bp)

    from portal import demarches

    demarches.init_app(app)
    from portal import appointments

    appointments.init_app(app)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.vary.add("HX-Request")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config["PORTAL_ENV"] == "production":
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        return response


ERROR_PAGES = {
    404: ("errors/404.html", 404),
    405: ("errors/404.html", 405),
    CSRFError: ("errors/csrf.html", 400),
    413: ("errors/413.html", 413),
    429: ("errors/429.html", 429),
}


def _register_errors(app: Flask) -> None:
    from flask import render_template

    for error, (template, status) in ERROR_PAGES.items():
        app.register_error_handler(error, lambda _e, t=template, s=status: (render_template(t), s))

    @app.errorhandler(500)
    def server_error(_e):
        database.session.rollback()
        return render_template("errors/500.html"), 500


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import format_datetime, get_locale

    from portal.accounts.passwords import current_policy

    @app.context_processor
    def portal_context():
        cfg = app.config
        return {
            "portal": {
                "name": cfg["PORTAL_NAME"],
                "owner": cfg["PORTAL_OWNER"],
                "primary": cfg["PORTAL_PRIMARY_COLOUR"],
                "accent": cfg["PORTAL_ACCENT_COLOUR"],
                "logo": cfg["PORTAL_LOGO_URL"],
                "contact": cfg["PORTAL_CONTACT"],
                "dev": cfg["PORTAL_ENV"] == "development",
            },
        }

    app.jinja_env.filters["datetime"] = lambda value, fmt="d MMMM yyyy 'à' HH'h'mm": (
        format_datetime(value, fmt) if value else ""
    )
    app.jinja_env.globals["g"] = g
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["password_policy"] = current_policy  # used inside imported macros
