"""Emails go through the outbox and a real SMTP exchange; an outage loses nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import db
from portal.mail.models import OutboxEmail
from portal.mail.services import backoff, deliver_due
from portal.worker import run_once
from tests.conftest import deliver, emails_to, free_port, post_form


def _make_due():
    for email in db.session.scalars(select(OutboxEmail)):
        email.next_attempt_at = email.next_attempt_at - timedelta(days=1)
    db.session.commit()


def test_request_never_waits_for_smtp(app, client, mailbox):
    mailbox.refuse = True
    response = post_form(client, "/inscription", {"email": "a@example.org", "email_confirm": "a@example.org"})
    assert response.status_code == 303
    assert mailbox.messages == []  # nothing sent from the request
    assert db.session.scalar(select(OutboxEmail)).sent_at is None


def test_outage_then_recovery_delivers_every_email_exactly_once(app, client, mailbox):
    for i in range(3):
        post_form(client, "/inscription", {"email": f"u{i}@example.org", "email_confirm": f"u{i}@example.org"})
    mailbox.refuse = True  # the server answers 421
    deliver(app)
    rows = db.session.scalars(select(OutboxEmail)).all()
    assert all(r.sent_at is None and r.attempts == 1 and "421" in r.last_error for r in rows)
    deliver(app)  # not due yet: no new attempt
    db.session.expire_all()
    assert {r.attempts for r in db.session.scalars(select(OutboxEmail))} == {1}
    mailbox.refuse = False
    _make_due()
    deliver(app)
    deliver(app)
    for i in range(3):
        assert len(emails_to(mailbox, f"u{i}@example.org")) == 1
    db.session.expire_all()
    assert all(r.sent_at is not None for r in db.session.scalars(select(OutboxEmail)))


def test_server_down_entirely_is_retried(app, client, mailbox):
    post_form(client, "/inscription", {"email": "down@example.org", "email_confirm": "down@example.org"})
    real_port = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = free_port()  # nothing listens there
    deliver(app)
    row = db.session.scalar(select(OutboxEmail))
    assert row.sent_at is None and row.last_error
    app.config["SMTP_PORT"] = real_port
    _make_due()
    deliver(app)
    assert len(emails_to(mailbox, "down@example.org")) == 1


def test_backoff_grows_and_is_capped():
    delays = [backoff(n).total_seconds() for n in range(1, 10)]
    assert delays[:3] == [60, 120, 240]
    assert max(delays) == 3600


def test_email_has_text_and_html_parts_in_french(app, client, mailbox):
    post_form(client, "/inscription", {"email": "fr@example.org", "email_confirm": "fr@example.org"})
    deliver(app)
    [message] = emails_to(mailbox, "fr@example.org")
    assert message["From"] == app.config["MAIL_FROM"]
    assert "Finalisez la création de votre compte" in message["Subject"]
    assert "Bonjour" in message.get_body(("plain",)).get_content()
    assert "<a href=" in message.get_body(("html",)).get_content()


def test_worker_pass_runs_every_task(app, client, mailbox):
    post_form(client, "/inscription", {"email": "w@example.org", "email_confirm": "w@example.org"})
    with app.app_context():
        results = run_once()
    assert results["deliver_outbox"] == (1, 0)
    assert "purge_expired_auth_rows" in results
    with app.app_context():
        assert deliver_due() == (0, 0)
