"""Rendez-vous: passport and identity-card appointments at the town hall (seed 002)."""

from __future__ import annotations

import os

from flask import Flask


def init_app(app: Flask) -> None:
    app.config.setdefault("APPOINTMENTS_PURGE_DAYS",
                          int(os.environ.get("APPOINTMENTS_PURGE_DAYS", 365 * 2)))
    app.config.setdefault("APPOINTMENTS_REMINDER_HOURS", 48)
    app.config.setdefault("PREDEMANDE_API_URL", os.environ.get("PREDEMANDE_API_URL", ""))
    app.config.setdefault("PREDEMANDE_API_TOKEN", os.environ.get("PREDEMANDE_API_TOKEN", ""))
    app.config.setdefault("APPOINTMENTS_HOLD_MINUTES",
                          int(os.environ.get("APPOINTMENTS_HOLD_MINUTES", 120)))
    app.config.setdefault("APPOINTMENTS_BOOKING_LIMIT",
                          os.environ.get("APPOINTMENTS_BOOKING_LIMIT", "20 per hour"))

    from portal.appointments import tasks  # noqa: F401  (registers the worker tasks)
    from portal.appointments.staff_views import staff_bp
    from portal.appointments.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp)
    app.jinja_env.filters["datetime_day"] = _french_day
    from portal.core.access import has_permission

    app.jinja_env.globals["has_permission"] = has_permission


def _french_day(day) -> str:
    from flask_babel import format_date

    return format_date(day, "EEEE d MMMM yyyy")
