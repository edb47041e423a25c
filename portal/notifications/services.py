"""Notifications: every one goes to the inbox; its email follows the person's preference.

``notify(user, kind, subject, message, link=None)`` is what other packages call (démarches
for status changes, agent messages, answers, reminders, appointments). The email only says
that something new is waiting and links to the portal: the subject and message, which may be
sensitive, stay behind the login. Services never commit: the caller's transaction does.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from portal import db
from portal.db import utcnow
from portal.mail.services import absolute_url, queue_email
from portal.notifications.models import ALWAYS_EMAILED, KINDS, Notification, NotificationPreference

__all__ = ["KINDS", "ALWAYS_EMAILED", "KIND_LABELS", "notify", "add_to_inbox", "email_wanted",
           "preferences_of", "set_preferences", "unread_count", "inbox_page", "get_notification",
           "mark_read", "mark_all_read", "Notification"]

KIND_LABELS = {
    "status": _l("Changement de statut d'une demande"),
    "agent_message": _l("Message d'un agent"),
    "answer": _l("Réponse disponible"),
    "draft_reminder": _l("Rappel de brouillon"),
    "appointment": _l("Rendez-vous"),
    "document": _l("Document refusé à la vérification"),
    "security": _l("Sécurité du compte"),
}
EMAIL_SUBJECTS = {
    "status": _l("Le statut de l'une de vos demandes a changé"),
    "agent_message": _l("Vous avez reçu un message"),
    "answer": _l("Une réponse est disponible"),
    "draft_reminder": _l("Un brouillon vous attend"),
    "appointment": _l("Information sur un rendez-vous"),
    "document": _l("Un document que vous avez déposé a été refusé"),
    "security": _l("Information sur la sécurité de votre compte"),
}
PAGE_SIZE = 20


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind: {kind}")


def _check_link(link: str | None) -> str | None:
    """Only paths inside the portal: a notification never sends people elsewhere."""
    if link is None:
        return None
    if not link.startswith("/") or link.startswith("//") or "\\" in link:
        raise ValueError(f"a notification link must be a path inside the portal: {link!r}")
    return link


def add_to_inbox(user, kind: str, subject: str, message: str, link: str | None = None) -> Notification:
    """The inbox entry alone, for callers that already send their own email (accounts)."""
    _check_kind(kind)
    notification = Notification(user_id=user.id, kind=kind, subject=subject[:200], message=message,
                                link=_check_link(link))
    db.session.add(notification)
    db.session.flush()
    return notification


def email_wanted(user, kind: str) -> bool:
    _check_kind(kind)
    if kind in ALWAYS_EMAILED:
        return True
    pref = db.session.get(NotificationPreference, (user.id, kind))
    return pref is None or pref.email_enabled


def notify(user, kind: str, subject: str, message: str, link: str | None = None) -> Notification:
    """Put a notification in the person's inbox and, if they want it, queue an email that
    points to it (never with its content)."""
    notification = add_to_inbox(user, kind, subject, message, link)
    if email_wanted(user, kind):
        # The worker (draft reminders) has no request: links then need one made up, the
        # public base URL being what counts in them anyway.
        with nullcontext() if has_request_context() else current_app.test_request_context():
            queue_email(
                user.email,
                str(EMAIL_SUBJECTS[kind]),
                "notification",
                user=user,
                kind_label=str(KIND_LABELS[kind]),
                notification_url=absolute_url("notifications.show", notification_id=notification.id),
                preferences_url=absolute_url("notifications.preferences"),
                can_switch_off=kind not in ALWAYS_EMAILED,
            )
    return notification


# --- preferences ------------------------------------------------------------------------


def preferences_of(user) -> dict[str, bool]:
    """kind -> email on or off, for every kind (security always on)."""
    rows = db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    stored = {row.kind: row.email_enabled for row in rows}
    return {kind: True if kind in ALWAYS_EMAILED else stored.get(kind, True) for kind in KINDS}


def set_preferences(user, choices: dict[str, bool]) -> None:
    """Save the choices; kinds that cannot be switched off are ignored whatever is sent."""
    for kind in KINDS:
        if kind in ALWAYS_EMAILED or kind not in choices:
            continue
        pref = db.session.get(NotificationPreference, (user.id, kind))
        if pref is None:
            pref = NotificationPreference(user_id=user.id, kind=kind)
            db.session.add(pref)
        pref.email_enabled = bool(choices[kind])


# --- inbox ------------------------------------------------------------------------------


def unread_count(user) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id,
                                                  Notification.read_at.is_(None))
    ) or 0


@dataclass
class InboxPage:
    items: list[Notification]
    page: int
    pages: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def inbox_page(user, page: int = 1, per_page: int = PAGE_SIZE) -> InboxPage:
    """Newest first. A page number out of range gives the nearest existing page."""
    total = db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user.id)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return InboxPage(list(items), page, pages, total)


def get_notification(user, notification_id: int) -> Notification | None:
    """The notification if it is ``user``'s; None otherwise (the view answers 404)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        return None
    return notification


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()


def mark_all_read(user) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0
