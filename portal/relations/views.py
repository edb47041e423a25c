"""Mes relations: list, add, edit, delete. Another account's relation is a 404."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core.web import form_status, render_page, safe_next, see_other
from portal.extensions import limiter
from portal.relations import services
from portal.relations.forms import LegalPersonForm, NaturalPersonForm, form_values

bp = Blueprint("relations", __name__, url_prefix="/relations")

FORMS = {"personne-physique": NaturalPersonForm, "personne-morale": LegalPersonForm}
# Fields checked as soon as they are left (htmx), with the same validators as on submit.
CHECKED_FIELDS = {"personne-physique": ("date_naissance", "code_postal"),
                  "personne-morale": ("siret", "code_postal")}


def _relation_or_404(relation_id: int) -> services.Relation:
    relation = services.get_relation(current_user, relation_id)
    if relation is None:
        abort(404)
    return relation


def _next_url() -> str | None:
    """Where to go after adding, when another flow (a procedure) sent the person here."""
    target = request.values.get("next")
    if not target:
        return None
    url = safe_next(target, "relations.index")
    return url if url == target else None


@bp.get("")
@login_required
def index():
    relations = services.relations_for(current_user)
    return render_page("relations/list.html",
                       natural=[r for r in relations if r.is_natural],
                       legal=[r for r in relations if r.is_legal],
                       labels=services.KIND_LABELS)


@bp.route("/ajouter/<category>", methods=["GET", "POST"])
@login_required
def add(category: str):
    form_class = FORMS.get(category)
    if form_class is None:
        abort(404)
    form = form_class()
    next_url = _next_url()
    if form.validate_on_submit():
        relation = services.create_relation(current_user, form.kind.data, form_values(form))
        flash(_("La relation « %(name)s » a été ajoutée.", name=relation.display_name), "success")
        if next_url:
            separator = "&" if "?" in next_url else "?"
            return redirect(f"{next_url}{separator}relation={relation.id}", code=303)
        return see_other("relations.index")
    heading = _("Ajouter une personne physique") if category == "personne-physique" \
        else _("Ajouter une personne morale")
    return render_page("relations/form.html", form=form, category=category, relation=None, heading=heading,
                       next_url=next_url, cancel_url=next_url or url_for("relations.index"),
                       status=form_status(form))


@bp.route("/<int:relation_id>/modifier", methods=["GET", "POST"])
@login_required
def edit(relation_id: int):
    relation = _relation_or_404(relation_id)
    category = "personne-physique" if relation.is_natural else "personne-morale"
    form_class = FORMS[category]
    form = form_class(obj=relation if request.method == "GET" else None)
    if request.method == "GET" and relation.date_naissance:
        form.date_naissance.data = relation.date_naissance.strftime("%d/%m/%Y")
    if form.validate_on_submit():
        services.update_relation(relation, form.kind.data, form_values(form))
        flash(_("La relation « %(name)s » a été modifiée.", name=relation.display_name), "success")
        return see_other("relations.index")
    heading = _("Modifier « %(name)s »", name=relation.display_name)
    return render_page("relations/form.html", form=form, category=category, relation=relation, heading=heading,
                       next_url=None, cancel_url=url_for("relations.index"), status=form_status(form))


@bp.route("/<int:relation_id>/supprimer", methods=["GET", "POST"])
@login_required
def delete(relation_id: int):
    relation = _relation_or_404(relation_id)
    if request.method == "POST":  # CSRF is checked globally
        name = relation.display_name
        services.delete_relation(relation)
        flash(_("La relation « %(name)s » a été supprimée.", name=name), "success")
        return see_other("relations.index")
    return render_page("relations/delete.html", relation=relation, labels=services.KIND_LABELS)


@bp.post("/verifier/<category>/<name>")
@login_required
@limiter.limit("120 per minute")
def check_field(category: str, name: str):
    """htmx: one field's group re-rendered with its own error, if any, after a change."""
    if name not in CHECKED_FIELDS.get(category, ()):
        abort(404)
    form = FORMS[category](meta={"csrf": False})
    form.validate()
    for other_name, other in form._fields.items():
        if other_name != name:
            other.errors = []
    return render_page("relations/_field.html", block="field_group", target=f"{form[name].id}-group",
                       form=form, name=name,
                       check_url=url_for("relations.check_field", category=category, name=name))
