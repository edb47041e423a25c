"""The worker's side of uploads: the full check of pending files, the virus scan, the quota.

A request only screens an upload (``services.screen_upload``: size, signature, image header,
page tree) and stores it ``pending``; no upload holds a web worker for the parse, the decode
or the scan. ``check_pending_files`` (a worker task) then, one file per unit of work:

1. claims the row (a lease in ``check_after``: several workers never check the same file);
2. runs ``services.check_content`` on the stored bytes (PDF walk, image re-encoding);
3. scans the uploaded bytes with clamd when ``CLAMD_ADDRESS`` is set;
4. marks it ``ok`` (re-encoded bytes replace the upload) or ``rejected`` (bytes removed,
   the row kept with a French message, a notification sent). clamd unreachable leaves the
   file pending and retries later: a file is never accepted unscanned.

Packages whose tables hold files register them with ``register_holder`` (the wallet, the
démarches); the quota and the limit of pending uploads count every holder of one person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update

from portal import db
from portal.db import utcnow
from portal.files import clamd
from portal.files.models import OK, PENDING, REJECTED
from portal.files.services import (
    UploadRejected,
    check_content,
    delete_stored,
    load_bytes,
    megabytes,
    store_bytes,
)
from portal.worker import task

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # a claimed file is retried after this if its worker died
MAX_CLAIMS = 3  # a file whose check never finishes (worker killed) is refused after this
RETRY_DELAYS = (1, 2, 5, 10, 30, 60)  # minutes, while clamd is unreachable
BATCH = 20  # files per worker pass, so the other tasks still run
NOT_CHECKED_MESSAGE = ("Le fichier n'a pas pu être vérifié : enregistrez-le à nouveau (en PDF, JPEG "
                       "ou PNG) et déposez ce nouveau fichier.")
SCAN_WAITING_MESSAGE = "L'analyse antivirus est momentanément indisponible : le fichier sera vérifié dès que possible."


@dataclass(frozen=True)
class FileHolder:
    """A table whose rows hold uploaded files (``storage_key``, ``size``, ``original_name``,
    ``content_type`` and the columns of ``CheckedFileMixin``)."""

    model: type
    of_user: Callable  # (query, user_id) -> the query narrowed to that person's rows
    owner_id: Callable  # (row) -> the person's user id
    describe: Callable  # (row) -> (what the person calls it, link to the page that shows it)


def register_holder(app, holder: FileHolder) -> None:
    holders = app.extensions.setdefault("file_holders", [])
    if all(h.model is not holder.model for h in holders):
        holders.append(holder)


def holders() -> list[FileHolder]:
    return current_app.extensions.get("file_holders", [])


def page_path(endpoint: str, **values) -> str:
    """A path inside the portal for a notification's link, also from the worker."""
    from flask import has_request_context, url_for

    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


# --- per person: space used, pending uploads ----------------------------------------------------


def used_bytes(user_id: int) -> int:
    """Everything the person stores: wallet and procedures (rejected files hold no bytes)."""
    return sum(db.session.scalar(h.of_user(select(func.coalesce(func.sum(h.model.size), 0))
                                           .where(h.model.check_status != REJECTED), user_id))
               for h in holders())


def pending_count(user_id: int) -> int:
    return sum(db.session.scalar(h.of_user(select(func.count(h.model.id))
                                           .where(h.model.check_status == PENDING), user_id))
               for h in holders())


def quota_bytes() -> int:
    return int(current_app.config.get("WALLET_QUOTA_BYTES", 200 * 1024 * 1024))


def max_pending() -> int:
    return int(current_app.config.get("UPLOAD_MAX_PENDING", 5))


def lock_person(user_id: int) -> None:
    """Serialise one person's uploads (PostgreSQL row lock; SQLite requests already queue):
    two at once cannot both slip under the quota or the limit of pending files."""
    from portal.accounts.models import User

    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())


def check_space(user_id: int, size: int) -> None:
    """Raise UploadRejected (French) when ``size`` more bytes would exceed the person's quota."""
    lock_person(user_id)
    used, quota = used_bytes(user_id), quota_bytes()
    if used + size > quota:
        raise UploadRejected(
            f"Votre porte-documents est plein : ce fichier ({megabytes(size)}) dépasse l'espace "
            f"restant ({megabytes(max(quota - used, 0))} sur {megabytes(quota)}, documents de vos "
            "démarches compris). Supprimez des documents dont vous n'avez plus besoin, puis réessayez."
        )


