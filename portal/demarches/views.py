"""Démarches pages: catalogue, information, one step per page, summary, submission, tracking."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal import db
from portal.accounts.services import background_request
from portal.core.ids import parse_id, parse_page
from portal.core.web import render_page, see_other
from portal.db import utcnow
from portal.demarches import engine, get_procedure, procedures, services
from portal.demarches.definitions import Procedure, Step
from portal.demarches.models import Dossier, DossierFile

bp = Blueprint("demarches", __name__)


# --- catalogue and information -------------------------------------------------------------


@bp.get("/demarches")
def catalogue():
    query = request.args.get("q", "").strip()[:100]
    found = [p for p in procedures().values() if not query or p.matches(query)]
    found.sort(key=lambda p: (p.kind != "procedure", p.title))
    return render_page("demarches/catalogue.html", block="results", target="catalogue-results",
                       procedures=found, query=query)


@bp.get("/demarches/<procedure_id>")
def info(procedure_id: str):
    procedure = _procedure_or_404(procedure_id)
    if procedure.kind == "questionnaire":
        return _questionnaire(procedure)
    restricted = current_user.is_authenticated and not procedure.open_to(current_user)
    return render_page("demarches/info.html", procedure=procedure, ctx=_base_context(),
                       restricted=_audience_message(procedure) if restricted else "",
                       nothing_to_link=_nothing_to_link(procedure))


@bp.post("/demarches/<procedure_id>")
def questionnaire_answer(procedure_id: str):
    procedure = _procedure_or_404(procedure_id)
    if procedure.kind != "questionnaire":
        abort(405)
    return _questionnaire(procedure, request.form)


@bp.post("/demarches/<procedure_id>/actualiser")
def questionnaire_refresh(procedure_id: str):
    """htmx: show or hide the questions whose condition changed, without moving the focus."""
    procedure = _procedure_or_404(procedure_id)
    step = procedure.steps[0]
    answers = {f.id: engine.read_field(f, request.form) for f in step.fields if f.has_value}
    ctx = _base_context()
    return _visibility_fragment(procedure, step, answers, ctx, request.form, announce_only=True)


def _questionnaire(procedure: Procedure, form=None) -> Response:
    questions, result_step = procedure.steps[0], procedure.steps[-1]
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    ctx = _base_context()
    revealed: list = []
    if form is not None:
        answers = {f.id: engine.read_field(f, form) for f in questions.fields if f.has_value}
        errors = engine.validate_step(questions, procedure, answers, services.settings(), ctx)
        revealed = _revealed(procedure, questions, answers, ctx, form)
        errors = {k: v for k, v in errors.items() if _error_field(k) not in {f.id for f in revealed}}
    done = form is not None and not errors and not revealed
    results = []
    if done:
        # Without JavaScript a question hidden by a later answer is still posted: ignore it.
        kept = engine.prune_hidden(procedure, answers, ctx)
        results = [engine.computed_text(f, kept, procedure, ctx)
                   for f in engine.visible_fields(result_step, procedure, kept, ctx)]
    return render_page("demarches/questionnaire.html", procedure=procedure, step=questions,
                       answers=answers, errors=errors, results=[r for r in results if r], ctx=ctx,
                       shown=_shown(procedure, questions, answers, ctx),
                       page_has_errors=bool(errors), status=422 if errors else 200,
                       cmi=get_procedure("cmi"), revealed=revealed)


@bp.post("/demarches/<procedure_id>/commencer")
@login_required
def start(procedure_id: str):
    """One click creates the draft and opens its first step."""
    procedure = _procedure_or_404(procedure_id)
    if procedure.kind != "procedure":
        abort(404)
    if not procedure.open_to(current_user):
        flash(_audience_message(procedure), "warning")
        return see_other("demarches.info", procedure_id=procedure.id)
    drafts = services.open_drafts(current_user, procedure)
    if len(drafts) >= int(current_app.config["DEMARCHES_MAX_DRAFTS"]):
        return _draft_limit(procedure, drafts)  # said before "Pour qui ?", not after
    recent = None if procedure.relation_kinds else services.recent_untouched_draft(current_user, procedure)
    if recent is None and not request.form.get("nouveau"):
        # A draft already under way is offered before another one is created silently.
        under_way = _drafts_of(procedure)
        if under_way:
            return render_page("demarches/existing_drafts.html", procedure=procedure, drafts=under_way,
                               step_title=_step_title, purge_date=_purge_date)
    if procedure.relation_kinds:
        return see_other("demarches.beneficiary", procedure_id=procedure.id)
    try:
        dossier = recent or services.start_draft(current_user, procedure)
    except services.DraftLimitReached as exc:
        return _draft_limit(procedure, exc.drafts)
    return see_other("demarches.step", dossier_id=dossier.id, step_id=procedure.steps[0].id)


@bp.route("/demarches/<procedure_id>/pour-qui", methods=["GET", "POST"])
@login_required
def beneficiary(procedure_id: str):
    """"Pour qui faites-vous cette démarche ?": "Pour moi" or an allowed relation; a new
    relation can be added on the way (it comes back here with ``?relation=<id>``)."""
    from portal.relations import services as relations

    procedure = _procedure_or_404(procedure_id)
    if procedure.kind != "procedure" or not procedure.relation_kinds:
        abort(404)
    if not procedure.open_to(current_user):
        flash(_audience_message(procedure), "warning")
        return see_other("demarches.info", procedure_id=procedure.id)
    choices = relations.relations_for(current_user, procedure.relation_kinds)
    error = ""
    selected = request.values.get("beneficiaire") or request.args.get("relation") or ""
    if request.method == "POST":
        relation = None
        if selected != "moi":
            relation_id = parse_id(selected)
            relation = relations.get_relation(current_user, relation_id) if relation_id else None
            if relation is None:
                error = "Indiquez pour qui vous faites cette démarche."
        if not error:
            try:
                dossier = services.recent_untouched_draft(current_user, procedure, relation) or \
                    services.start_draft(current_user, procedure, relation)
            except services.BeneficiaryRefused as exc:
                error = str(exc)
            except services.DraftLimitReached as exc:
                return _draft_limit(procedure, exc.drafts)
            else:
                return see_other("demarches.step", dossier_id=dossier.id, step_id=procedure.steps[0].id)
    here = url_for("demarches.beneficiary", procedure_id=procedure.id)
    return render_page("demarches/beneficiary.html", status=422 if error else 200, procedure=procedure,
                       choices=choices, selected=selected, error=error, page_has_errors=bool(error),
                       kind_label=relations.kind_label,
                       allows_natural=any(relations.is_natural(k) for k in procedure.relation_kinds),
                       allows_legal=any(relations.is_legal(k) for k in procedure.relation_kinds),
                       add_natural=url_for("relations.add", category="personne-physique", next=here),
                       add_legal=url_for("relations.add", category="personne-morale", next=here))


def _drafts_of(procedure: Procedure) -> list[Dossier]:
    """The person's drafts of this procedure, the latest first."""
    return list(db.session.scalars(
        select(Dossier).where(Dossier.user_id == current_user.id, Dossier.procedure_id == procedure.id,
                              Dossier.submitted_at.is_(None))
        .order_by(Dossier.updated_at.desc(), Dossier.id.desc()).limit(10)))


