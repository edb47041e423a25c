"""Domain operations on dossiers. Services never commit: the request (or the task) does."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from portal import db
from portal.db import utcnow
from portal.demarches import engine, get_procedure
from portal.demarches.definitions import Procedure, Status
from portal.demarches.models import Dossier, DossierEvent, DossierFile, DraftStash, ReferenceCounter

PARIS = ZoneInfo("Europe/Paris")
SYSTEM_LABEL = "Système (échéance automatique)"


class WorkflowError(ValueError):
    """A status change that the workflow does not allow; the message is French."""


def today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(PARIS).date()


def settings(now: datetime | None = None) -> engine.Settings:
    cfg = current_app.config
    return engine.Settings(today(now), cfg["DEMARCHES_DEPARTEMENT"], cfg["DEMARCHES_DEPARTEMENT_NAME"])


def french_date(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return value.strftime("%d/%m/%Y")


# --- drafts --------------------------------------------------------------------------------


class BeneficiaryRefused(ValueError):
    """The chosen relation may not benefit from this procedure (e.g. a legal person for a CMI)."""


def check_beneficiary(procedure: Procedure, relation) -> None:
    """Server-side rule: only relations of a kind the definition allows (never a legal person
    for the CMI procedures, whose definitions list natural kinds only)."""
    if relation is not None and relation.kind not in procedure.relation_kinds:
        raise BeneficiaryRefused("Cette démarche ne peut pas être faite pour cette personne.")
    if relation is None and not procedure.for_self:
        raise BeneficiaryRefused("Cette démarche se fait pour un organisme : choisissez-le parmi vos "
                                 "relations, ou ajoutez-le.")


class DraftLimitReached(ValueError):
    """The person already has as many open drafts of this procedure as allowed."""

    def __init__(self, drafts: list[Dossier]):
        super().__init__(f"Vous avez déjà {len(drafts)} brouillons de cette démarche en cours.")
        self.drafts = drafts


def open_drafts(user, procedure: Procedure) -> list[Dossier]:
    return list(db.session.scalars(
        select(Dossier).where(Dossier.user_id == user.id, Dossier.procedure_id == procedure.id,
                              Dossier.submitted_at.is_(None))
        .order_by(Dossier.updated_at.desc(), Dossier.id.desc())))


def check_draft_limit(user, procedure: Procedure) -> None:
    """``DEMARCHES_MAX_DRAFTS`` open drafts per procedure and person (serialised per person)."""
    from portal.accounts.models import User

    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    drafts = open_drafts(user, procedure)
    if len(drafts) >= int(current_app.config["DEMARCHES_MAX_DRAFTS"]):
        raise DraftLimitReached(drafts)


def start_draft(user, procedure: Procedure, relation=None) -> Dossier:
    """A new draft, for the person or for one of their relations (``relation``), whose
    fields are prefilled from the beneficiary: the relation's identity and address, the
    account's contact details. Raises DraftLimitReached beyond the allowed open drafts."""
    check_beneficiary(procedure, relation)
    check_draft_limit(user, procedure)
    source = user
    beneficiary = None
    if relation is not None:
        from types import SimpleNamespace

        from portal.demarches.definitions import PROFILE_FIELDS as PROFILE_ATTRIBUTES
        from portal.relations import services as relations

        values = {name: getattr(user, name, None) for name in PROFILE_ATTRIBUTES}
        values.update({k: v for k, v in relations.prefill_from(relation).items() if k in PROFILE_ATTRIBUTES})
        values["lieu_naissance"] = None  # the account's own birthplace is not the relation's
        source = SimpleNamespace(**values)
        beneficiary = relations.snapshot(relation)
    answers = engine.prefill(procedure, source)
    dossier = Dossier(user_id=user.id, procedure_id=procedure.id, answers=answers,
                      field_versions={k: 1 for k in answers}, version=1,
                      current_step=procedure.steps[0].id, beneficiary=beneficiary)
    db.session.add(dossier)
    db.session.flush()
    return dossier


def recent_untouched_draft(user, procedure: Procedure, relation=None, seconds: int = 30) -> Dossier | None:
    """A draft just started and not yet saved: a double click on "Commencer" reuses it
    (only if it is for the same beneficiary)."""
    wanted = relation.id if relation is not None else None
    candidates = db.session.scalars(
        select(Dossier).where(Dossier.user_id == user.id, Dossier.procedure_id == procedure.id,
                              Dossier.submitted_at.is_(None), Dossier.version == 1,
                              Dossier.created_at >= utcnow() - timedelta(seconds=seconds))
        .order_by(Dossier.id.desc()).limit(5))
    return next((d for d in candidates if d.relation_id == wanted), None)


