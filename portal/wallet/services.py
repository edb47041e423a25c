"""Porte-documents: add, list, modify, delete, choose for a procedure, copy into a request.

Confidential by construction: every query here is scoped to one owner, and nothing outside
this module (no agent or admin page, no command) reads ``WalletDocument``.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import db
from portal.accounts.models import User
from portal.files import checks
from portal.files.models import OK
from portal.files.services import (
    StoredFile,
    clean_filename,
    copy_stored,
    delete_stored,
    screen_upload,
    store_bytes,
)
from portal.wallet.models import WalletDocument

KINDS: dict[str, str] = {
    "piece_identite": _l("Pièce d'identité"),
    "titre_sejour": _l("Titre de séjour"),
    "justificatif_domicile": _l("Justificatif de domicile"),
    "photo_identite": _l("Photo d'identité"),
    "certificat_medical": _l("Certificat médical"),
    "acte_naissance": _l("Acte de naissance"),
    "avis_imposition": _l("Avis d'imposition"),
    "autre": _l("Autre"),
}


@dataclass(frozen=True)
class FreshnessRule:
    """A procedure's requirement on a document's age, counted from its date of issue."""

    kind: str
    max_age_months: int
    label: str  # the seed's wording


# Seed 002 (passport page): the documents a procedure may require to be recent.
FRESHNESS_RULES: dict[str, FreshnessRule] = {
    rule.kind: rule
    for rule in (
        FreshnessRule("justificatif_domicile", 12, "justificatif de domicile de moins d'un an"),
        FreshnessRule("photo_identite", 6, "photo de moins de six mois"),
        FreshnessRule("acte_naissance", 3, "acte de naissance de moins de trois mois"),
    )
}

SELF = "moi"  # the person themself, as opposed to one of their relations


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


# --- whom a document concerns -----------------------------------------------------------------


def relation_choices(user: User) -> list[tuple[int, str]]:
    """The person's relations as (id, label).

    "Mes relations" plugs in by setting ``app.extensions["wallet_relation_choices"]`` to a
    callable ``(user) -> [(relation_id, label), …]``; until then there is only "Moi".
    """
    provider: Callable[[User], list[tuple[int, str]]] | None = current_app.extensions.get(
        "wallet_relation_choices"
    )
    return list(provider(user)) if provider else []


def beneficiary_label(user: User, relation_id: int | None) -> str:
    if relation_id is None:
        return str(_l("Moi"))
    return dict(relation_choices(user)).get(relation_id, str(_l("Un de mes proches")))


def _relation_id(beneficiary) -> int | None:
    """None or "moi" is the person; an int or an object with ``id`` is a relation."""
    if beneficiary is None or beneficiary == SELF:
        return None
    return int(getattr(beneficiary, "id", beneficiary))


# --- reading ------------------------------------------------------------------------------


def documents_of(user: User, kind: str | None = None, person: str | None = None) -> list[WalletDocument]:
    """The person's documents, newest first; ``person`` is "moi", a relation id, or None for all."""
    query = select(WalletDocument).where(WalletDocument.user_id == user.id)
    if kind:
        query = query.where(WalletDocument.kind == kind)
    if person == SELF:
        query = query.where(WalletDocument.relation_id.is_(None))
    elif person:
        query = query.where(WalletDocument.relation_id == int(person))
    query = query.order_by(WalletDocument.created_at.desc(), WalletDocument.id.desc())
    return list(db.session.scalars(query))


def get_document(user: User, document_id: int) -> WalletDocument | None:
    """The document if it belongs to ``user``; None otherwise (the view answers 404)."""
    return db.session.scalar(
        select(WalletDocument).where(WalletDocument.id == document_id,
                                     WalletDocument.user_id == user.id)
    )


def used_bytes(user: User) -> int:
    """The person's space used: the wallet and the files of their procedures (one quota)."""
    return checks.used_bytes(user.id)


def quota_bytes() -> int:
    return checks.quota_bytes()


# --- writing ------------------------------------------------------------------------------


def _check_details(user: User, kind: str, relation_id: int | None) -> None:
    """A known kind, and the person themself or one of their own relations."""
    if kind not in KINDS:
        raise ValueError(kind)
    if relation_id is not None and relation_id not in dict(relation_choices(user)):
        raise ValueError("unknown relation")


