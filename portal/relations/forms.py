"""Forms for a natural person and for a legal person. Messages are French and say how to fix."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.accounts.forms import FrenchDate
from portal.core.forms import Form as FlaskForm
from portal.core.names import PersonName
from portal.relations.services import (
    KIND_LABELS,
    LEGAL_KINDS,
    NATURAL_KINDS,
    normalise_siret,
    postcode_is_valid,
    siret_is_valid,
)

POSTCODE_FORMAT = _l("Le code postal doit comporter 5 chiffres, par exemple 75001.")
POSTCODE_UNKNOWN = _l("Ce code postal n'existe pas en France : vérifiez les 5 chiffres.")
SIRET_FORMAT = _l("Le numéro SIRET doit comporter 14 chiffres, par exemple 732 829 320 00074.")
SIRET_KEY = _l("Le numéro SIRET n'est pas valide : sa clé de contrôle ne correspond pas. "
               "Vérifiez les 14 chiffres.")


def required(message):
    return DataRequired(message=message)


class FrenchPostcode:
    """Empty is left to DataRequired/Optional; filled must be a French postcode."""

    def __call__(self, form, field):
        value = re.sub(r"\s", "", field.data or "")
        if not value:
            return
        if not re.fullmatch(r"\d{5}", value):
            raise ValidationError(str(POSTCODE_FORMAT))
        if not postcode_is_valid(value):
            raise ValidationError(str(POSTCODE_UNKNOWN))
        field.data = value


class Siret:
    def __call__(self, form, field):
        digits = normalise_siret(field.data)
        if not re.fullmatch(r"\d{14}", digits):
            raise ValidationError(str(SIRET_FORMAT))
        if not siret_is_valid(digits):
            raise ValidationError(str(SIRET_KEY))
        field.data = digits


def _address_fields(is_required: bool):
    def validators(message):
        return [required(message)] if is_required else [Optional()]

    adresse = StringField(_l("Adresse postale"),
                          validators=validators(_l("La saisie de l'adresse est obligatoire.")) + [Length(max=250)],
                          description=_l("Numéro et nom de la voie, par exemple 12 rue des Lilas."),
                          render_kw={"autocomplete": "off"})
    code_postal = StringField(_l("Code postal"),
                              validators=validators(_l("La saisie du code postal est obligatoire.")) + [FrenchPostcode()],
                              render_kw={"inputmode": "numeric", "autocomplete": "off"})
    commune = StringField(_l("Commune"),
                          validators=validators(_l("La saisie de la commune est obligatoire.")) + [Length(max=120)],
                          render_kw={"autocomplete": "off"})
    return adresse, code_postal, commune


class NaturalPersonForm(FlaskForm):
    kind = RadioField(_l("Lien avec vous"), choices=[(k, KIND_LABELS[k]) for k in NATURAL_KINDS],
                      validators=[required(_l("Veuillez indiquer votre lien avec cette personne."))])
    civilite = RadioField(_l("Civilité"), choices=[("Madame", _l("Madame")), ("Monsieur", _l("Monsieur"))],
                          validators=[required(_l("La saisie de la civilité est obligatoire."))])
    nom = StringField(_l("Nom"), validators=[required(_l("La saisie du nom est obligatoire.")),
                                             PersonName()], render_kw={"autocomplete": "off"})
    prenom = StringField(_l("Prénom"), validators=[required(_l("La saisie du prénom est obligatoire.")),
                                                   PersonName()], render_kw={"autocomplete": "off"})
    date_naissance = StringField(
        _l("Date de naissance"),
        validators=[required(_l("La saisie de la date de naissance est obligatoire.")), FrenchDate()],
        description=_l("Au format JJ/MM/AAAA, par exemple 14/07/2015."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    adresse, code_postal, commune = _address_fields(is_required=False)


class LegalPersonForm(FlaskForm):
    kind = RadioField(_l("Type de personne morale"), choices=[(k, KIND_LABELS[k]) for k in LEGAL_KINDS],
                      validators=[required(_l("Veuillez indiquer s'il s'agit d'une association ou d'une entreprise."))])
    raison_sociale = StringField(_l("Raison sociale"),
                                 validators=[required(_l("La saisie de la raison sociale est obligatoire.")),
                                             Length(max=200)],
                                 render_kw={"autocomplete": "off"})
    siret = StringField(_l("Numéro SIRET"),
                        validators=[required(_l("La saisie du numéro SIRET est obligatoire.")), Siret()],
                        description=_l("14 chiffres, les espaces sont acceptés."),
                        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"})
    adresse, code_postal, commune = _address_fields(is_required=True)


def form_values(form) -> dict:
    """The typed values for the service, the birth date parsed."""
    values = {name: f.data for name, f in form._fields.items() if name not in ("csrf_token", "kind")}
    if "date_naissance" in values:
        values["date_naissance"] = getattr(form.date_naissance, "parsed", None)
    return values