def refresh_beneficiary(dossier: Dossier, procedure: Procedure) -> None:
    """At submission, the relation as it is now (if it still exists and is still allowed);
    after submission the snapshot never changes again."""
    if not dossier.beneficiary or not dossier.relation_id:
        return
    from portal.relations import services as relations
    from portal.relations.models import Relation

    relation = db.session.get(Relation, dossier.relation_id)
    if relation is not None and relation.user_id == dossier.user_id and relation.kind in procedure.relation_kinds:
        dossier.beneficiary = relations.snapshot(relation)


def user_dossier(user, dossier_id: int) -> Dossier | None:
    """The dossier if it belongs to this account; None otherwise (the view answers 404)."""
    dossier = db.session.get(Dossier, dossier_id)
    if dossier is None or dossier.user_id != user.id or get_procedure(dossier.procedure_id) is None:
        return None
    return dossier


def find_by_reference(reference: str) -> Dossier | None:
    return db.session.scalar(select(Dossier).where(Dossier.reference == reference.strip().upper()))


def linked_candidates(user_id: int, procedure_id: str) -> list[Dossier]:
    """Requests of this person that received a decision, for a RAPO."""
    return list(db.session.scalars(
        select(Dossier).where(Dossier.user_id == user_id, Dossier.procedure_id == procedure_id,
                              Dossier.decided_at.is_not(None)).order_by(Dossier.decided_at.desc())))


def context_for(dossier: Dossier, procedure: Procedure, now: datetime | None = None) -> dict[str, Any]:
    """Values that conditions may read as ``$name``: the deployment, the linked request."""
    cfg = current_app.config
    context: dict[str, Any] = {"departement_name": cfg["DEMARCHES_DEPARTEMENT_NAME"],
                               "departement": cfg["DEMARCHES_DEPARTEMENT"]}
    for f in procedure.all_fields().values():
        if f.type != "linked_request":
            continue
        options = linked_candidates(dossier.user_id, f.get("procedure"))
        context[f"choices_{f.id}"] = [
            {"value": d.reference, "label": f"{d.reference} — {status_label(d)} le {french_date(d.decided_at)}"}
            for d in options]
        chosen = next((d for d in options if d.reference == dossier.answers.get(f.id)), None)
        if chosen is not None:
            context["filiere"] = chosen.answers.get("filiere", "")
            context["date_decision"] = french_date(chosen.decided_at)
            limit = engine.add_months(chosen.decided_at.astimezone(PARIS).date(), 2)
            context["delai_depasse"] = "oui" if today(now) > limit else "non"
    return context


@dataclass
class SaveResult:
    applied: list[str] = field(default_factory=list)
    conflicts: dict[str, Any] = field(default_factory=dict)  # field -> value stored elsewhere
    changed_elsewhere: list[str] = field(default_factory=list)


def save_answers(dossier: Dossier, submitted: dict[str, Any], base: dict[str, Any] | None,
                 step_id: str | None = None) -> SaveResult:
    """Three-way merge per field: what the page showed (base), what is stored, what is sent.

    A field the person changed is applied unless it was also changed elsewhere to another
    value (a conflict, refused and reported); a field changed elsewhere only is kept as
    stored. Two tabs never overwrite each other silently: if another save committed between
    our read and our write, the version check fails and the merge is done again.
    """
    return _update_own_columns(dossier, lambda: _merge(dossier, submitted, base, step_id))


def _update_own_columns(dossier: Dossier, change):
    """``_update`` for a change to the dossier's own columns only (an autosave): the versioned
    UPDATE is written directly, so no savepoint is needed (an UPDATE that matches no row leaves
    the transaction whole) and the save costs one statement."""
    columns = [attr.key for attr in sa_inspect(Dossier).column_attrs]
    for _attempt in range(3):
        read_version = dossier.version
        result = change()
        state = sa_inspect(dossier)
        values = {key: getattr(dossier, key) for key in columns if state.attrs[key].history.has_changes()}
        table = Dossier.__table__
        with db.session.no_autoflush:  # the ORM must not write the same change first
            written = db.session.execute(
                update(table).where(table.c.id == dossier.id, table.c.version == read_version).values(**values)
            ).rowcount if values else 1
        if written == 1:
            for key in columns:  # written (or set to what it was): nothing left for the flush
                if key in values or key in state.committed_state:
                    set_committed_value(dossier, key, getattr(dossier, key))
            return result
        db.session.refresh(dossier)  # another save won the race: merge again on what it wrote
    raise RuntimeError("draft kept changing during the save")


def _update(dossier: Dossier, change):
    """Run ``change`` and write it; if another save won the race, reload and run it again."""
    for _attempt in range(3):
        try:
            with db.session.begin_nested():
                result = change()
                db.session.flush()
            return result
        except StaleDataError:
            db.session.refresh(dossier)
    raise RuntimeError("draft kept changing during the save")