def _step_title(dossier: Dossier) -> str:
    """The title of the step the person was last on (« Mes démarches »)."""
    procedure = get_procedure(dossier.procedure_id)
    step = procedure.step(dossier.current_step) if procedure and dossier.current_step else None
    return step.title if step else ""


# --- filling in ----------------------------------------------------------------------------


@bp.get("/brouillons/<int:dossier_id>")
@login_required
def resume(dossier_id: int):
    """Back to the last step; answers kept while the session had expired are applied here."""
    dossier, procedure = _draft_or_404(dossier_id)
    if not dossier.is_draft:
        return see_other("demarches.request_page", reference=dossier.reference)
    stash = services.apply_stash(dossier, request.args.get("reprise"))
    if stash is not None:
        data = dict(stash.data)
        base = data.pop("_base", None)
        result = services.save_answers(dossier, data, base, stash.step_id)
        if result.conflicts:
            flash(_conflict_text(procedure, result.conflicts, data), "warning")
        else:
            flash("Vos réponses saisies avant l'expiration de votre session ont été enregistrées.", "success")
        return see_other("demarches.step", dossier_id=dossier.id, step_id=stash.step_id)
    services.touch(dossier)
    ctx = services.context_for(dossier, procedure)
    visible = engine.visible_steps(procedure, dossier.answers, ctx)
    step_id = dossier.current_step if any(s.id == dossier.current_step for s in visible) else visible[0].id
    return see_other("demarches.step", dossier_id=dossier.id, step_id=step_id)