def add_document(user: User, upload: FileStorage | None, kind: str, title: str,
                 relation_id: int | None = None, issued_on: date | None = None,
                 valid_until: date | None = None) -> WalletDocument:
    """Screen the file, check the quota, then store it encrypted, pending the worker's full
    check (``portal.files.checks``); raises UploadRejected (French)."""
    _check_details(user, kind, relation_id)
    data, content_type, name = screen_upload(upload)
    checks.check_upload_allowed(user.id, len(data))
    document = WalletDocument(
        user_id=user.id, relation_id=relation_id, kind=kind, title=title.strip(),
        storage_key=store_bytes(data), original_name=name, content_type=content_type,
        size=len(data), issued_on=issued_on, valid_until=valid_until, check_status=checks.PENDING,
    )
    db.session.add(document)
    db.session.flush()
    return document


def check_quota(user: User, size: int) -> None:
    """Raise UploadRejected when ``size`` more bytes would not fit in the person's space."""
    checks.check_space(user.id, size)


def keep_in_wallet(user: User, stored: StoredFile, kind: str, title: str,
                   relation_id: int | None = None, issued_on: date | None = None,
                   valid_until: date | None = None) -> WalletDocument:
    """"Conserver dans mon porte-documents": a file uploaded during a procedure, copied.

    The request keeps its own file; the wallet gets an independent copy (quota checked).
    """
    _check_details(user, kind, relation_id)
    check_quota(user, stored.size)
    copy = copy_stored(stored)
    document = WalletDocument(
        user_id=user.id, relation_id=relation_id, kind=kind, title=title.strip(),
        storage_key=copy.key, original_name=copy.original_name, content_type=copy.content_type,
        size=copy.size, issued_on=issued_on, valid_until=valid_until, check_status=copy.check_status,
    )
    db.session.add(document)
    db.session.flush()
    return document


def update_document(user: User, document: WalletDocument, kind: str, title: str,
                    relation_id: int | None = None, issued_on: date | None = None,
                    valid_until: date | None = None) -> None:
    """"Modifier": everything that describes the document; the file itself stays as it is."""
    _check_details(user, kind, relation_id)
    document.kind, document.title, document.relation_id = kind, title.strip(), relation_id
    document.issued_on, document.valid_until = issued_on, valid_until


def delete_document(document: WalletDocument) -> None:
    """The row goes now; the stored file once the transaction commits."""
    delete_stored(document.storage_key)
    db.session.delete(document)


def delete_wallet_of(user: User) -> None:
    """Account deletion hook: every document and its stored file."""
    for document in documents_of(user):
        delete_document(document)
    db.session.flush()


# --- choosing a document for a procedure -----------------------------------------------------


@dataclass(frozen=True)
class DocumentChoice:
    """A wallet document offered for a procedure's file field, with its freshness."""

    document: WalletDocument
    qualifies: bool
    stale: bool  # older than the procedure accepts, or its date of issue is unknown
    expired: bool  # its end of validity has passed
    message: str  # French, empty when the document qualifies


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _duration_fr(days: int) -> str:
    """365 -> "d'un an", 730 -> "de 2 ans", 90 -> "de 3 mois", 10 -> "de 10 jours"."""
    if days % 365 == 0:
        years = days // 365
        return "d'un an" if years == 1 else f"de {years} ans"
    if days % 30 == 0:
        return f"de {days // 30} mois"
    return f"de {days} jours"


def assess(document: WalletDocument, max_age_days: int | None = None,
           rule: FreshnessRule | None = None, today: date | None = None) -> DocumentChoice:
    """Whether a document meets a maximum age (days, or the rule's months) and is still valid."""
    today = today or date.today()
    expired = document.valid_until is not None and document.valid_until < today
    requirement = None
    cutoff = None
    if max_age_days is not None:
        cutoff = today - timedelta(days=max_age_days)
        requirement = "moins " + _duration_fr(max_age_days)
    elif rule is not None:
        cutoff = months_before(today, rule.max_age_months)
        requirement = rule.label
    stale = False
    messages = []
    if expired:
        messages.append(f"Ce document n'est plus valable depuis le {_fr(document.valid_until)}.")
    if cutoff is not None:
        if document.issued_on is None:
            stale = True
            messages.append(f"Sa date de délivrance n'est pas renseignée : la démarche demande un "
                            f"document de {requirement}.")
        elif document.issued_on <= cutoff:
            stale = True
            messages.append(f"Délivré le {_fr(document.issued_on)} : trop ancien, la démarche "
                            f"demande un document de {requirement}.")
    return DocumentChoice(document, not (stale or expired), stale, expired, " ".join(messages))


