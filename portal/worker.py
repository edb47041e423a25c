"""The background worker: delivers the outbox and runs periodic housekeeping.

Each task runs in its own transaction; a failing task is logged and retried on the
next pass, so work that must not be lost stays in the database until it is done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.core.models import WorkerGuard
from portal.db import utcnow

log = logging.getLogger(__name__)

Task = Callable[[], object]
TASKS: list[Task] = []


def task(fn: Task) -> Task:
    TASKS.append(fn)
    return fn


@task
def account_requests():
    """Registration and forgotten password/identifier: the worker decides, then delivers."""
    from portal.accounts.services import process_account_requests

    return process_account_requests()


@task
def deliver_outbox():
    from portal.mail.services import deliver_due

    return deliver_due()


@task
def purge_expired_auth_rows():
    """Expired tokens, dead sessions and old throttling rows are of no further use."""
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


SWEEP_EVERY = timedelta(hours=6)


def claim_period(name: str, every: timedelta, now: datetime | None = None) -> bool:
    """True for exactly one caller per period ``every``, across processes and machines.

    The guard lives in ``worker_guards`` and the claim is committed before the job runs, so a
    cron-driven ``worker --once`` and several workers agree on who runs it. A job that fails
    after its claim waits for the next period (these are housekeeping passes, not deliveries).
    """
    now = now or utcnow()
    claimed = db.session.execute(
        update(WorkerGuard).where(WorkerGuard.name == name, WorkerGuard.last_run_at <= now - every)
        .values(last_run_at=now)).rowcount == 1
    if not claimed and db.session.get(WorkerGuard, name) is None:
        try:
            with db.session.begin_nested():
                db.session.add(WorkerGuard(name=name, last_run_at=now))
            claimed = True
        except IntegrityError:  # another worker made the row first: its run counts
            claimed = False
    db.session.commit()
    return claimed


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
    from portal.files.services import sweep_orphans

    now = utcnow()
    if not claim_period("sweep_orphan_files", SWEEP_EVERY, now):
        return "skipped"
    return sweep_orphans(now=now)


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