def check_upload_allowed(user_id: int, size: int) -> None:
    """Before storing a new upload: room in the quota, and not too many files still waiting
    for their check (each costs the worker a full check)."""
    check_space(user_id, size)
    waiting = pending_count(user_id)
    if waiting >= max_pending():
        raise UploadRejected(
            f"Vous avez déjà {waiting} fichiers en cours de vérification : attendez quelques "
            "instants qu'ils soient vérifiés, puis déposez ce fichier à nouveau."
        )


# --- the worker's check -------------------------------------------------------------------------


@task
def check_pending_files():
    """Check the files waiting for it (several workers share the queue)."""
    return check_pending(limit=BATCH)


def check_pending(limit: int = BATCH, now: datetime | None = None) -> dict[str, int]:
    counts = {OK: 0, REJECTED: 0, "waiting": 0}
    for holder in holders():
        while sum(counts.values()) < limit:
            row_id = _claim(holder, now or utcnow())
            if row_id is None:
                break
            counts[_check_one(holder, row_id)] += 1
    return counts


def _claim(holder: FileHolder, now: datetime) -> int | None:
    """Take the oldest due pending file: a conditional UPDATE, so one worker only gets it."""
    model = holder.model
    due = (model.check_status == PENDING, or_(model.check_after.is_(None), model.check_after <= now))
    for row_id in db.session.scalars(select(model.id).where(*due).order_by(model.id).limit(5)).all():
        claimed = db.session.execute(
            update(model).where(model.id == row_id, *due)
            .values(check_after=now + LEASE, check_attempts=model.check_attempts + 1),
            execution_options={"synchronize_session": False}).rowcount
        db.session.commit()
        if claimed:
            return row_id
    db.session.rollback()
    return None


def _check_one(holder: FileHolder, row_id: int) -> str:
    row = db.session.get(holder.model, row_id, populate_existing=True)
    key, name = row.storage_key, row.original_name
    if row.check_attempts > MAX_CLAIMS and row.check_message is None:
        return _finish(holder, row_id, key, rejection=NOT_CHECKED_MESSAGE)  # it killed its workers
    original = load_bytes(key)
    db.session.rollback()  # no transaction held during the check (SQLite: no lock either)
    try:
        data, _type, _name = check_content(original, name)
    except UploadRejected as exc:
        return _finish(holder, row_id, key, rejection=str(exc))
    except Exception:  # a bug or a library crash on a hostile file: refused, and logged
        log.exception("checking stored file %s failed", key)
        return _finish(holder, row_id, key, rejection=NOT_CHECKED_MESSAGE)
    address = current_app.config.get("CLAMD_ADDRESS")
    if address:
        try:
            found = clamd.scan(original, address, float(current_app.config.get("CLAMD_TIMEOUT", 30)))
        except clamd.ScanUnavailable as exc:
            log.warning("virus scan unavailable (%s): file %s stays pending", exc, key)
            return _finish(holder, row_id, key, retry=True)
        if found:
            log.warning("virus found in stored file %s: %s", key, found)
            return _finish(holder, row_id, key, rejection=(
                f"Le fichier contient un virus ou un logiciel malveillant ({found}) : il est "
                "refusé. Analysez votre ordinateur, puis déposez un fichier sain."))
    return _finish(holder, row_id, key, checked=data if data != original else None)


def _finish(holder: FileHolder, row_id: int, key: str, rejection: str | None = None,
            retry: bool = False, checked: bytes | None = None) -> str:
    """Write the outcome in its own unit of work, if the row still holds the file checked
    (the person may have deleted or replaced it meanwhile)."""
    row = db.session.get(holder.model, row_id, populate_existing=True)
    if row is None or row.storage_key != key or row.check_status != PENDING:
        db.session.rollback()
        return "waiting"
    if retry:
        delay = RETRY_DELAYS[min(row.check_attempts, len(RETRY_DELAYS)) - 1]
        row.check_message = SCAN_WAITING_MESSAGE  # also tells the claim limit this is no crash
        row.check_after = utcnow() + timedelta(minutes=delay)
        db.session.commit()
        return "waiting"
    row.check_after = None
    if rejection:
        row.check_status, row.check_message = REJECTED, rejection[:500]
        delete_stored(key)
        _tell(holder, row, rejection)
    else:
        if checked is not None:  # the re-encoded image replaces the upload
            row.storage_key, row.size = store_bytes(checked), len(checked)
            delete_stored(key)
        row.check_status, row.check_message = OK, None
    db.session.commit()
    return REJECTED if rejection else OK


def _tell(holder: FileHolder, row, message: str) -> None:
    from portal.accounts.models import User
    from portal.notifications.services import notify

    user = db.session.get(User, holder.owner_id(row))
    label, link = holder.describe(row)
    notify(user, "document", f"Document refusé : « {label} »"[:200],
           f"Le fichier « {row.original_name} » a été vérifié et refusé. {message}", link=link)
