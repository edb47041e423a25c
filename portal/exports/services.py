"""Prepare, serve and expire personal-data exports (RGPD: access and portability).

The ZIP holds ``donnees.json`` (account, preferences, relations, requests with their history
and answers, notifications, Porte-documents entries) and the files themselves, decrypted:
``porte-documents/…`` and ``demarches/<dossier>/…``. The worker writes it file by file into a
temporary file on disk, then stores it encrypted through ``portal.files`` in slices of
``PART_BYTES``: memory stays bounded by one file and one slice, whatever the export's size.
"""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from portal import db
from portal.db import utcnow
from portal.exports.models import DataExport, DataExportPart

log = logging.getLogger(__name__)

PART_BYTES = 4 * 1024 * 1024
KEEP_DAYS = 3
JSON_NAME = "donnees.json"


def keep_days() -> int:
    """How long a prepared export stays downloadable (``DATA_EXPORT_DAYS``, 3 by default)."""
    return int(current_app.config.get("DATA_EXPORT_DAYS", KEEP_DAYS))


# --- asking and finding ------------------------------------------------------------------------


def request_export(user) -> DataExport:
    """A new export to prepare; one already waiting is reused (a double click asks once)."""
    pending = db.session.scalar(select(DataExport).where(DataExport.user_id == user.id,
                                                         DataExport.status == "pending"))
    if pending is not None:
        return pending
    export = DataExport(user_id=user.id, status="pending")
    db.session.add(export)
    db.session.flush()
    return export


def exports_of(user) -> list[DataExport]:
    return list(db.session.scalars(select(DataExport).where(DataExport.user_id == user.id)
                                   .order_by(DataExport.created_at.desc(), DataExport.id.desc())))


def get_export(user, export_id: int) -> DataExport | None:
    """The person's own ready export, or None (another account's is never found)."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.user_id != user.id or export.status != "ready":
        return None
    if export.expires_at is not None and export.expires_at <= utcnow():
        return None
    return export


def stream(export: DataExport) -> Iterator[bytes]:
    """The ZIP, decrypted slice by slice. The keys are read now: the response is sent after
    the request's transaction has ended."""
    from portal.files.services import load_bytes

    keys = [part.storage_key for part in export.parts]

    def slices() -> Iterator[bytes]:
        for key in keys:
            yield load_bytes(key)

    return slices()


# --- what the portal holds about a person ------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj, columns: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in columns}