def mark_step(dossier: Dossier, step_id: str) -> None:
    """Remember where the person is, without competing with their saves (no version check)."""
    db.session.execute(update(Dossier).where(Dossier.id == dossier.id).values(current_step=step_id),
                       execution_options={"synchronize_session": False})
    set_committed_value(dossier, "current_step", step_id)


def touch(dossier: Dossier) -> None:
    """The person came back to the draft: the purge clock starts again."""
    now = utcnow()
    db.session.execute(update(Dossier).where(Dossier.id == dossier.id)
                       .values(updated_at=now, purge_warned_at=None),
                       execution_options={"synchronize_session": False})
    set_committed_value(dossier, "updated_at", now)
    set_committed_value(dossier, "purge_warned_at", None)


def _merge(dossier: Dossier, submitted: dict[str, Any], base: dict[str, Any] | None,
           step_id: str | None) -> SaveResult:
    result = SaveResult()
    stored = dict(dossier.answers or {})
    versions = dict(dossier.field_versions or {})
    new_version = dossier.version + 1
    for name, value in submitted.items():
        current = stored.get(name)
        reference = current if base is None or name not in base else base.get(name)
        mine = not _same(value, reference)
        theirs = not _same(current, reference)
        if theirs and not _same(value, current):
            if mine:
                result.conflicts[name] = current
            else:
                result.changed_elsewhere.append(name)
            continue
        if mine and not _same(value, current):
            stored[name] = value
            versions[name] = new_version
            result.applied.append(name)
    if result.applied:
        dossier.answers = stored
        dossier.field_versions = versions
        dossier.version = new_version
    if step_id:
        dossier.current_step = step_id
    dossier.updated_at = utcnow()
    dossier.purge_warned_at = None
    return result


def _same(a: Any, b: Any) -> bool:
    if engine.is_empty(a) and engine.is_empty(b):
        return True
    return a == b


def attach_file(dossier: Dossier, field_id: str, upload) -> DossierFile:
    """Screen and store the upload, pending the worker's full check, and make it the answer
    of the field. It counts towards the person's quota (wallet and procedures together)."""
    from portal.files import checks
    from portal.files.services import StoredFile, screen_upload, store_bytes

    data, content_type, name = screen_upload(upload)  # raises UploadRejected (French)
    checks.check_upload_allowed(dossier.user_id, len(data))
    stored = StoredFile(store_bytes(data), name, content_type, len(data), checks.PENDING)
    return attach_stored(dossier, field_id, stored)


def attach_stored(dossier: Dossier, field_id: str, stored, extra: dict[str, Any] | None = None) -> DossierFile:
    """Make an already stored file (upload, or wallet copy) the answer of the field.

    ``extra`` goes into the answer: for a wallet document, its freshness warning.
    """
    from portal.files.services import delete_stored

    def change():
        replaced = _drop_rows(dossier, field_id)
        row = DossierFile(dossier=dossier, field_id=field_id, storage_key=stored.key,
                          original_name=stored.original_name, content_type=stored.content_type,
                          size=stored.size, check_status=stored.check_status)
        db.session.add(row)
        db.session.flush()
        dossier.version += 1
        dossier.answers = {**dossier.answers,
                           field_id: {"file_id": row.id, "name": row.original_name, **(extra or {})}}
        dossier.field_versions = {**(dossier.field_versions or {}), field_id: dossier.version}
        dossier.updated_at = utcnow()
        return row, replaced

    row, replaced = _update(dossier, change)
    for key in replaced:
        delete_stored(key)
    return row


# --- the wallet in procedures ----------------------------------------------------------------


def wallet_choices(user, dossier: Dossier, field) -> list:
    """The wallet documents offered for a file field: the beneficiary's, of the field's kind,
    qualifying ones first (freshness: the field's ``max_age_days`` or the wallet's rule)."""
    from portal.wallet import services as wallet

    return wallet.documents_for(user, field.get("wallet_kind"), field.get("max_age_days"),
                                dossier.relation_id, today=today())


def attach_from_wallet(user, dossier: Dossier, field, document_id: str) -> DossierFile:
    """"Choisir dans mon porte-documents": the document is copied into the request, so
    deleting it from the wallet later leaves the request whole."""
    from portal.files.services import UploadRejected
    from portal.wallet import services as wallet

    choice = next((c for c in wallet_choices(user, dossier, field) if str(c.document.id) == document_id), None)
    if choice is None:
        raise UploadRejected("Choisissez un document de votre porte-documents dans la liste.")
    wallet.check_quota(user, choice.document.size)  # the request keeps its own copy
    stored = wallet.copy_to_request(choice.document)
    dates = wallet.DocumentDates(choice.document.issued_on, choice.document.valid_until)
    extra = {"wallet_document": choice.document.id, **dates.as_answer()}
    return attach_stored(dossier, field.id, stored, extra)