@bp.route("/brouillons/<int:dossier_id>/etapes/<step_id>", methods=["GET", "POST"])
def step(dossier_id: int, step_id: str):
    if not current_user.is_authenticated:
        if request.method == "POST":
            return _stash_and_relogin(dossier_id, step_id)
        return current_app.login_manager.unauthorized()
    dossier, procedure = _draft_or_404(dossier_id)
    if not dossier.is_draft:
        if request.method == "POST":
            flash(_already_sent(dossier), "warning")
        return see_other("demarches.request_page", reference=dossier.reference)
    current = procedure.step(step_id) or abort(404)
    ctx = services.context_for(dossier, procedure)
    errors: dict[str, str] = {}
    conflicts: dict[str, Any] = {}
    typed: dict[str, Any] = {}
    revealed: list = []
    too_long: dict[str, str] = {}
    back_to_summary = request.values.get("retour") == "recapitulatif"
    if request.method == "POST":
        action = request.form.get("action", "continuer")
        typed = _posted(current, request.form)
        too_long = engine.oversized_answers(current, typed)
        errors.update(too_long)
        base = _base_from(request.form)
        result = services.save_answers(dossier, _without(typed, too_long), base, current.id)
        conflicts = result.conflicts
        errors.update(_uploads(dossier, procedure, current, ctx))
        if action.startswith("supprimer_fichier:"):
            services.remove_file(dossier, action.split(":", 1)[1])
        if action.startswith(("ajouter:", "retirer:")):
            _group_action(dossier, current, action)
        ctx = services.context_for(dossier, procedure)
        page_action = action.startswith(("ajouter:", "retirer:", "supprimer_fichier:"))
        if page_action and not conflicts and not errors:
            # No #fragment: a page opened at a fragment skips autofocus, which scrolls there anyway.
            return see_other("demarches.step", dossier_id=dossier.id, step_id=current.id,
                             retour="recapitulatif" if back_to_summary else None,
                             focus=_focus_after(current, dossier, action))
        if action == "plus_tard" and not conflicts and not errors:
            flash(f"Votre brouillon est enregistré. Vous pourrez le reprendre depuis « Mes démarches » "
                  f"jusqu'au {_purge_date(dossier)}.", "success")
            return see_other("demarches.mine")
        revealed = _revealed(procedure, current, dossier.answers, ctx, request.form)
        if (action == "plus_tard" or page_action) and errors:
            # Never hide a refusal behind a success message: the rest is saved, this is not.
            flash("Vos autres réponses sont enregistrées, mais pas celles signalées ci-dessous : "
                  "corrigez-les, puis enregistrez à nouveau.", "warning")
        elif not conflicts:
            for key, message in engine.validate_step(current, procedure, dossier.answers,
                                                     services.settings(), ctx).items():
                errors.setdefault(key, message)  # an upload's own refusal says more
            for key, message in services.file_check_errors(procedure, dossier, ctx, [current],
                                                           waiting=False).get(current.id, {}).items():
                errors.setdefault(key, message)
            shown_before = set(filter(None, request.form.get("_shown", "").split(",")))
            unread = engine.warnings_to_read(current, procedure, dossier.answers, shown_before, ctx)
            # Questions this save revealed (no JavaScript) are asked before moving on, never
            # reported as errors: they were not on the page the person filled in.
            errors = {k: v for k, v in errors.items() if _error_field(k) not in {f.id for f in revealed}}
            if not errors and unread:
                flash(" ".join(_fill(f.get("text"), ctx) for f in unread), "warning")
            elif not errors and not revealed:
                if back_to_summary:
                    return see_other("demarches.summary", dossier_id=dossier.id)
                following = _next_step(procedure, dossier, current, ctx)
                if following is None:
                    return see_other("demarches.summary", dossier_id=dossier.id)
                services.mark_step(dossier, following.id)
                return see_other("demarches.step", dossier_id=dossier.id, step_id=following.id)
    elif dossier.current_step != current.id:
        services.mark_step(dossier, current.id)
    answers = dict(dossier.answers)
    # Input stays on the page as typed, even refused in a conflict (the stored one is shown too)
    # or for its length (unless it is far too long to send back).
    answers.update({k: v for k, v in typed.items() if k in conflicts})
    answers.update({k: v for k, v in typed.items() if _top_key(k, too_long) and len(str(v)) <= 20_000})
    base = {f.id: dossier.answers.get(f.id) for f in current.fields if f.has_value and f.type != "file"}
    base.update(conflicts)
    status = 200 if not (errors or conflicts) else (409 if conflicts else 422)
    return render_page("demarches/step.html", status=status, revealed=revealed,
                       **_step_context(dossier, procedure, current, ctx, answers, errors, base,
                                       conflicts, back_to_summary))


