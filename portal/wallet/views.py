"""Porte-documents pages. Every object is looked up with its owner: another account gets 404."""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.services import background_request
from portal.core.web import form_status, render_page, see_other
from portal.files.services import (
    UploadRejected,
    clean_filename,
    load_bytes,
    max_upload_bytes,
    megabytes,
)
from portal.wallet import forms, services
from portal.wallet.models import WalletDocument

bp = Blueprint("wallet", __name__, url_prefix="/porte-documents")


@bp.record_once
def _setup(state) -> None:
    services.init_app(state.app)


def _owned(document_id: int) -> WalletDocument:
    document = services.get_document(current_user, document_id)
    if document is None:
        abort(404)
    return document


@bp.get("/")
@login_required
def index():
    relations = services.relation_choices(current_user)
    filters = forms.FilterForm(request.args)
    filters.set_people(relations)
    # Unknown values are ignored (an old bookmark, a relation deleted since): no error page.
    kind = filters.kind.data if filters.kind.data in services.KINDS else None
    people = {services.SELF} | {str(i) for i, _label in relations}
    person = filters.person.data if filters.person.data in people else None
    documents = services.documents_of(current_user, kind or None, person or None)
    used, quota = services.used_bytes(current_user), services.quota_bytes()
    return render_page(
        "wallet/index.html", block="documents", target="documents",
        filters=filters, documents=documents, filtered=bool(kind or person),
        kinds=services.KINDS, people=dict(relations), today=date.today(),
        sizes={d.id: megabytes(d.size) for d in documents}, used=megabytes(used) if used else "0 Mo",
        quota=megabytes(quota), percent=min(100, round(100 * used / quota)) if quota else 100,
    )


@bp.route("/ajouter", methods=["GET", "POST"])
@login_required
def add():
    relations = services.relation_choices(current_user)
    form = forms.AddDocumentForm()
    form.set_people(relations, megabytes(max_upload_bytes()))
    if form.validate_on_submit():
        try:
            services.add_document(
                current_user, form.file.data, form.kind.data, form.title.data,
                relation_id=form.relation_id,
                issued_on=form.issued_on.parsed, valid_until=form.valid_until.parsed,
            )
        except UploadRejected as exc:
            form.file.errors.append(str(exc))
        else:
            flash(_("Le document « %(title)s » a été ajouté à votre porte-documents. Il est en cours "
                    "de vérification : vous pourrez l'utiliser dans quelques instants.",
                    title=form.title.data.strip()), "success")
            return see_other("wallet.index")
    if form.errors and not form.file.errors and form.file.data and form.file.data.filename:
        # A browser never keeps a chosen file across pages: say so rather than lose it silently.
        form.file.errors.append(_("Le fichier « %(name)s » n'a pas été enregistré, car le formulaire "
                                  "contient des erreurs : sélectionnez-le à nouveau.",
                                  name=form.file.data.filename.replace("\\", "/").rsplit("/", 1)[-1]))
    return render_page("wallet/add.html", form=form, status=form_status(form))


@bp.route("/<int:document_id>/modifier", methods=["GET", "POST"])
@login_required
def edit(document_id: int):
    document = _owned(document_id)
    form = forms.DocumentDetailsForm.of_document(document)
    form.set_people(services.relation_choices(current_user))
    if form.validate_on_submit():
        services.update_document(
            current_user, document, form.kind.data, form.title.data, relation_id=form.relation_id,
            issued_on=form.issued_on.parsed, valid_until=form.valid_until.parsed,
        )
        flash(_("Le document « %(title)s » a été modifié.", title=document.title), "success")
        return see_other("wallet.index")
    return render_page("wallet/edit.html", form=form, document=document, status=form_status(form))


@bp.route("/<int:document_id>/renommer", methods=["GET", "POST"])
@login_required
def rename(document_id: int):
    """The former "Renommer" page: its address leads to "Modifier" (308 keeps a POST a POST)."""
    _owned(document_id)
    return redirect(url_for("wallet.edit", document_id=document_id),
                    code=308 if request.method == "POST" else 301)


@bp.get("/<int:document_id>/verification")
@login_required
@background_request
def check_state(document_id: int):
    """htmx: where the document's check stands (polled while it is pending)."""
    document = _owned(document_id)
    return render_template("wallet/_check_state.html", document=document)


@bp.get("/<int:document_id>/telecharger")
@login_required
def download(document_id: int):
    document = _owned(document_id)
    if not document.is_checked:
        flash(_("Le document « %(title)s » ne peut pas être téléchargé : %(why)s", title=document.title,
                why=_("il est en cours de vérification.") if document.is_pending else
                _("il a été refusé à la vérification.")), "warning")
        return see_other("wallet.index")
    response = send_file(
        io.BytesIO(load_bytes(document.storage_key)), mimetype=document.content_type,
        as_attachment=True, download_name=clean_filename(document.title, document.content_type),
        max_age=0, etag=False, last_modified=None, conditional=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store, private"
    return response


@bp.route("/<int:document_id>/supprimer", methods=["GET", "POST"])
@login_required
def delete(document_id: int):
    document = _owned(document_id)
    form = forms.DeleteForm()
    if form.validate_on_submit():
        title = document.title
        services.delete_document(document)
        flash(_("Le document « %(title)s » a été supprimé.", title=title), "success")
        return see_other("wallet.index")
    return render_page("wallet/delete.html", form=form, document=document,
                       kind=services.kind_label(document.kind), status=form_status(form))
