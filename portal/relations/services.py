"""Relations: operations for "Mes relations" and the services démarches use.

For démarches ("Pour qui faites-vous cette démarche ?"):

- ``relations_for(user, kinds)`` lists the person's relations whose kind is allowed;
- ``snapshot(relation)`` gives plain data to copy into a request, so the request keeps the
  relation as it was when submitted even if the relation is later edited or deleted;
- ``prefill_from(relation)`` maps a relation onto the profile field names of accounts.

Services never commit: the request does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import db
from portal.core.identifiers import normalise_siret, postcode_is_valid, siret_is_valid
from portal.relations.models import KINDS, LEGAL_KINDS, NATURAL_KINDS, Relation

__all__ = [
    "KINDS", "LEGAL_KINDS", "NATURAL_KINDS", "KIND_LABELS", "Relation", "is_natural", "is_legal", "kind_label",
    "relations_for", "get_relation", "create_relation", "update_relation", "delete_relation",
    "snapshot", "prefill_from", "normalise_siret", "siret_is_valid", "postcode_is_valid",
]

KIND_LABELS = {
    "enfant": _l("Enfant"),
    "conjoint": _l("Conjoint ou conjointe"),
    "parent": _l("Parent"),
    "autre": _l("Autre personne"),
    "association": _l("Association"),
    "entreprise": _l("Entreprise"),
}

NATURAL_FIELDS = ("civilite", "nom", "prenom", "date_naissance")
LEGAL_FIELDS = ("raison_sociale", "siret")
ADDRESS_FIELDS = ("adresse", "code_postal", "commune")


def _kind_of(relation_or_kind: Relation | str) -> str:
    return relation_or_kind if isinstance(relation_or_kind, str) else relation_or_kind.kind


def is_natural(relation_or_kind: Relation | str) -> bool:
    """A natural person (enfant, conjoint, parent, autre)."""
    return _kind_of(relation_or_kind) in NATURAL_KINDS


def is_legal(relation_or_kind: Relation | str) -> bool:
    """A legal person (association, entreprise)."""
    return _kind_of(relation_or_kind) in LEGAL_KINDS


def kind_label(relation_or_kind: Relation | str) -> str:
    """"Enfant", "Association"…: for choices such as "Léa Martin (Enfant)". Outside a
    request (worker, commands) there is no chosen language: French."""
    label = KIND_LABELS[_kind_of(relation_or_kind)]
    if has_request_context():
        return str(label)
    with force_locale("fr"):
        return str(label)


# --- checks: normalise_siret, siret_is_valid, postcode_is_valid (portal.core.identifiers) --


# --- queries ----------------------------------------------------------------------------


def relations_for(user, kinds: Iterable[str] | None = None) -> list[Relation]:
    """The person's relations whose kind is in ``kinds`` (all of them when ``kinds`` is None),
    natural persons first, then by name. Unknown kinds raise ValueError (a typo in a
    procedure's definition should fail loudly, not silently offer nobody)."""
    query = select(Relation).where(Relation.user_id == user.id)
    if kinds is not None:
        wanted = set(kinds)
        unknown = wanted - set(KINDS)
        if unknown:
            raise ValueError(f"unknown relation kinds: {sorted(unknown)}")
        if not wanted:
            return []
        query = query.where(Relation.kind.in_(wanted))
    rows = db.session.scalars(query).all()
    return sorted(rows, key=lambda r: (r.is_legal, r.display_name.casefold(), r.id))


def get_relation(user, relation_id: int) -> Relation | None:
    """The relation if it belongs to ``user``; None otherwise (the view answers 404)."""
    relation = db.session.get(Relation, relation_id)
    if relation is None or relation.user_id != user.id:
        return None
    return relation


# --- changes ----------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _apply(relation: Relation, values: dict[str, Any]) -> None:
    if relation.kind not in KINDS:
        raise ValueError(f"unknown relation kind: {relation.kind}")
    own = NATURAL_FIELDS if relation.is_natural else LEGAL_FIELDS
    other = LEGAL_FIELDS if relation.is_natural else NATURAL_FIELDS
    for name in own + ADDRESS_FIELDS:
        setattr(relation, name, _clean(values.get(name)))
    for name in other:
        setattr(relation, name, None)
    if relation.siret:
        relation.siret = normalise_siret(relation.siret)


def create_relation(user, kind: str, values: dict[str, Any]) -> Relation:
    relation = Relation(user_id=user.id, kind=kind)
    _apply(relation, values)
    db.session.add(relation)
    db.session.flush()
    return relation


def update_relation(relation: Relation, kind: str, values: dict[str, Any]) -> None:
    """A natural person stays a natural person (and a legal one legal): only the link or
    the legal form can change."""
    if is_natural(kind) != relation.is_natural:
        raise ValueError("a relation cannot change between natural and legal person")
    relation.kind = kind
    _apply(relation, values)


def delete_relation(relation: Relation) -> None:
    """Requests made for this relation keep their own copy (see ``snapshot``). Other
    capabilities clean up first through ``app.extensions["relation_deletion_hooks"]``
    (the wallet deletes the relation's documents and their stored files)."""
    from flask import current_app

    for hook in current_app.extensions.get("relation_deletion_hooks", []):
        hook(relation)
    db.session.delete(relation)


# --- for démarches ----------------------------------------------------------------------


def snapshot(relation: Relation) -> dict[str, Any]:
    """Plain, JSON-ready data describing the relation now, to be stored in a request.

    Keys: relation_id, kind, kind_label, category ("natural" or "legal"), display_name,
    civilite, nom, prenom, date_naissance (ISO "YYYY-MM-DD" or None), raison_sociale,
    siret, adresse, code_postal, commune. Fields that do not apply are None.
    """
    return {
        "relation_id": relation.id,
        "kind": relation.kind,
        "kind_label": kind_label(relation),
        "category": "natural" if relation.is_natural else "legal",
        "display_name": relation.display_name,
        "civilite": relation.civilite,
        "nom": relation.nom,
        "prenom": relation.prenom,
        "date_naissance": relation.date_naissance.isoformat() if relation.date_naissance else None,
        "raison_sociale": relation.raison_sociale,
        "siret": relation.siret,
        "adresse": relation.adresse,
        "code_postal": relation.code_postal,
        "commune": relation.commune,
    }


def prefill_from(relation: Relation) -> dict[str, str | date | None]:
    """Values for a procedure's beneficiary, under the profile field names of accounts
    (civilite, nom, prenom, date_naissance, adresse, code_postal, commune; the date is a
    ``date`` as on ``User``). A legal person gives its name as ``nom`` and also adds
    ``raison_sociale`` and ``siret``."""
    values: dict[str, str | date | None] = {
        "civilite": relation.civilite,
        "nom": relation.nom,
        "prenom": relation.prenom,
        "date_naissance": relation.date_naissance,
        "adresse": relation.adresse,
        "code_postal": relation.code_postal,
        "commune": relation.commune,
    }
    if relation.is_legal:
        values.update(nom=relation.raison_sociale, raison_sociale=relation.raison_sociale,
                      siret=relation.siret)
    return values
