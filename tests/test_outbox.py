"""Emails go through the outbox and a real SMTP exchange; an outage loses nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import db
from portal.accounts.services import process_account_requests
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
    with app.app_context():
        process_account_requests()  # the worker decides which email
        run_once()  # and tries to deliver it: the server refuses, the row waits
    assert mailbox.messages == []
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


class SlowAfterAccepting:
    """An SMTP server that keeps each message it receives but answers only after ``delay``."""

    def __init__(self, delay: float):
        self.delay = delay
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        import asyncio
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        if len(self.messages) == 1:
            await asyncio.sleep(self.delay)  # the first answer comes after the client gave up
        return "250 OK"


def test_slow_server_gets_the_email_twice_with_the_same_message_id(app, client):
    """At-least-once: the retry after a timeout is a duplicate receivers can recognise."""
    from aiosmtpd.controller import Controller

    handler = SlowAfterAccepting(delay=2.5)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(SMTP_PORT=port, SMTP_TIMEOUT=1)
        post_form(client, "/inscription", {"email": "lent@example.org", "email_confirm": "lent@example.org"})
        deliver(app)
        row = db.session.scalar(select(OutboxEmail))
        assert row.sent_at is None and row.attempts == 1  # timed out: we must retry
        _make_due()
        deliver(app)
    finally:
        controller.stop()
    assert len(handler.messages) == 2
    first, second = (message["Message-ID"] for message in handler.messages)
    assert first == second == db.session.scalar(select(OutboxEmail.message_id))
    assert first.startswith("<") and first.endswith("@guichet.localhost>")


def test_each_email_has_its_own_message_id(app, client, mailbox):
    for i in range(2):
        post_form(client, "/inscription", {"email": f"m{i}@example.org", "email_confirm": f"m{i}@example.org"})
    deliver(app)
    ids = [message["Message-ID"] for message in mailbox.messages]
    assert len(ids) == 2 and len(set(ids)) == 2
