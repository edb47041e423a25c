"""Development only: the outbox as a page, so a developer can follow email links."""

from __future__ import annotations

from flask import Blueprint, abort, current_app
from sqlalchemy import select

from portal import db
from portal.core.web import render_page
from portal.mail.models import OutboxEmail

bp = Blueprint("mail", __name__, url_prefix="/dev")


@bp.before_request
def development_only():
    if current_app.config["PORTAL_ENV"] != "development":
        abort(404)


@bp.get("/emails")
def outbox():
    emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(50)).all()
    return render_page("mail/outbox.html", emails=emails)


@bp.get("/emails/<int:email_id>")
def show(email_id: int):
    email = db.session.get(OutboxEmail, email_id) or abort(404)
    return render_page("mail/show.html", email=email)