@bp.post("/brouillons/<int:dossier_id>/enregistrer")
def autosave(dossier_id: int):
    """htmx (and sendBeacon) autosave of one step's answers: a status fragment with OOB swaps."""
    step_id = request.form.get("_step", "")
    if not current_user.is_authenticated:
        return _stash_and_relogin(dossier_id, step_id, fragment=True)
    dossier, procedure = _draft_or_404(dossier_id)
    current = procedure.step(step_id) or abort(404)
    if not dossier.is_draft:
        return render_template("demarches/_save_status.html", state="submitted", dossier=dossier)
    typed = _posted(current, request.form)
    too_long = engine.oversized_answers(current, typed)
    base = _base_from(request.form)
    result = services.save_answers(dossier, _without(typed, too_long), base, current.id)
    ctx = services.context_for(dossier, procedure)
    new_base = dict(base or {})
    for name in result.applied:
        new_base[name] = typed[name]
    for name, stored in result.conflicts.items():
        new_base[name] = stored  # "keep mine" then wins on the next save
    answers = dict(dossier.answers)
    answers.update({k: typed[k] for k in result.conflicts})
    visibility = _visibility(procedure, current, answers, ctx, request.form, dossier=dossier)
    fields = procedure.all_fields()
    # One render: the save status, then the fields whose visibility changed (out of band).
    response = make_response(render_template(
        "demarches/_autosave.html", **visibility, state="conflict" if result.conflicts else "saved",
        saved_at=utcnow(), step_announce=visibility["announce_text"],
        conflicts=[(fields[k], engine.display_value(fields[k], v), engine.display_value(fields[k], typed[k]))
                   for k, v in result.conflicts.items()],
        elsewhere=[fields[k].label for k in result.changed_elsewhere], refused=list(too_long.values()),
        base_json=json.dumps(new_base, ensure_ascii=False), version=dossier.version))
    return response


@bp.get("/brouillons/<int:dossier_id>/recapitulatif")
@login_required
def summary(dossier_id: int):
    dossier, procedure = _draft_or_404(dossier_id)
    if not dossier.is_draft:
        return see_other("demarches.request_page", reference=dossier.reference)
    return _render_summary(dossier, procedure)


@bp.post("/brouillons/<int:dossier_id>/deposer")
@login_required
def submit(dossier_id: int):
    """Final check, then one request only: a resent form lands on the same confirmation."""
    dossier, procedure = _draft_or_404(dossier_id)
    if not dossier.is_draft:
        return see_other("demarches.confirmation", reference=dossier.reference)
    if request.form.get("version") != str(dossier.version):
        return _render_summary(dossier, procedure, stale=True, status=409)
    ctx = services.context_for(dossier, procedure)
    problems = engine.validate_all(procedure, dossier.answers, services.settings(), ctx)
    for step_id, messages in services.file_check_errors(procedure, dossier, ctx).items():
        problems.setdefault(step_id, {}).update(messages)  # files are sent checked, or not at all
    if problems:
        return _render_summary(dossier, procedure, problems=problems, status=422)
    if not services.submit(dossier, procedure, ctx):
        return see_other("demarches.confirmation", reference=dossier.reference)
    return see_other("demarches.confirmation", reference=dossier.reference)


@bp.route("/brouillons/<int:dossier_id>/supprimer", methods=["GET", "POST"])
@login_required
def delete(dossier_id: int):
    dossier, procedure = _draft_or_404(dossier_id)
    if not dossier.is_draft:
        abort(404)
    if request.method == "POST":
        services.delete_draft(dossier)
        flash(f"Le brouillon « {procedure.title} » a été supprimé.", "success")
        return see_other("demarches.mine")
    return render_page("demarches/delete.html", dossier=dossier, procedure=procedure)


# --- Mes démarches and tracking ------------------------------------------------------------


@bp.get("/mes-demarches")
@login_required
def mine():
    size = int(current_app.config["DEMARCHES_PAGE_SIZE"])
    drafts_page = parse_page(request.args.get("brouillons"))
    requests_page = parse_page(request.args.get("demandes"))
    base = select(Dossier).where(Dossier.user_id == current_user.id)
    draft_q = base.where(Dossier.submitted_at.is_(None))
    sent_q = base.where(Dossier.submitted_at.is_not(None))
    drafts = db.session.scalars(draft_q.order_by(Dossier.updated_at.desc(), Dossier.id.desc())
                                .limit(size).offset((drafts_page - 1) * size)).all()
    # Each request's history in one statement (its status label and last change read it).
    sent = db.session.scalars(sent_q.order_by(Dossier.status_changed_at.desc(), Dossier.id.desc())
                              .options(selectinload(Dossier.events))
                              .limit(size).offset((requests_page - 1) * size)).all()
    drafts_total, sent_total = db.session.execute(
        select(func.count().filter(Dossier.submitted_at.is_(None)),
               func.count().filter(Dossier.submitted_at.is_not(None)))
        .where(Dossier.user_id == current_user.id)).one()
    return render_page("demarches/mine.html", drafts=drafts, sent=sent, size=size,
                       drafts_page=drafts_page, requests_page=requests_page,
                       drafts_total=drafts_total, sent_total=sent_total,
                       procedures=procedures(), status_label=services.status_label,
                       last_change=services.last_visible_change,
                       purge_date=_purge_date, step_title=_step_title)


