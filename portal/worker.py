"""The background worker: delivers the outbox and runs periodic housekeeping.

Each task runs in its own transaction; a failing task is logged and retried on the
next pass, so work that must not be lost stays in the database until it is done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import delete

from portal import db
from portal.db import utcnow

log = logging.getLogger(__name__)

Task = Callable[[], object]
TASKS: list[Task] = []


def task(fn: Task) -> Task:
    TASKS.append(fn)
    return fn


@task
def deliver_outbox():
    from portal.mail.services import deliver_due

    return deliver_due()


@task
def purge_expired_auth_rows():
    """Expired tokens, dead sessions and old throttling rows are of no further use."""
    from datetime import timedelta

    from flask import current_app

    from portal.accounts.models import AuthSession, LoginThrottle, Token

    now = utcnow()
    max_age = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    db.session.execute(delete(Token).where(Token.expires_at < now - timedelta(days=7)))
    db.session.execute(delete(AuthSession).where(AuthSession.created_at < now - max_age))
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - timedelta(days=1)))
    db.session.commit()


@task
def demarches_deadlines():
    """Workflow deadlines (e.g. implicit refusal after four months of silence)."""
    from portal.demarches.services import fire_deadlines

    return fire_deadlines()


@task
def demarches_purge_drafts():
    """Drafts untouched for months: a warning email, then deletion two weeks later."""
    from portal.demarches.services import purge_drafts

    return purge_drafts()


@task
def prepare_data_exports():
    """« Télécharger mes données »: build the waiting ZIPs, one transaction each."""
    from portal.exports.services import prepare_pending

    return prepare_pending()


@task
def purge_data_exports():
    """Exports are kept a few days (``DATA_EXPORT_DAYS``), then deleted with their files."""
    from portal.exports.services import purge_expired

    return purge_expired()


@task
def sweep_orphan_files():
    """Stored files no row refers to any more; listing the storage is slow, so every 6 hours."""
    from datetime import timedelta

    from flask import current_app

    from portal.files.services import sweep_orphans

    now = utcnow()
    last = current_app.extensions.get("files_last_sweep")
    if last is not None and now - last < timedelta(hours=6):
        return "skipped"
    removed = sweep_orphans(now=now)
    current_app.extensions["files_last_sweep"] = now
    return removed


def run_once() -> dict[str, object]:
    results: dict[str, object] = {}
    for fn in TASKS:
        try:
            results[fn.__name__] = fn()
        except Exception:  # one task's failure must not stop the others
            db.session.rollback()
            log.exception("worker task %s failed", fn.__name__)
            results[fn.__name__] = "error"
    return results


def run_forever(interval: float = 5.0, stop: Callable[[], bool] = lambda: False) -> None:
    while not stop():
        run_once()
        db.session.remove()
        time.sleep(interval)
