"""Development only: the outbox as a page, so a developer can follow email links.

It shows every reset link, so it is registered only in development and answers only to
the machine itself (127.0.0.1, ::1): anyone else gets a 404, as if it did not exist."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from sqlalchemy import select

from portal import db
from portal.core.web import render_page
from portal.mail.models import OutboxEmail

bp = Blueprint("mail", __name__, url_prefix="/dev")
LOOPBACK = {"127.0.0.1", "::1"}


@bp.before_request
def development_only():
    if current_app.config["PORTAL_ENV"] != "development" or request.remote_addr not in LOOPBACK:
        abort(404)


@bp.get("/emails")
def outbox():
    emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(50)).all()
    return render_page("mail/outbox.html", emails=emails)


@bp.get("/emails/<int:email_id>")
def show(email_id: int):
    email = db.session.get(OutboxEmail, email_id) or abort(404)
    return render_page("mail/show.html", email=email)