@bp.get("/demandes/<reference>")
@login_required
def request_page(reference: str):
    dossier, procedure = _request_or_404(reference)
    ctx = services.context_for(dossier, procedure)
    status = services.status_of(dossier)
    return render_page("demarches/request.html", dossier=dossier, procedure=procedure,
                       status_label=services.status_label(dossier), history=services.visible_history(dossier),
                       rows=services.summary(procedure, dossier, ctx), deadlines=services.deadlines(dossier, procedure),
                       message=services.status_message(dossier, status) if status and status.visible else "",
                       data_lines=services.data_lines(status, dossier.status_data or {}) if status else [])


@bp.get("/demandes/<reference>/confirmation")
@login_required
def confirmation(reference: str):
    dossier, procedure = _request_or_404(reference)
    from portal.notifications.services import email_wanted

    return render_page("demarches/confirmation.html", dossier=dossier, procedure=procedure,
                       deadlines=services.deadlines(dossier, procedure), user=current_user,
                       emailed=email_wanted(current_user, "status"))


@bp.get("/demandes/<reference>/recepisse.pdf")
@login_required
def receipt(reference: str):
    dossier, procedure = _request_or_404(reference)
    response = make_response(services.receipt_pdf(dossier, procedure))
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="recepisse-{dossier.reference}.pdf"'
    return response


@bp.get("/dossiers/<int:dossier_id>/fichiers/<int:file_id>")
@login_required
def download(dossier_id: int, file_id: int):
    from io import BytesIO

    from portal.files.services import load_bytes

    dossier, row = _file_or_404(dossier_id, file_id)
    if not row.is_checked:
        flash(f"Le fichier « {row.original_name} » ne peut pas être téléchargé : "
              + ("il est en cours de vérification." if row.is_pending else "il a été refusé à la vérification."),
              "warning")
        if dossier.is_draft:
            return see_other("demarches.resume", dossier_id=dossier.id)
        return see_other("demarches.request_page", reference=dossier.reference)
    return send_file(BytesIO(load_bytes(row.storage_key)), mimetype=row.content_type,
                     as_attachment=True, download_name=row.original_name)


@bp.get("/dossiers/<int:dossier_id>/fichiers/<int:file_id>/verification")
@login_required
@background_request
def file_check_state(dossier_id: int, file_id: int):
    """htmx: where a file's check stands (polled while it is pending)."""
    _dossier, row = _file_or_404(dossier_id, file_id)
    return render_template("demarches/_file_check.html", stored=row, dossier_id=dossier_id)


# --- helpers -------------------------------------------------------------------------------


def _file_or_404(dossier_id: int, file_id: int) -> tuple[Dossier, DossierFile]:
    dossier = services.user_dossier(current_user, dossier_id) or abort(404)
    row = db.session.get(DossierFile, file_id)
    if row is None or row.dossier_id != dossier.id:
        abort(404)
    return dossier, row


def _draft_limit(procedure: Procedure, drafts: list[Dossier]) -> Response:
    """Too many open drafts of this procedure: offer to resume (or delete) one instead."""
    return render_page("demarches/draft_limit.html", status=409, procedure=procedure, drafts=drafts,
                       purge_date=_purge_date)


def _already_sent(dossier: Dossier) -> str:
    return (f"Cette demande a déjà été déposée le {services.french_date(dossier.submitted_at)} : "
            "la modification envoyée n'a pas été enregistrée. Pour signaler un changement, "
            "contactez le service qui traite votre demande.")


def _without(typed: dict[str, Any], refused: dict[str, str]) -> dict[str, Any]:
    """The answers to save: those refused for their length are left as they were stored."""
    return {k: v for k, v in typed.items() if not _top_key(k, refused)}


def _top_key(field_id: str, errors: dict[str, str]) -> bool:
    """Whether an error (keyed ``id`` or ``id-part`` / ``id-0-child``) concerns this field."""
    return any(key == field_id or key.startswith(field_id + "-") for key in errors)



def _procedure_or_404(procedure_id: str) -> Procedure:
    procedure = get_procedure(procedure_id)
    if procedure is None:
        abort(404)
    return procedure


def _draft_or_404(dossier_id: int) -> tuple[Dossier, Procedure]:
    dossier = services.user_dossier(current_user, dossier_id)
    if dossier is None:
        abort(404)
    return dossier, get_procedure(dossier.procedure_id)


def _request_or_404(reference: str) -> tuple[Dossier, Procedure]:
    dossier = services.find_by_reference(reference)
    if dossier is None or dossier.user_id != current_user.id or dossier.is_draft:
        abort(404)
    return dossier, get_procedure(dossier.procedure_id)


def _audience_message(procedure: Procedure) -> str:
    if procedure.audience == ["organisation"]:
        return "Cette démarche est réservée aux comptes des organismes."
    return "Cette démarche est réservée aux particuliers : elle ne peut pas être faite avec un compte d'organisme."


