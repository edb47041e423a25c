"""Mes notifications (inbox, unread badge) and Mes préférences."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.services import background_request
from portal.core.web import render_page, see_other, wants_fragment
from portal.notifications import services
from portal.notifications.forms import SWITCHABLE_KINDS, PreferencesForm

bp = Blueprint("notifications", __name__)

BADGE_TARGET = "notification-badge"


@bp.app_context_processor
def unread_badge() -> dict:
    """``unread_notifications()`` for the header: computed when the template asks for it,
    so pages that do not show the header (emails, fragments) cost no query."""

    return {"unread_notifications": _unread_now}


def _unread_now() -> int:
    """The unread count, computed once per request (after the view's own changes)."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = services.unread_count(current_user)
    return g.unread_notifications


@bp.get("/notifications")
@login_required
def inbox():
    try:
        page_number = int(request.args.get("page", "1"))
    except ValueError:
        page_number = 1
    page = services.inbox_page(current_user, page_number)
    return render_page("notifications/inbox.html", page=page, labels=services.KIND_LABELS,
                       unread=_unread_now())


@bp.get("/notifications/<int:notification_id>")
@login_required
def show(notification_id: int):
    """Opening a notification marks it read."""
    notification = services.get_notification(current_user, notification_id)
    if notification is None:
        abort(404)
    services.mark_read(notification)
    return render_page("notifications/show.html", notification=notification,
                       labels=services.KIND_LABELS)


@bp.post("/notifications/tout-marquer-comme-lu")
@login_required
def mark_all_read():
    if services.mark_all_read(current_user):
        flash(_("Toutes vos notifications sont marquées comme lues."), "success")
    return see_other("notifications.inbox")


@bp.get("/notifications/compteur")
@background_request
def badge():
    """htmx polling: just the header badge. Without htmx, the inbox itself."""
    if not current_user.is_authenticated:
        # 286 tells htmx to stop polling: the session has ended.
        return make_response("", 286) if wants_fragment() else see_other("accounts.login")
    if not wants_fragment(BADGE_TARGET):
        return see_other("notifications.inbox")
    current_path = urlsplit(request.headers.get("HX-Current-URL", "")).path
    previously_shown = request.args.get("affiche", type=int)
    return render_page("notifications/_badge.html", block="notification_badge", target=BADGE_TARGET,
                       badge_is_current=current_path == url_for("notifications.inbox"),
                       previously_shown=previously_shown)


@bp.route("/compte/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    current = services.preferences_of(current_user)
    form = PreferencesForm(data=current if request.method == "GET" else None)
    if form.validate_on_submit():
        services.set_preferences(current_user, {k: form[k].data for k in SWITCHABLE_KINDS})
        flash(_("Vos préférences ont été enregistrées."), "success")
        return see_other("notifications.preferences")
    return render_page("notifications/preferences.html", form=form, kinds=SWITCHABLE_KINDS,
                       labels=services.KIND_LABELS, status=422 if form.errors else 200)