def collect(user) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The JSON document and the files to add: (name in the ZIP, storage key)."""
    from portal.demarches import get_procedure
    from portal.demarches.models import Dossier
    from portal.notifications.models import Notification
    from portal.notifications.services import preferences_of
    from portal.relations.services import relations_for
    from portal.wallet.services import documents_of

    files: list[tuple[str, str]] = []
    account = _row(user, ("identifier", "email", "role", "organisation", "status", "language", "civilite",
                          "nom", "prenom", "date_naissance", "lieu_naissance", "adresse", "code_postal",
                          "commune", "telephone", "created_at"))
    relations = [_row(r, ("id", "kind", "civilite", "nom", "prenom", "date_naissance", "raison_sociale",
                          "siret", "adresse", "code_postal", "commune", "created_at", "updated_at"))
                 for r in relations_for(user)]
    wallet = []
    for doc in sorted(documents_of(user), key=lambda d: d.id):
        name = f"porte-documents/{doc.id}-{doc.original_name}"
        if doc.check_status == "rejected":  # refused by the check: its bytes are gone
            name = None
        else:
            files.append((name, doc.storage_key))
        wallet.append({**_row(doc, ("id", "kind", "title", "relation_id", "original_name", "content_type",
                                    "size", "issued_on", "valid_until", "created_at")), "fichier": name})
    dossiers = []
    for dossier in db.session.scalars(select(Dossier).where(Dossier.user_id == user.id).order_by(Dossier.id)):
        procedure = get_procedure(dossier.procedure_id)
        attached = []
        for f in dossier.files:
            name = f"demarches/{dossier.reference or 'brouillon-' + str(dossier.id)}/{f.id}-{f.original_name}"
            if f.check_status == "rejected":  # refused by the check: its bytes are gone
                name = None
            else:
                files.append((name, f.storage_key))
            attached.append({"champ": f.field_id, "nom": f.original_name, "type": f.content_type,
                             "taille": f.size, "fichier": name})
        dossiers.append({
            **_row(dossier, ("id", "procedure_id", "reference", "status", "created_at", "updated_at",
                             "submitted_at", "decided_at", "current_step")),
            "demarche": procedure.title if procedure else dossier.procedure_id,
            "brouillon": dossier.reference is None,
            "pour": dossier.beneficiary,
            "reponses": dossier.answers,
            "donnees_de_decision": dossier.status_data,
            "historique": [{**_row(e, ("status", "previous_status", "by_label", "note", "created_at")),
                            "donnees": e.data} for e in dossier.events],
            "fichiers": attached,
        })
    notifications = [_row(n, ("kind", "subject", "message", "link", "created_at", "read_at"))
                     for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                                 .order_by(Notification.id))]
    document = {
        "portail": current_app.config["PORTAL_NAME"],
        "exporte_le": utcnow().isoformat(),
        "compte": account,
        "preferences": {"emails_par_type_de_notification": preferences_of(user), "langue": user.language},
        "relations": relations,
        "demandes": dossiers,
        "notifications": notifications,
        "porte_documents": wallet,
    }
    return document, files


# --- the worker ---------------------------------------------------------------------------------


def prepare_pending(limit: int = 5) -> int:
    """Build waiting exports, one unit of work each; the person is notified when it is ready."""
    done = 0
    ids = list(db.session.scalars(select(DataExport.id).where(DataExport.status == "pending")
                                  .order_by(DataExport.id).limit(limit)))
    db.session.rollback()
    for export_id in ids:
        export = db.session.get(DataExport, export_id)
        if export is None or export.status != "pending":
            continue
        try:
            _build(export)
            db.session.commit()
            done += 1
        except Exception:  # the row stays pending: the next pass tries again
            db.session.rollback()
            log.exception("data export %s failed", export_id)
    return done


def _build(export: DataExport) -> None:
    from portal.accounts.models import User
    from portal.files.services import load_bytes, store_bytes
    from portal.notifications.services import notify

    user = db.session.get(User, export.user_id)
    document, files = collect(user)
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(JSON_NAME, json.dumps(document, ensure_ascii=False, indent=2))
            for name, key in files:
                archive.writestr(name, load_bytes(key))  # one file in memory at a time
        export.size = spool.tell()
        spool.seek(0)
        position = 0
        while chunk := spool.read(PART_BYTES):
            export.parts.append(DataExportPart(position=position, storage_key=store_bytes(chunk)))
            position += 1
    now = utcnow()
    export.status, export.ready_at = "ready", now
    export.expires_at = now + timedelta(days=keep_days())
    from portal.demarches.services import path_for

    link = path_for("exports.page")
    notify(user, "security", "Vos données sont prêtes",
           f"Le fichier de vos données est prêt. Téléchargez-le depuis « Mon compte », « Télécharger "
           f"mes données », avant le {export.expires_at:%d/%m/%Y} : il sera ensuite supprimé.", link)


def purge_expired(now: datetime | None = None) -> int:
    """Exports past their date go, with their stored slices (after the commit)."""
    now = now or utcnow()
    expired = list(db.session.scalars(select(DataExport).where(DataExport.expires_at <= now)))
    for export in expired:
        delete_exports([export])
    db.session.commit()
    return len(expired)


def delete_exports(exports: list[DataExport]) -> None:
    from portal.files.services import delete_stored

    for export in exports:
        for part in export.parts:
            delete_stored(part.storage_key)
        db.session.delete(export)


def delete_user_exports(user) -> None:
    """Account deletion hook: the stored slices go with the rows."""
    delete_exports(list(db.session.scalars(select(DataExport).where(DataExport.user_id == user.id))))