def _base_context() -> dict[str, Any]:
    cfg = current_app.config
    return {"departement_name": cfg["DEMARCHES_DEPARTEMENT_NAME"], "departement": cfg["DEMARCHES_DEPARTEMENT"]}


def _posted(step: Step, form) -> dict[str, Any]:
    return {f.id: engine.read_field(f, form) for f in step.fields
            if f.has_value and f.type != "file" and engine.form_has_field(f, form)}


def _base_from(form) -> dict[str, Any] | None:
    """The answers the page was shown with (JSON); anything else, however deep, is no base."""
    try:
        base = json.loads(form.get("_base", ""))
    except (ValueError, RecursionError):
        return None
    return base if isinstance(base, dict) else None


def _uploads(dossier: Dossier, procedure: Procedure, step: Step, ctx: dict) -> dict[str, str]:
    """Each visible file field: a file from the computer (kept in the wallet too when the box
    is ticked) or a document chosen in the wallet (copied into the request). When both are
    sent, the file from the computer wins, as the wallet list's hint tells the person."""
    from portal.files.services import UploadRejected

    errors = {}
    for f in engine.visible_fields(step, procedure, dossier.answers, ctx):
        if f.type != "file":
            continue
        upload = request.files.get(f.id)
        chosen = request.form.get(f"{f.id}-porte-documents", "")
        try:
            if upload is not None and upload.filename:
                row = services.attach_file(dossier, f.id, upload)
                if request.form.get(f"{f.id}-conserver"):
                    services.keep_file_in_wallet(current_user, dossier, f, row)
            elif chosen:
                services.attach_from_wallet(current_user, dossier, f, chosen)
        except UploadRejected as exc:
            errors[f.id] = str(exc)
    return errors


def _group_action(dossier: Dossier, step: Step, action: str) -> None:
    parts = action.split(":")
    group = next((f for f in step.fields if f.id == parts[1] and f.type == "group"), None)
    if group is None:
        return
    items = list(dossier.answers.get(group.id) or [])
    if parts[0] == "ajouter" and len(items) < int(group.get("max_items") or 20):
        items.append({c.id: "" for c in group.children})
    elif parts[0] == "retirer" and len(parts) == 3 and parts[2].isdigit() and int(parts[2]) < len(items):
        items.pop(int(parts[2]))
    services.save_answers(dossier, {group.id: items}, None, step.id)


def _focus_after(step: Step, dossier: Dossier, action: str) -> str:
    """Where the focus goes once the page comes back (no JavaScript needed): the first input of
    the person just added, the group an item was removed from, the file input emptied."""
    kind, field_id = action.split(":")[:2]
    group = next((f for f in step.fields if f.id == field_id and f.type == "group"), None)
    if kind == "ajouter" and group is not None and group.children:
        items = dossier.answers.get(field_id) or []
        if items:
            return f"f-{field_id}-{len(items) - 1}-{group.children[0].id}"
    return f"f-{field_id}"


def _next_step(procedure: Procedure, dossier: Dossier, current: Step, ctx: dict) -> Step | None:
    visible = engine.visible_steps(procedure, dossier.answers, ctx)
    ids = [s.id for s in visible]
    if current.id in ids:
        index = ids.index(current.id)
        return visible[index + 1] if index + 1 < len(visible) else None
    later = procedure.steps[procedure.steps.index(current) + 1:]
    return next((s for s in later if s.id in ids), None)


def _revealed(procedure: Procedure, step: Step, answers: dict, ctx: dict, form) -> list:
    """The questions this post makes visible that were not on the page it came from (the
    ``_shown`` list the page carried): without JavaScript they must be asked, not skipped."""
    if "_shown" not in form:
        return []
    before = set(filter(None, form.get("_shown", "").split(",")))
    return [f for f in engine.visible_fields(step, procedure, answers, ctx)
            if f.has_value and f.id not in before]


def _error_field(key: str) -> str:
    """The top-level field an error key belongs to (``adresse-code_postal``, ``aidants-0-nom``)."""
    return key.split("-", 1)[0]


def _shown(procedure: Procedure, step: Step, answers: dict, ctx: dict) -> list[str]:
    return [f.id for f in engine.visible_fields(step, procedure, answers, ctx)]


