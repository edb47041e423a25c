"""Account forms. Messages come from the seeds where they give them."""

from __future__ import annotations

import re
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from portal.accounts.passwords import current_policy
from portal.core.forms import Form as FlaskForm
from portal.core.names import PersonName

EMAIL_MESSAGE = _l("La saisie de l'email est obligatoire et doit être une adresse email valide.")


class ValidEmail:
    """Required, and a syntactically valid address (no DNS look-up)."""

    field_flags = {"required": True}

    def __init__(self, message=EMAIL_MESSAGE):
        self.message = message

    def __call__(self, form, field):
        value = (field.data or "").strip()
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValidationError(str(self.message)) from exc
        field.data = value


class StrongPassword:
    def __call__(self, form, field):
        errors = current_policy().errors(field.data or "")
        if errors:
            raise ValidationError(
                str(_l("Le mot de passe ne respecte pas les règles : %(rules)s.",
                       rules=" ; ".join(e[0].lower() + e[1:] for e in errors)))
            )


def email_field(label, **kw):
    return StringField(label, validators=[ValidEmail()], render_kw={"autocomplete": "email",
                       "spellcheck": "false", "inputmode": "email"}, **kw)


def confirmation_of(other: str, label, message):
    return StringField(label, validators=[DataRequired(message=str(message)),
                                          EqualTo(other, message=str(message))],
                       render_kw={"autocomplete": "email", "spellcheck": "false"})


def new_password_fields():
    password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[DataRequired(message=_l("La saisie du nouveau mot de passe est obligatoire.")),
                    StrongPassword()],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Confirmer votre mot de passe"),
        validators=[DataRequired(message=_l("La confirmation du mot de passe est obligatoire.")),
                    EqualTo("password", message=_l("Les deux mots de passe doivent être identiques."))],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class LoginForm(FlaskForm):
    login = StringField(
        _l("Email / Identifiant"),
        validators=[DataRequired(message=_l("La saisie de l'identifiant est obligatoire."))],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(message=_l("La saisie du mot de passe est obligatoire."))],
        render_kw={"autocomplete": "current-password"},
    )


class RegisterForm(FlaskForm):
    email = email_field(_l("Email"))
    email_confirm = confirmation_of("email", _l("Confirmation de l'Email"),
                                    _l("Les deux adresses email doivent être identiques."))


class SetPasswordForm(FlaskForm):
    password, password_confirm = new_password_fields()


class FirstConnectionForm(FlaskForm):
    temporary_password = PasswordField(
        _l("Mot de passe temporaire"),
        validators=[DataRequired(message=_l("La saisie du mot de passe temporaire est obligatoire."))],
        render_kw={"autocomplete": "current-password"},
    )
    password, password_confirm = new_password_fields()
    email = email_field(_l("Email"))
    email_confirm = confirmation_of("email", _l("Confirmation de votre adresse email"),
                                    _l("Les deux adresses email doivent être identiques."))


class ForgotIdentifierForm(FlaskForm):
    email = email_field(_l("Email"))


class ForgotPasswordForm(FlaskForm):
    login = StringField(
        _l("Identifiant"),
        validators=[DataRequired(message=_l("La saisie de l'identifiant est obligatoire."))],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )


NUMERIC_DATE = re.compile(r"\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{4}\s*")


def date_format_message(value: str, example: str) -> str:
    """Why a typed date was refused: a day or month that does not exist, or the format."""
    if NUMERIC_DATE.fullmatch(value or ""):
        return str(_l("Cette date n'existe pas : vérifiez le jour et le mois (JJ/MM/AAAA)."))
    return str(_l("La date doit être au format JJ/MM/AAAA, par exemple %(example)s.", example=example))


def parse_french_date(value: str) -> date:
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


class FrenchDate:
    def __call__(self, form, field):
        if not field.data:
            field.parsed = None
            return
        try:
            parsed = parse_french_date(field.data)
        except ValueError as exc:
            raise ValidationError(date_format_message(field.data, "14/07/1985")) from exc
        if parsed > date.today() or parsed.year < 1900:
            raise ValidationError(str(_l("La date de naissance doit être une date passée.")))
        field.parsed = parsed


def _pattern(regex: str, message, ignore: str = r"\s"):
    """Optional field that, when filled, must match ``regex`` once ``ignore`` is removed."""

    def check(form, field):
        value = re.sub(ignore, "", field.data or "")
        if value and not re.fullmatch(regex, value):
            raise ValidationError(str(message))

    return check


class ProfileForm(FlaskForm):
    civilite = RadioField(_l("Civilité"), choices=[("Madame", _l("Madame")), ("Monsieur", _l("Monsieur"))],
                          validators=[Optional()])
    nom = StringField(_l("Nom"), validators=[Optional(), PersonName()],
                      render_kw={"autocomplete": "family-name"})
    prenom = StringField(_l("Prénom"), validators=[Optional(), PersonName()],
                         render_kw={"autocomplete": "given-name"})
    date_naissance = StringField(_l("Date de naissance"), validators=[FrenchDate()],
                                 description=_l("Au format JJ/MM/AAAA, par exemple 14/07/1985."),
                                 render_kw={"autocomplete": "bday", "inputmode": "numeric"})
    lieu_naissance = StringField(_l("Lieu de naissance"), validators=[Optional(), Length(max=120)])
    adresse = StringField(_l("Adresse postale"), validators=[Optional(), Length(max=250)],
                          render_kw={"autocomplete": "street-address"})
    code_postal = StringField(
        _l("Code postal"),
        validators=[_pattern(r"\d{5}", _l("Le code postal doit comporter 5 chiffres, par exemple 75001."))],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric"},
    )
    commune = StringField(_l("Commune"), validators=[Optional(), Length(max=120)],
                          render_kw={"autocomplete": "address-level2"})
    telephone = StringField(
        _l("Téléphone"),
        validators=[_pattern(r"(?:\+33|0033|0)[1-9]\d{8}",
                             _l("Le numéro de téléphone doit être un numéro français, par exemple 06 12 34 56 78."),
                             ignore=r"[\s.\-]")],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(message=_l("La saisie du mot de passe actuel est obligatoire."))],
        render_kw={"autocomplete": "current-password"},
    )
    password, password_confirm = new_password_fields()


class ChangeEmailForm(FlaskForm):
    email = email_field(_l("Nouvelle adresse email"))
    email_confirm = confirmation_of("email", _l("Confirmation de la nouvelle adresse email"),
                                    _l("Les deux adresses email doivent être identiques."))
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(message=_l("La saisie du mot de passe actuel est obligatoire."))],
        render_kw={"autocomplete": "current-password"},
    )


class DeleteAccountForm(FlaskForm):
    current_password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(message=_l("La saisie du mot de passe est obligatoire."))],
        render_kw={"autocomplete": "current-password"},
    )
