"""Email: queue in the outbox inside the caller's transaction; the worker delivers.

A request never talks to SMTP. If the server is down, the rows wait and are
retried with a growing delay until it answers: nothing is lost. Delivery is at-least-once:
a server that accepts a message but answers after our timeout gets it again on the retry,
with the same Message-ID (made when the row is queued), so it can be deduplicated.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app, render_template, url_for
from sqlalchemy import select

from portal import db
from portal.db import utcnow
from portal.mail.models import OutboxAttachment, OutboxEmail

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600


def absolute_url(endpoint: str, **values) -> str:
    """A link for an email: the configured public base URL, never the request's Host."""
    return current_app.config["PORTAL_BASE_URL"] + url_for(endpoint, **values)


def new_message_id() -> str:
    """A globally unique Message-ID in the sender's domain (no DNS look-up, unlike make_msgid)."""
    sender = parseaddr(current_app.config["MAIL_FROM"])[1]
    domain = sender.rpartition("@")[2] or urlsplit(current_app.config["PORTAL_BASE_URL"]).hostname
    return f"<{secrets.token_hex(16)}@{domain or 'guichet.localhost'}>"


def queue_email(recipient: str, subject: str, template: str,
                attachments: tuple[tuple[str, str, bytes], ...] = (), **context) -> OutboxEmail:
    """Render ``templates/mail/<template>.txt`` and ``.html`` and add them to the outbox,
    with ``attachments`` as (filename, content type, bytes)."""
    context.setdefault("portal_name", current_app.config["PORTAL_NAME"])
    context.setdefault("home_url", current_app.config["PORTAL_BASE_URL"] + "/")
    email = OutboxEmail(
        recipient=recipient,
        subject=f"[{current_app.config['PORTAL_NAME']}] {subject}",
        body_text=render_template(f"mail/{template}.txt", subject=subject, **context),
        body_html=render_template(f"mail/{template}.html", subject=subject, **context),
        message_id=new_message_id(),
    )
    email.attachments = [OutboxAttachment(filename=name, content_type=kind, content=content)
                         for name, kind, content in attachments]
    db.session.add(email)
    return email


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def _message(email: OutboxEmail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = email.recipient
    msg["Subject"] = email.subject
    msg["Message-ID"] = email.message_id  # the same on every attempt
    msg.set_content(email.body_text)
    msg.add_alternative(email.body_html, subtype="html")
    for item in email.attachments:
        maintype, _slash, subtype = item.content_type.partition("/")
        msg.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
    return msg


def _send(email: OutboxEmail) -> None:
    cfg = current_app.config
    if cfg["DEV_EMAIL_ECHO"]:
        print(f"\n--- email to {email.recipient}: {email.subject}\n{email.body_text}\n---", flush=True)
    if not cfg["SMTP_HOST"]:
        if cfg["PORTAL_ENV"] == "production":
            raise RuntimeError("SMTP_HOST n'est pas configuré")
        return  # development without SMTP: the console and /dev/emails are the delivery
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=cfg["SMTP_TIMEOUT"]) as smtp:
        if cfg["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if cfg["SMTP_USER"]:
            smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
        smtp.send_message(_message(email))


def deliver_due(limit: int = 100) -> tuple[int, int]:
    """Deliver the emails whose time has come. Returns (sent, failed). Commits per email."""
    sent = failed = 0
    now = utcnow()
    query = (
        select(OutboxEmail)
        .where(OutboxEmail.sent_at.is_(None), OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query.with_only_columns(OutboxEmail.id)))
    db.session.commit()
    for email_id in ids:
        email = db.claim(select(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.sent_at.is_(None)))
        if email is None:  # another worker took it
            continue
        email.attempts += 1
        try:
            _send(email)
        except (OSError, smtplib.SMTPException, RuntimeError) as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            email.next_attempt_at = utcnow() + backoff(email.attempts)
            failed += 1
            log.warning("email %s not delivered (attempt %s): %s", email.id, email.attempts, exc)
        else:
            email.sent_at = utcnow()
            email.last_error = None
            sent += 1
        db.session.commit()
    return sent, failed