def _step_context(dossier, procedure, current, ctx, answers, errors, base, conflicts, back_to_summary):
    visible = engine.visible_steps(procedure, answers, ctx)
    ids = [s.id for s in visible]
    index = ids.index(current.id) if current.id in ids else 0
    following = visible[index + 1] if index + 1 < len(visible) else None
    previous = visible[index - 1] if index > 0 else None
    fields = procedure.all_fields()
    conflict_items = [(fields[k], engine.display_value(fields[k], v)) for k, v in conflicts.items()]
    return dict(dossier=dossier, procedure=procedure, step=current, steps=visible, index=index,
                done=_done_steps(procedure, answers, ctx, visible),
                following=following, previous=previous, answers=answers, errors=errors,
                conflict_items=conflict_items, ctx=ctx, back_to_summary=back_to_summary,
                shown=_shown(procedure, current, answers, ctx),
                base_json=json.dumps(base, ensure_ascii=False),
                page_has_errors=bool(errors or conflicts), purge_date=_purge_date(dossier),
                dead_end=_dead_end(current, ctx))


def _done_steps(procedure: Procedure, answers: dict, ctx: dict, steps) -> set[str]:
    """The steps the side list marks « terminée »: answered, and valid as they stand."""
    settings = services.settings()
    return {s.id for s in steps
            if any(not engine.is_empty(answers.get(f.id)) for f in s.fields if f.has_value)
            and not engine.validate_step(s, procedure, answers, settings, ctx)}


def _nothing_to_link(procedure: Procedure) -> bool:
    """Before any draft: the procedure needs a decided request of the person and there is none
    (a RAPO): the information page says what to do instead of offering « Commencer »."""
    if not current_user.is_authenticated:
        return False
    return any(f.type == "linked_request" and f.required
               and not services.linked_candidates(current_user.id, f.get("procedure"))
               for f in procedure.steps[0].fields)


def _dead_end(step, ctx) -> bool:
    """A required "linked request" with nothing to link (RAPO without a decision on the portal):
    saving cannot help, so the page says what to do instead of offering to continue."""
    return any(f.type == "linked_request" and f.required and not ctx.get(f"choices_{f.id}")
               for f in step.fields)


def _visibility_fragment(procedure, step, answers, ctx, form, dossier=None, announce_only=False) -> Response:
    """OOB swaps for the fields whose visibility changed, the computed texts and the step list."""
    visibility = _visibility(procedure, step, answers, ctx, form, dossier, announce_only)
    # The announcement is in the fragment, never a header: labels hold ’ or œ (latin-1 headers).
    return make_response(render_template("demarches/_oob.html", **visibility))


def _visibility(procedure, step, answers, ctx, form, dossier=None, announce_only=False) -> dict[str, Any]:
    """What ``_oob.html`` shows: the fields whose visibility changed since the page was drawn
    (``_shown``), the computed texts, the step list, and the announcement of the change."""
    before = set(filter(None, form.get("_shown", "").split(",")))
    visible = engine.visible_fields(step, procedure, answers, ctx)
    now_shown = {f.id for f in visible}
    changed = [f for f in step.fields if (f.id in now_shown) != (f.id in before)]
    computed = [f for f in visible if f.type == "computed" and f not in changed]
    appeared = [f for f in changed if f.id in now_shown and f.label]
    gone = [f for f in changed if f.id not in now_shown and f.label]
    warnings = [f for f in changed if f.id in now_shown and f.get("level") == "warning"]
    steps = engine.visible_steps(procedure, answers, ctx) if dossier else None
    announce = " ".join(
        [f"Information : {_fill(f.get('text'), ctx)}" for f in warnings]
        + [f"Nouvelle question affichée : « {_fill(f.label, ctx)} »." for f in appeared]
        + [f"Question retirée : « {_fill(f.label, ctx)} »." for f in gone]
        + _steps_change(procedure, form, steps))
    return dict(procedure=procedure, step=step, answers=answers, changed=changed, computed=computed,
                shown=now_shown, ctx=ctx, errors={}, dossier=dossier, steps=steps,
                done=_done_steps(procedure, answers, ctx, steps) if steps else set(),
                announce=announce if announce_only else "", announce_text=announce)


def _steps_change(procedure: Procedure, form, steps) -> list[str]:
    """What an answer did to the list of steps (``_steps`` is the list the page shows)."""
    if steps is None or "_steps" not in form:
        return []
    before = [s for s in form.get("_steps", "").split(",") if s]
    now = [s.id for s in steps]
    if before == now:
        return []
    titles = {s.id: s.title for s in procedure.steps}
    said = [f"Étape ajoutée : « {titles[s]} »." for s in now if s not in before]
    said += [f"Étape retirée : « {titles[s]} »." for s in before if s not in now and s in titles]
    return said + [f"La démarche compte maintenant {len(now)} étapes."]


def _fill(text: str, ctx: dict) -> str:
    for key, value in ctx.items():
        if isinstance(value, str):
            text = text.replace("{" + key + "}", value)
    return text