def keep_file_in_wallet(user, dossier: Dossier, field, row: DossierFile) -> None:
    """"Conserver aussi ce fichier dans mon porte-documents": an independent copy, for the
    beneficiary, of the field's kind. A full wallet refuses it (UploadRejected, French)."""
    from portal.files.services import StoredFile
    from portal.wallet import services as wallet

    relation_id = dossier.relation_id
    if relation_id is not None and relation_id not in dict(wallet.relation_choices(user)):
        return  # the relation was deleted meanwhile: nobody to file the copy under
    stored = StoredFile(row.storage_key, row.original_name, row.content_type, row.size)
    with db.session.begin_nested():
        wallet.keep_in_wallet(user, stored, field.get("wallet_kind") or "autre", field.label[:150],
                              relation_id=relation_id)


def file_warning(field, value: Any, now: datetime | None = None) -> str:
    """Why a document chosen in the wallet is stale or expired, judged today, not when it was
    chosen: a draft resumed months later flags the photo that has grown too old."""
    from portal.wallet import services as wallet

    if not (isinstance(value, dict) and value.get("wallet_document")):
        return ""
    if "issued_on" not in value:  # chosen before the dates were kept with the answer
        return value.get("warning") or ""
    return wallet.freshness_warning(wallet.DocumentDates.from_answer(value), field.get("wallet_kind"),
                                    field.get("max_age_days"), today(now))


def file_warnings(procedure: Procedure, dossier: Dossier, context: dict) -> list[tuple[Any, str]]:
    """Visible file answers chosen in the wallet that are stale or expired: [(field, message)]."""
    result = []
    for step in engine.visible_steps(procedure, dossier.answers, context):
        for f in engine.visible_fields(step, procedure, dossier.answers, context):
            if f.type == "file" and (message := file_warning(f, dossier.answers.get(f.id))):
                result.append((f, message))
    return result


def file_row(dossier: Dossier, value: Any) -> DossierFile | None:
    """The stored file an answer names (``{"file_id": …}``), if it is still there."""
    if not (isinstance(value, dict) and value.get("file_id")):
        return None
    return next((row for row in dossier.files if row.id == value["file_id"]), None)


def file_check_errors(procedure: Procedure, dossier: Dossier, context: dict,
                      steps=None, waiting: bool = True) -> dict[str, dict[str, str]]:
    """Visible file answers not usable yet, per step: refused at the check, or (``waiting``)
    still being checked. A request is submitted only with checked files."""
    problems: dict[str, dict[str, str]] = {}
    for step in steps or engine.visible_steps(procedure, dossier.answers, context):
        for f in engine.visible_fields(step, procedure, dossier.answers, context):
            row = file_row(dossier, dossier.answers.get(f.id)) if f.type == "file" else None
            if row is None or row.is_checked or (row.is_pending and not waiting):
                continue
            if row.is_rejected:
                message = (f"Le fichier « {row.original_name} » a été refusé : {row.check_message} "
                           f"Déposez un autre fichier pour « {f.label} ».")
            else:
                message = (f"Le fichier « {row.original_name} » est en cours de vérification : "
                           "attendez quelques instants, puis rechargez la page avant de déposer votre demande.")
            problems.setdefault(step.id, {})[f.id] = message
    return problems


def register_file_holder(app) -> None:
    """Files of procedures count in the person's quota and are checked by the worker."""
    from portal.files import checks

    checks.register_holder(app, checks.FileHolder(
        DossierFile,
        of_user=lambda query, user_id: query.join(Dossier, Dossier.id == DossierFile.dossier_id)
        .where(Dossier.user_id == user_id),
        owner_id=lambda row: row.dossier.user_id, describe=_describe_file))


def _describe_file(row: DossierFile) -> tuple[str, str]:
    """How a refusal names a procedure's file, and the page that shows it."""
    from portal.files.checks import page_path

    dossier = row.dossier
    procedure = get_procedure(dossier.procedure_id)
    field = procedure.all_fields().get(row.field_id) if procedure else None
    label = field.label if field is not None and field.label else row.original_name
    if not dossier.is_draft:
        return label, page_path("demarches.request_page", reference=dossier.reference)
    step = next((s for s in procedure.steps if any(f.id == row.field_id for f in s.fields)), None) \
        if procedure else None
    if step is None:
        return label, page_path("demarches.resume", dossier_id=dossier.id)
    return label, page_path("demarches.step", dossier_id=dossier.id, step_id=step.id)


