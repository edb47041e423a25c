"""« Télécharger mes données »: ask, see the status, download (owner only: 404 for anyone else)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core.web import render_page, see_other
from portal.exports import services

bp = Blueprint("exports", __name__, url_prefix="/compte/mes-donnees")


@bp.record_once
def _setup(state) -> None:
    import os

    state.app.config.setdefault("DATA_EXPORT_DAYS", int(os.environ.get("DATA_EXPORT_DAYS", services.KEEP_DAYS)))
    hooks = state.app.extensions.setdefault("account_deletion_hooks", [])
    if services.delete_user_exports not in hooks:
        hooks.append(services.delete_user_exports)


@bp.app_template_global("megabytes")
def megabytes_global(size: int) -> str:
    from portal.files.services import megabytes

    return megabytes(size)


@bp.get("")
@login_required
def page():
    return render_page("exports/page.html", exports=services.exports_of(current_user),
                       keep_days=services.keep_days())


@bp.post("")
@login_required
def ask():
    services.request_export(current_user)
    flash(_("Votre demande est enregistrée. Le fichier de vos données est préparé en arrière-plan : "
            "une notification vous préviendra dès qu'il sera prêt."), "success")
    return see_other("exports.page")


@bp.get("/<int:export_id>/telecharger")
@login_required
def download(export_id: int):
    export = services.get_export(current_user, export_id)
    if export is None:
        abort(404)
    response = Response(stream_with_context(services.stream(export)), mimetype="application/zip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="mes-donnees-{export.ready_at:%Y-%m-%d}.zip"')
    response.headers["Content-Length"] = str(export.size)
    response.headers["Cache-Control"] = "no-store"
    return response