def _conflict_text(procedure: Procedure, conflicts: dict, typed: dict) -> str:
    fields = procedure.all_fields()
    parts = [f"« {fields[k].label} » (enregistré ailleurs : {engine.display_value(fields[k], v) or 'vide'} ; "
             f"votre saisie : {engine.display_value(fields[k], typed.get(k)) or 'vide'})"
             for k, v in conflicts.items()]
    return ("Certaines réponses ont été modifiées dans un autre onglet ou sur un autre appareil : "
            + ", ".join(parts) + ". Vérifiez-les avant de continuer.")


def _stash_and_relogin(dossier_id: int, step_id: str, fragment: bool = False) -> Response:
    """The session expired while typing: keep the answers, ask to log in, apply them after."""
    dossier = db.session.get(Dossier, dossier_id)
    procedure = get_procedure(dossier.procedure_id) if dossier else None
    previous_user = session.get("_user_id")
    current = procedure.step(step_id) if procedure else None
    if dossier is None or current is None or str(dossier.user_id) != str(previous_user) or not dossier.is_draft:
        abort(404)
    data = _posted(current, request.form)
    data = _without(data, engine.oversized_answers(current, data))
    data["_base"] = _base_from(request.form)
    token = services.stash_answers(dossier.id, current.id, data)
    next_url = url_for("demarches.resume", dossier_id=dossier.id, reprise=token)
    login_url = url_for("accounts.login", next=next_url)
    if fragment:
        return make_response(render_template("demarches/_save_status.html", state="expired",
                                             login_url=login_url))
    flash("Votre session a expiré. Vos réponses sont conservées : reconnectez-vous pour continuer.", "warning")
    return redirect(login_url, code=303)


def _purge_date(dossier: Dossier) -> str:
    months = int(current_app.config["DEMARCHES_DRAFT_MONTHS"])
    return services.french_date(services._after(dossier.updated_at, {"months": months}))


def _render_summary(dossier, procedure, problems=None, stale=False, status=200):
    ctx = services.context_for(dossier, procedure)
    if problems is None and status == 200:
        problems = engine.validate_all(procedure, dossier.answers, services.settings(), ctx)
        show_errors = False
    else:
        show_errors = bool(problems)
    return render_page("demarches/summary.html", status=status, dossier=dossier, procedure=procedure,
                       rows=services.summary(procedure, dossier, ctx), problems=problems or {},
                       show_errors=show_errors, stale=stale, page_has_errors=show_errors or stale,
                       ctx=ctx, file_warnings=services.file_warnings(procedure, dossier, ctx) + [
                           (procedure.all_fields()[key], message) for messages in
                           services.file_check_errors(procedure, dossier, ctx).values()
                           for key, message in messages.items()])


@bp.app_template_filter("demarche_text")
def demarche_text(text: str) -> str:
    cfg = current_app.config
    return _fill(str(text or ""), {"departement_name": cfg["DEMARCHES_DEPARTEMENT_NAME"],
                                   "departement": cfg["DEMARCHES_DEPARTEMENT"]})


@bp.app_template_global("computed")
def computed(field, answers, procedure, ctx) -> str:
    return engine.computed_text(field, answers, procedure, ctx)


@bp.app_template_global("demarche_wallet_choices")
def demarche_wallet_choices(dossier, field) -> list:
    """"Choisir dans mon porte-documents" for a file field: the beneficiary's documents."""
    if not current_user.is_authenticated:
        return []
    return services.wallet_choices(current_user, dossier, field)


@bp.app_template_global("demarche_file_row")
def demarche_file_row(dossier, value):
    """The stored file of a file answer, for its check's state."""
    return services.file_row(dossier, value) if dossier is not None else None


@bp.app_template_global("demarche_file_warning")
def demarche_file_warning(field, value) -> str:
    return services.file_warning(field, value)


# WCAG 1.3.5: the purpose of a field about the person, from what it is prefilled with.
PREFILL_AUTOCOMPLETE = {"nom": "family-name", "prenom": "given-name", "date_naissance": "bday",
                        "email": "email", "telephone": "tel"}


@bp.app_template_global("autocomplete_for")
def autocomplete_for(field) -> str:
    """The ``autocomplete`` token of a field: its own ``autocomplete``, or its prefill's."""
    return field.get("autocomplete") or PREFILL_AUTOCOMPLETE.get(field.get("prefill") or "", "")


@bp.app_template_global("autofocus_if")
def autofocus_if(element_id: str) -> Markup:
    """`` autofocus`` on the element named by ``?focus=`` (after « Ajouter », « Retirer »,
    « Supprimer »: the page comes back with the focus where the action left it)."""
    return Markup(" autofocus") if request.args.get("focus") == element_id else Markup("")


@bp.app_template_global("paris_time")
def paris_time(value) -> str:
    return value.astimezone(services.PARIS).strftime("%H h %M")


@bp.app_template_global("french_date")
def french_date(value) -> str:
    return services.french_date(value)