def remove_file(dossier: Dossier, field_id: str) -> None:
    from portal.files.services import delete_stored

    def change():
        removed = _drop_rows(dossier, field_id)
        if field_id in (dossier.answers or {}):
            dossier.answers = {k: v for k, v in dossier.answers.items() if k != field_id}
            dossier.version += 1
            dossier.field_versions = {**(dossier.field_versions or {}), field_id: dossier.version}
        return removed

    for key in _update(dossier, change):
        delete_stored(key)


def _drop_rows(dossier: Dossier, field_id: str) -> list[str]:
    """Delete the file rows of a field; returns their storage keys (removed once written)."""
    keys = []
    for row in [f for f in dossier.files if f.field_id == field_id]:
        keys.append(row.storage_key)
        dossier.files.remove(row)
        db.session.delete(row)
    return keys


def delete_draft(dossier: Dossier) -> None:
    from portal.files.services import delete_stored

    for row in dossier.files:
        delete_stored(row.storage_key)
    db.session.delete(dossier)


def delete_user_dossiers(user) -> None:
    """Account deletion hook: the stored files go with the rows (which cascade)."""
    from portal.files.services import delete_stored

    for row in db.session.scalars(select(DossierFile).join(Dossier).where(Dossier.user_id == user.id)):
        delete_stored(row.storage_key)


# --- the session expired while typing ------------------------------------------------------


def stash_answers(dossier_id: int, step_id: str, data: dict[str, Any]) -> str:
    """Keep answers posted without a live session; returns the token for the login link."""
    token = secrets.token_urlsafe(24)
    db.session.add(DraftStash(token_hash=hashlib.sha256(token.encode()).hexdigest(),
                              dossier_id=dossier_id, step_id=step_id, data=data))
    return token


def apply_stash(dossier: Dossier, token: str | None) -> DraftStash | None:
    if not token:
        return None
    row = db.session.scalar(select(DraftStash).where(
        DraftStash.token_hash == hashlib.sha256(token.encode()).hexdigest(),
        DraftStash.dossier_id == dossier.id))
    if row is None:
        return None
    db.session.delete(row)
    return row


# --- submission ----------------------------------------------------------------------------


def allocate_reference(prefix: str, year: int) -> str:
    """The next number for prefix and year; the UPDATE takes the row lock on PostgreSQL."""
    for _ in range(5):
        value = db.session.execute(
            update(ReferenceCounter)
            .where(ReferenceCounter.prefix == prefix, ReferenceCounter.year == year)
            .values(value=ReferenceCounter.value + 1)
            .returning(ReferenceCounter.value),
            execution_options={"synchronize_session": False},
        ).scalar()
        if value is not None:
            return f"{prefix}-{year}-{value:06d}"
        try:
            with db.session.begin_nested():
                db.session.add(ReferenceCounter(prefix=prefix, year=year, value=0))
        except IntegrityError:
            continue
    raise RuntimeError("reference counter unavailable")


