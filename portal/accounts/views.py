"""Account pages: parse the form, call a service, render or redirect."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.accounts import forms, services
from portal.accounts.limits import limit_email_sending
from portal.accounts.passwords import current_policy, verify_password
from portal.core.web import form_status, render_page, safe_next, see_other
from portal.extensions import limiter

bp = Blueprint("accounts", __name__)

AUTH_LIMIT = "30 per minute"
GENERIC_LOGIN_ERROR = _l("Identifiant ou mot de passe incorrect.")
SAME_ANSWER_IDENTIFIER = _l(
    "Si cette adresse correspond à un compte, un email contenant votre identifiant vient de "
    "vous être envoyé."
)
SAME_ANSWER_PASSWORD = _l(
    "Si cet identifiant correspond à un compte, un email contenant un lien pour choisir un "
    "nouveau mot de passe vient d'être envoyé à l'adresse associée. Ce lien est valable une heure."
)
REGISTRATION_SENT = _l(
    "Vous allez recevoir un email vous indiquant la marche à suivre pour finaliser la création "
    "de votre compte."
)


def anonymous_only(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user.is_authenticated:
            return see_other("accounts.account")
        return view(*args, **kwargs)

    return wrapper


@bp.before_app_request
def guard_first_connection():
    """A session opened with a temporary password may only finish the first connection."""
    g.first_connection = False
    if request.endpoint in ("static", "pages.theme_css") or not current_user.is_authenticated:
        return None
    row = services.current_session_row()
    if row is not None and row.first_connection:
        g.first_connection = True
        allowed = {"accounts.first_connection", "accounts.logout", "accounts.check_password", "static",
                   "pages.theme_css"}
        if request.endpoint not in allowed and not (request.endpoint or "").startswith("pages."):
            return redirect(url_for("accounts.first_connection"), code=303)
    return None


def _cancel_url() -> str:
    """« Annuler » goes back where the person came from: ``next``, else a same-site referrer."""
    target = request.values.get("next")
    if not target and request.referrer:
        ref = urlsplit(request.referrer)
        if ref.netloc == request.host and ref.path != request.path:
            target = ref.path + (f"?{ref.query}" if ref.query else "")
    return safe_next(target)


# --- login / logout ---------------------------------------------------------------------


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@anonymous_only
def login():
    form = forms.LoginForm()
    error = None
    if form.validate_on_submit():
        result = services.authenticate(form.login.data, form.password.data, request.remote_addr or "",
                                       request.cookies.get(services.DEVICE_COOKIE))
        if result.retry_after:
            minutes = max(1, round(result.retry_after / 60))
            error = _("Trop de tentatives de connexion. Veuillez réessayer dans %(n)s minute(s).",
                      n=minutes)
        elif result.user is None:
            error = str(GENERIC_LOGIN_ERROR)
        else:
            services.start_session(result.user, first_connection=result.first_connection)
            if result.first_connection:
                services.end_other_sessions(result.user)  # one first connection at a time
                return see_other("accounts.first_connection")
            response = redirect(safe_next(request.args.get("next"), "accounts.account"), code=303)
            if not result.known_device:
                _remember_device(response, result.user)
            return response
    status = 422 if (form.errors or error) else 200
    return render_page("accounts/login.html", form=form, login_error=error, status=status)


def _remember_device(response, user) -> None:
    """A strictly necessary security cookie: this browser keeps its own login counter."""
    response.set_cookie(services.DEVICE_COOKIE, services.device_cookie_for(user),
                        max_age=int(services.DEVICE_MAX_AGE.total_seconds()), httponly=True,
                        samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False))


@bp.post("/deconnexion")
def logout():
    services.end_session()
    flash(_("Vous êtes déconnecté(e)."), "success")
    return see_other("pages.home")


# --- registration -----------------------------------------------------------------------


@bp.route("/inscription", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@anonymous_only
@limit_email_sending
def register():
    form = forms.RegisterForm()
    if form.validate_on_submit():
        services.record_account_request("register", form.email.data)
        return see_other("accounts.registration_sent")
    return render_page("accounts/register.html", form=form, status=form_status(form))


@bp.get("/inscription/envoyee")
def registration_sent():
    return render_page("accounts/message.html", title=_("Création de votre compte"),
                       message=str(REGISTRATION_SENT))


@bp.route("/inscription/confirmer/<token>", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def confirm_registration(token: str):
    record = services.find_token("register", token)
    if record is None:
        return _invalid_link()
    form = forms.SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.complete_registration(record, form.password.data)
        except services.AccountExists:
            flash(_("Un compte existe déjà pour cette adresse. Connectez-vous."), "info")
            return see_other("accounts.login")
        services.start_session(user)
        flash(_("Votre compte est créé. Votre identifiant est %(id)s.", id=user.identifier), "success")
        return see_other("accounts.account")
    return render_page("accounts/set_password.html", form=form, email=record.email,
                       title=_("Création de votre compte"), submit=_("Créer mon compte"),
                       status=form_status(form))


def _invalid_link():
    return render_page(
        "accounts/message.html",
        title=_("Lien invalide ou expiré"),
        message=_("Ce lien n'est plus valable : il a déjà été utilisé ou il a expiré. "
                  "Vous pouvez recommencer la démarche."),
        status=410,
    )


# --- first connection (seed 000) --------------------------------------------------------


@bp.route("/premiere-connexion", methods=["GET", "POST"])
@login_required
@limit_email_sending
def first_connection():
    if not g.get("first_connection"):
        return see_other("accounts.account")
    user = current_user._get_current_object()
    form = forms.FirstConnectionForm(data={"email": user.email} if request.method == "GET" else None)
    if form.validate_on_submit():
        valid = services.temporary_password_matches(user, form.temporary_password.data)
        if not valid:
            form.temporary_password.errors.append(_("Le mot de passe temporaire est incorrect."))
        else:
            pending = services.complete_first_connection(user, form.password.data, form.email.data)
            flash(_("Votre compte est créé. Vous pouvez désormais vous connecter avec votre "
                    "identifiant et votre nouveau mot de passe."), "success")
            if pending:
                flash(_("Un lien de confirmation a été envoyé à votre nouvelle adresse email."), "info")
            return see_other("accounts.account")
    return render_page("accounts/first_connection.html", form=form, user=user,
                       status=form_status(form))


# --- forgotten identifier and password --------------------------------------------------


@bp.route("/identifiant-oublie", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@limit_email_sending
def forgot_identifier():
    form = forms.ForgotIdentifierForm()
    if form.validate_on_submit():
        services.record_account_request("identifier_reminder", form.email.data)
        flash(str(SAME_ANSWER_IDENTIFIER), "success")
        return see_other("accounts.login")
    return render_page("accounts/forgot_identifier.html", form=form, cancel_url=_cancel_url(),
                       status=form_status(form))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@limit_email_sending
def forgot_password():
    form = forms.ForgotPasswordForm()
    if form.validate_on_submit():
        services.record_account_request("password_reset", form.login.data)
        flash(str(SAME_ANSWER_PASSWORD), "success")
        return see_other("accounts.login")
    return render_page("accounts/forgot_password.html", form=form, cancel_url=_cancel_url(),
                       status=form_status(form))


@bp.route("/mot-de-passe/reinitialiser/<token>", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def reset_password(token: str):
    record = services.find_token("reset", token)
    if record is None:
        return _invalid_link()
    form = forms.SetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(record, form.password.data)
        if current_user.is_authenticated:
            services.end_session()
        flash(_("Votre mot de passe a été modifié. Vous pouvez vous connecter."), "success")
        return see_other("accounts.login")
    return render_page("accounts/set_password.html", form=form, email=record.email,
                       title=_("Choisir un nouveau mot de passe"), submit=_("Valider"),
                       status=form_status(form))


@bp.post("/mot-de-passe/verifier")
def check_password():
    """htmx: the password rules with their state as the person types."""
    password = request.form.get("password", "")
    return render_page("accounts/_password_rules.html", block="password_rules", target="password-rules",
                       results=current_policy().evaluate(password), typed=bool(password))


# --- Mon compte -------------------------------------------------------------------------


def _password_confirmed(form, user, message: str | None = None) -> bool:
    """Sensitive changes ask for the current password again; a wrong one is a field error."""
    if verify_password(user.password_hash, form.current_password.data):
        return True
    form.current_password.errors.append(message or _("Le mot de passe actuel est incorrect."))
    return False


@bp.get("/compte")
@login_required
def account():
    return render_page("accounts/account.html", user=current_user)


@bp.route("/compte/informations", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user._get_current_object()
    form = forms.ProfileForm(obj=user if request.method == "GET" else None)
    if request.method == "GET" and user.date_naissance:
        form.date_naissance.data = user.date_naissance.strftime("%d/%m/%Y")
    if form.validate_on_submit():
        values = {name: (getattr(form, name).data or "").strip() for name in services.PROFILE_FIELDS}
        values["date_naissance"] = getattr(form.date_naissance, "parsed", None)
        services.update_profile(user, values)
        flash(_("Vos informations personnelles ont été enregistrées."), "success")
        return see_other("accounts.account")
    return render_page("accounts/profile.html", form=form, status=form_status(form))


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@login_required
@limit_email_sending
def change_password():
    user = current_user._get_current_object()
    form = forms.ChangePasswordForm()
    if form.validate_on_submit() and _password_confirmed(form, user):
        services.change_password(user, form.password.data)
        flash(_("Votre mot de passe a été modifié. Vos autres sessions ont été fermées."), "success")
        return see_other("accounts.account")
    return render_page("accounts/change_password.html", form=form, status=form_status(form))


@bp.route("/compte/email", methods=["GET", "POST"])
@login_required
@limit_email_sending
def change_email():
    user = current_user._get_current_object()
    form = forms.ChangeEmailForm()
    if form.validate_on_submit():
        if services.normalise_email(form.email.data) == user.email:
            form.email.errors.append(_("Cette adresse est déjà celle de votre compte."))
        elif _password_confirmed(form, user):
            services.request_email_change(user, form.email.data)
            flash(_("Un message de confirmation a été envoyé à %(email)s. Votre adresse ne change "
                    "qu'après avoir cliqué sur le lien qu'il contient.", email=form.email.data), "success")
            return see_other("accounts.account")
    return render_page("accounts/change_email.html", form=form, status=form_status(form))


@bp.route("/compte/email/confirmer/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    record = services.find_token("email_change", token)
    if record is None:
        return _invalid_link()
    if request.method == "POST":
        user = services.confirm_email_change(record)
        if user is None:
            return _invalid_link()
        flash(_("Votre adresse email est désormais %(email)s.", email=user.email), "success")
        return see_other("accounts.account" if current_user.is_authenticated else "accounts.login")
    return render_page("accounts/confirm_email.html", email=record.email)


@bp.route("/compte/supprimer", methods=["GET", "POST"])
@login_required
def delete_account():
    user = current_user._get_current_object()
    form = forms.DeleteAccountForm()
    if form.validate_on_submit() and _password_confirmed(form, user, _("Le mot de passe est incorrect.")):
        services.end_session()
        services.delete_account(user)
        flash(_("Votre compte et toutes les données qui y étaient rattachées ont été supprimés "
                "définitivement."), "success")
        return see_other("pages.home")
    return render_page("accounts/delete_account.html", form=form, status=form_status(form))



# --- htmx inline checks -----------------------------------------------------------------

CHECKED_FORMS = {
    "inscription": forms.RegisterForm,
    "premiere-connexion": forms.FirstConnectionForm,
    "email": forms.ChangeEmailForm,
    "informations": forms.ProfileForm,
}
INPUT_TYPES = {"email": "email", "email_confirm": "email", "telephone": "tel"}


@bp.post("/verifier/<form_key>/<name>")
@limiter.limit("120 per minute")
def check_field(form_key: str, name: str):
    """htmx: the field's group re-rendered with its own error, if any, after a change."""
    form_class = CHECKED_FORMS.get(form_key)
    if form_class is None:
        return render_page("errors/404.html", status=404)
    form = form_class(meta={"csrf": False})
    if name not in form._fields or name == "csrf_token":
        return render_page("errors/404.html", status=404)
    form.validate()
    for other_name, other in form._fields.items():
        if other_name != name:
            other.errors = []
    check_url = url_for("accounts.check_field", form_key=form_key, name=name)
    return render_page("accounts/_field.html", block="field_group", target=f"{form[name].id}-group", form=form, name=name,
                       type=INPUT_TYPES.get(name), check_url=check_url)