@dataclass(frozen=True)
class DocumentDates:
    """The dates of a document copied into a request: enough to judge its freshness again."""

    issued_on: date | None
    valid_until: date | None

    def as_answer(self) -> dict[str, str | None]:
        return {"issued_on": self.issued_on and self.issued_on.isoformat(),
                "valid_until": self.valid_until and self.valid_until.isoformat()}

    @classmethod
    def from_answer(cls, value: dict) -> DocumentDates:
        def parse(text):
            return date.fromisoformat(text) if text else None
        return cls(parse(value.get("issued_on")), parse(value.get("valid_until")))


def freshness_warning(dates: DocumentDates, kind: str | None, max_age_days: int | None,
                      today: date) -> str:
    """The warning for a document with these dates, judged today (empty when it qualifies)."""
    rule = FRESHNESS_RULES.get(kind) if kind else None
    return assess(dates, max_age_days, rule, today).message  # type: ignore[arg-type]


def documents_for(user: User, kind: str | None, max_age_days: int | None = None,
                  beneficiary=None, today: date | None = None) -> list[DocumentChoice]:
    """The documents of ``kind`` for ``beneficiary`` (None: the person), qualifying ones first.

    Without ``max_age_days`` the seed's rule for the kind applies, if there is one. Within each
    group, the most recently issued come first.
    """
    relation_id = _relation_id(beneficiary)
    query = select(WalletDocument).where(WalletDocument.user_id == user.id,
                                         WalletDocument.check_status == OK)  # usable once checked
    if kind:
        query = query.where(WalletDocument.kind == kind)
    if relation_id is None:
        query = query.where(WalletDocument.relation_id.is_(None))
    else:
        query = query.where(WalletDocument.relation_id == relation_id)
    rule = FRESHNESS_RULES.get(kind) if kind else None
    choices = [assess(d, max_age_days, rule, today) for d in db.session.scalars(query)]
    choices.sort(key=lambda c: (c.document.created_at.timestamp(), c.document.id), reverse=True)
    choices.sort(key=lambda c: c.document.issued_on or date.min, reverse=True)
    choices.sort(key=lambda c: not c.qualifies)
    return choices


def copy_to_request(document: WalletDocument) -> StoredFile:
    """A new stored file with the document's bytes: the request keeps it whatever the wallet does."""
    source = StoredFile(document.storage_key, document.original_name, document.content_type,
                        document.size, document.check_status)
    return copy_stored(source, clean_filename(document.title, document.content_type))


def delete_documents_of_relation(relation) -> None:
    """Relation deletion hook: its documents go too (the foreign key cascades), files included."""
    for document in db.session.scalars(select(WalletDocument).where(
            WalletDocument.user_id == relation.user_id, WalletDocument.relation_id == relation.id)).all():
        delete_document(document)
    db.session.flush()


def relations_as_choices(user: User) -> list[tuple[int, str]]:
    """"Mes relations" as the wallet's "whom it concerns" choices, by name ("Léa Martin")."""
    from portal.relations import services as relations

    return [(r.id, r.display_name) for r in relations.relations_for(user)]


def init_app(app) -> None:
    """Deleting an account deletes its wallet, files included; a relation, its documents."""
    hooks = app.extensions.setdefault("account_deletion_hooks", [])
    if delete_wallet_of not in hooks:
        hooks.append(delete_wallet_of)
    relation_hooks = app.extensions.setdefault("relation_deletion_hooks", [])
    if delete_documents_of_relation not in relation_hooks:
        relation_hooks.append(delete_documents_of_relation)
    app.extensions.setdefault("wallet_relation_choices", relations_as_choices)
    checks.register_holder(app, checks.FileHolder(
        WalletDocument, of_user=lambda query, user_id: query.where(WalletDocument.user_id == user_id),
        owner_id=lambda document: document.user_id, describe=_describe))


def _describe(document: WalletDocument) -> tuple[str, str]:
    """How a refusal names the document, and the page that shows it."""
    return document.title, checks.page_path("wallet.index")