def submit(dossier: Dossier, procedure: Procedure, context: dict, now: datetime | None = None) -> bool:
    """Turn the draft into a request, once. False when it was already submitted (double click)."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(Dossier).where(Dossier.id == dossier.id, Dossier.submitted_at.is_(None))
        .values(submitted_at=now, version=Dossier.version + 1),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not claimed:
        db.session.refresh(dossier)
        return False
    db.session.refresh(dossier)
    dossier.answers = engine.prune_hidden(procedure, dossier.answers, context)
    kept = {v["file_id"] for v in dossier.answers.values() if isinstance(v, dict) and "file_id" in v}
    for row in [f for f in dossier.files if f.id not in kept]:
        from portal.files.services import delete_stored

        delete_stored(row.storage_key)
        dossier.files.remove(row)
        db.session.delete(row)
    refresh_beneficiary(dossier, procedure)
    dossier.reference = allocate_reference(procedure.reference_prefix, now.astimezone(PARIS).year)
    _enter_status(dossier, procedure, procedure.workflow.initial, None, "", {}, now)
    from portal.mail.services import queue_email
    from portal.notifications.services import add_to_inbox, email_wanted

    user = dossier_user(dossier)
    initial = procedure.workflow.statuses[procedure.workflow.initial]
    add_to_inbox(user, "status", f"Votre demande {dossier.reference} a bien été déposée",
                 f"{procedure.title} ({dossier.beneficiary_label}) : {initial.label}. {initial.message}".strip(),
                 link=path_for("demarches.request_page", reference=dossier.reference))
    # The confirmation email is this change's one email, sent only if "status" emails are on.
    # Like every email it carries links to the portal, never the request's content (not even
    # the procedure's title): the reference, the date, the request page and the receipt.
    if email_wanted(user, "status"):
        queue_email(user.email, "Votre demande a bien été déposée", "demarche_submitted", user=user,
                    reference=dossier.reference, submitted_on=french_date(now),
                    url=link("demarches.request_page", reference=dossier.reference),
                    receipt_url=link("demarches.receipt", reference=dossier.reference))
    return True


def path_for(endpoint: str, **values) -> str:
    """A path inside the portal (for notification links), also without a request."""
    from flask import has_request_context, url_for

    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def link(endpoint: str, **values) -> str:
    """An absolute link for an email, also from a command or the worker (no request)."""
    from flask import has_request_context

    from portal.mail.services import absolute_url

    if has_request_context():
        return absolute_url(endpoint, **values)
    with current_app.test_request_context():
        return absolute_url(endpoint, **values)


def dossier_user(dossier: Dossier):
    from portal.accounts.models import User

    return db.session.get(User, dossier.user_id)


# --- workflow ------------------------------------------------------------------------------


def status_of(dossier: Dossier) -> Status | None:
    procedure = get_procedure(dossier.procedure_id)
    if procedure is None or procedure.workflow is None or dossier.status is None:
        return None
    return procedure.workflow.statuses.get(dossier.status)


def status_label(dossier: Dossier) -> str:
    """The label the person sees: a hidden status shows the last visible one."""
    procedure = get_procedure(dossier.procedure_id)
    status = status_of(dossier)
    if status is None:
        return "Brouillon"
    if status.visible:
        return status.label
    for event in reversed(dossier.events):
        shown = procedure.workflow.statuses.get(event.status)
        if shown and shown.visible:
            return shown.label
    return procedure.workflow.statuses[procedure.workflow.initial].label


def last_visible_change(dossier: Dossier) -> datetime | None:
    """When the person last saw the status change (hidden statuses do not count)."""
    history = visible_history(dossier)
    return history[-1][0].created_at if history else dossier.submitted_at


def visible_history(dossier: Dossier) -> list[tuple[DossierEvent, Status]]:
    procedure = get_procedure(dossier.procedure_id)
    statuses = procedure.workflow.statuses
    return [(e, statuses[e.status]) for e in dossier.events
            if e.status in statuses and statuses[e.status].visible]


def change_status(dossier: Dossier, status_id: str, by=None, note: str = "",
                  data: dict[str, Any] | None = None, now: datetime | None = None,
                  system: bool = False) -> DossierEvent:
    """An agent's transition (or a deadline's when ``system``), recorded with who and when."""
    procedure = get_procedure(dossier.procedure_id)
    workflow = procedure.workflow
    if dossier.is_draft:
        raise WorkflowError("Un brouillon n'a pas de statut.")
    if status_id not in workflow.statuses:
        raise WorkflowError(f"Statut inconnu « {status_id} » (possibles : {', '.join(workflow.statuses)}).")
    if not system and status_id not in workflow.transitions.get(dossier.status, []):
        allowed = ", ".join(workflow.transitions.get(dossier.status, [])) or "aucun"
        raise WorkflowError(f"Passage de « {dossier.status} » à « {status_id} » non prévu "
                            f"(possibles : {allowed}).")
    status = workflow.statuses[status_id]
    data = dict(data or {})
    errors: dict[str, str] = {}
    for f in status.data:
        if f.type == "checkboxes" and isinstance(data.get(f.id), str):
            data[f.id] = [data[f.id]]  # one ticked box typed on a command line is still a list
        errors.update(engine.validate_value(f, data.get(f.id), settings(now)))
    basis = {**(dossier.answers or {}), **data}
    fields = {**procedure.all_fields(), **{f.id: f for f in status.data}}
    for rule in status.rules:
        if rule["field"] not in errors and engine.evaluate(rule["if"], basis, fields):
            errors[rule["field"]] = rule["message"]
    if errors:
        raise WorkflowError(" ".join(errors.values()))
    label = by.email if by is not None else SYSTEM_LABEL
    return _enter_status(dossier, procedure, status_id, by, note, data, now or utcnow(), label)


def _enter_status(dossier: Dossier, procedure: Procedure, status_id: str, by, note: str,
                  data: dict[str, Any], now: datetime, label: str | None = None) -> DossierEvent:
    workflow = procedure.workflow
    status = workflow.statuses[status_id]
    event = DossierEvent(dossier=dossier, status=status_id, previous_status=dossier.status,
                         by_user_id=by.id if by is not None else None,
                         by_label=label or (by.email if by is not None else dossier_user(dossier).email),
                         note=note, data=data or None, created_at=now)
    db.session.add(event)
    first = dossier.status is None
    dossier.status = status_id
    dossier.status_changed_at = now
    if data:
        dossier.status_data = {**(dossier.status_data or {}), **data}
    if status.decision:
        dossier.decided_at = now
    deadline = workflow.deadline_for(status_id)
    if deadline is None:
        dossier.deadline_at = None
    elif first or dossier.deadline_at is None:
        # The silence deadline runs from the submission, not from each intermediate status.
        start = dossier.submitted_at or now
        dossier.deadline_at = _after(start, deadline)
    if not first and status.visible and status.notify:
        _notify(dossier, procedure, status, event)
    return event


def _after(start: datetime, deadline: dict) -> datetime:
    if deadline.get("months"):
        local = start.astimezone(PARIS)
        day = engine.add_months(local.date(), int(deadline["months"]))
        return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)
    return start + timedelta(days=int(deadline["days"]))


def status_message(dossier: Dossier, status: Status) -> str:
    text = status.message
    if status.appeal_months:
        text = f"{text} {appeal_route(dossier)}".strip()
    return text


def appeal_route(dossier: Dossier) -> str:
    """Where the RAPO goes, by the branch of the CMI request (APA: Département; else CDAPH)."""
    filiere = (dossier.answers or {}).get("filiere")
    if filiere in ("apa_beneficiaire", "apa_demandeur"):
        return "Le recours est à adresser au Président du Conseil départemental."
    if filiere == "mdph":
        return ("Le recours est à adresser à la Commission des droits et de l'autonomie des personnes "
                "handicapées (CDAPH), par l'intermédiaire de la MDPH.")
    return ""


def _notify(dossier: Dossier, procedure: Procedure, status: Status, event: DossierEvent) -> None:
    """The inbox entry (and, if the person wants it, one email pointing to it)."""
    from portal.notifications.services import notify

    lines = [status_message(dossier, status), event.note or ""]
    lines += [f"{label} : {value}" for label, value in data_lines(status, event.data or {})]
    when = deadlines(dossier, procedure)
    if when.get("appeal_until"):
        lines.append(f"Recours possible jusqu'au {when['appeal_until']}.")
    if when.get("decision_by"):
        lines.append(f"Décision attendue au plus tard le {when['decision_by']}.")
    notify(dossier_user(dossier), "status", f"Votre demande {dossier.reference} : {status.label}",
           "\n".join(line for line in lines if line),
           link=path_for("demarches.request_page", reference=dossier.reference))


def data_lines(status: Status, data: dict[str, Any]) -> list[tuple[str, str]]:
    lines = []
    for f in status.data:
        value = data.get(f.id)
        if f.id == "duree" and value and value != "permanente":
            lines.append((f.label, f"{value} an" if str(value) in ("0", "1") else f"{value} ans"))
        elif not engine.is_empty(value):
            lines.append((f.label, engine.display_value(f, value if f.type != "checkboxes" or
                                                        isinstance(value, list) else [value])))
    return lines


def deadlines(dossier: Dossier, procedure: Procedure) -> dict[str, str]:
    """The dates the person must know: decision expected by, appeal possible until."""
    result = {}
    if dossier.deadline_at is not None:
        result["decision_by"] = french_date(dossier.deadline_at)
    day = appeal_until(dossier, procedure)
    status = procedure.workflow.statuses.get(dossier.status or "") if procedure.workflow else None
    # Shown while the window is open, and always while the decision is the current status
    # (a RAPO can still be filed late, with a warning).
    if day is not None and ((status is not None and status.decision)
                            or day >= utcnow().astimezone(PARIS).date()):
        result["appeal_until"] = french_date(day)
    return result


def appeal_until(dossier: Dossier, procedure: Procedure) -> date | None:
    """The last day of the appeal window, counted from the decision (the last status marked
    ``decision``, with its ``appeal_months``), whatever status followed it (photo attendue…)."""
    if dossier.decided_at is None or procedure.workflow is None:
        return None
    statuses = procedure.workflow.statuses
    current = statuses.get(dossier.status or "")
    decision = current if current is not None and current.decision else \
        next((statuses[e.status] for e in reversed(dossier.events)
              if e.status in statuses and statuses[e.status].decision), None)
    if decision is None or not decision.appeal_months:
        return None
    return engine.add_months(dossier.decided_at.astimezone(PARIS).date(), decision.appeal_months)


def fire_deadlines(now: datetime | None = None) -> int:
    """Apply every due deadline (e.g. implicit refusal after four months of silence)."""
    now = now or utcnow()
    fired = 0
    due = db.session.scalars(select(Dossier).where(Dossier.deadline_at.is_not(None),
                                                   Dossier.deadline_at <= now)).all()
    for dossier in due:
        procedure = get_procedure(dossier.procedure_id)
        deadline = procedure.workflow.deadline_for(dossier.status) if procedure else None
        if deadline is None:
            dossier.deadline_at = None
        else:
            change_status(dossier, deadline["to"], note=deadline.get("note", ""), now=now, system=True)
            fired += 1
        db.session.commit()
    return fired


def purge_drafts(now: datetime | None = None) -> dict[str, int]:
    """Warn two weeks before, then delete drafts untouched for the configured months."""
    from portal.notifications.services import notify

    now = now or utcnow()
    cfg = current_app.config
    months = int(cfg["DEMARCHES_DRAFT_MONTHS"])
    warning = timedelta(days=int(cfg["DEMARCHES_PURGE_WARNING_DAYS"]))
    local_now = now.astimezone(PARIS)
    limit_day = engine.add_months(local_now.date(), -months)
    limit = datetime.combine(limit_day, local_now.timetz()).astimezone(now.tzinfo)
    counts = {"warned": 0, "deleted": 0}
    drafts = select(Dossier).where(Dossier.submitted_at.is_(None))
    for dossier in db.session.scalars(drafts.where(Dossier.updated_at <= limit + warning,
                                                   Dossier.purge_warned_at.is_(None))).all():
        procedure = get_procedure(dossier.procedure_id)
        user = dossier_user(dossier)
        deletion = _after(dossier.updated_at, {"months": months})
        notify(user, "draft_reminder", f"Votre brouillon « {procedure.title} » va être supprimé",
               f"Sans modification de votre part, ce brouillon sera supprimé le {french_date(deletion)}. "
               "Reprenez-le pour le conserver.",
               link=path_for("demarches.resume", dossier_id=dossier.id))
        dossier.purge_warned_at = now
        counts["warned"] += 1
        db.session.commit()
    for dossier in db.session.scalars(drafts.where(
            Dossier.updated_at <= limit, Dossier.purge_warned_at.is_not(None),
            Dossier.purge_warned_at <= now - warning + timedelta(hours=1))).all():
        delete_draft(dossier)
        counts["deleted"] += 1
        db.session.commit()
    db.session.execute(delete(DraftStash).where(DraftStash.created_at < now - timedelta(days=2)))
    db.session.commit()
    return counts


# --- summary and receipt -------------------------------------------------------------------


def summary(procedure: Procedure, dossier: Dossier, context: dict) -> list[tuple[Any, list]]:
    """Visible answers grouped by step: [(step, [(field, text)])]."""
    rows = []
    for step in engine.visible_steps(procedure, dossier.answers, context):
        items = []
        for f in engine.visible_fields(step, procedure, dossier.answers, context):
            if f.has_value:
                items.append((f, engine.display_value(f, dossier.answers.get(f.id))))
            elif f.type == "computed":
                text = engine.computed_text(f, dossier.answers, procedure, context)
                if text:
                    items.append((f, text))
        rows.append((step, items))
    return rows


def receipt_pdf(dossier: Dossier, procedure: Procedure) -> bytes:
    """The receipt: number, date, and every answer (core fonts are Latin-1)."""
    from fpdf import FPDF

    from portal.accounts.letters import _latin1

    cfg = current_app.config
    pdf = FPDF(format="A4")
    pdf.set_compression(False)  # small, and its text stays searchable by simple tools
    pdf.set_title(_latin1(f"Récépissé {dossier.reference}"))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin1(cfg["PORTAL_OWNER"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 6, _latin1(cfg["PORTAL_CONTACT"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 13)
    pdf.multi_cell(0, 8, _latin1(f"Récépissé de dépôt - {procedure.title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, _latin1(f"Numéro de la demande : {dossier.reference}"), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, _latin1(f"Déposée le : {french_date(dossier.submitted_at)}"), new_x="LMARGIN",
                   new_y="NEXT")
    for_whom = dossier.beneficiary_label if dossier.beneficiary else \
        f"{dossier_user(dossier).display_name} (vous-même)"  # a receipt may be shown to others
    pdf.multi_cell(0, 6, _latin1(f"Demande faite pour : {for_whom}"), new_x="LMARGIN", new_y="NEXT")
    when = deadlines(dossier, procedure)
    if when.get("decision_by"):
        pdf.multi_cell(0, 6, _latin1(f"Décision attendue au plus tard le : {when['decision_by']}"),
                       new_x="LMARGIN", new_y="NEXT")
    context = {"departement_name": cfg["DEMARCHES_DEPARTEMENT_NAME"]}
    for step, items in summary(procedure, dossier, context):
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 7, _latin1(step.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for f, text in items:
            label = (f.label or "").replace(" (facultatif)", "")  # optional or not, it was answered
            pdf.multi_cell(0, 5, _latin1(f"{label} : {text or '-'}" if label else text),
                           new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
