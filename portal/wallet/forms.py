"""Porte-documents forms."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.accounts.forms import date_format_message, parse_french_date
from portal.core.forms import Form as FlaskForm
from portal.core.ids import parse_id

try:  # WTForms 3.3 deprecates plain tuples as select choices
    from wtforms.fields.choices import SelectChoice as choice
except ImportError:  # pragma: no cover - older WTForms
    def choice(value, label):
        return (value, label)
from portal.wallet.services import KINDS, SELF

TITLE_REQUIRED = _l("Saisissez un titre pour ce document.")
DATE_FORMAT = _l("La date doit être au format JJ/MM/AAAA, par exemple 14/07/2025.")


class RequiredFile:
    """Marks the field required; the content checks themselves live in portal.files."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        if not getattr(field.data, "filename", None):
            raise ValidationError(str(_l("Sélectionnez un fichier.")))


class DocumentDate:
    """An optional date typed as JJ/MM/AAAA; the parsed value goes to ``field.parsed``."""

    def __init__(self, past_only: bool = False):
        self.past_only = past_only

    def __call__(self, form, field):
        field.parsed = None
        if not (field.data or "").strip():
            return
        try:
            parsed = parse_french_date(field.data)
        except ValueError as exc:
            raise ValidationError(date_format_message(field.data, "14/07/2025")) from exc
        if parsed.year < 1900 or parsed.year > 2200:
            raise ValidationError(str(DATE_FORMAT))
        if self.past_only and parsed > date.today():
            raise ValidationError(str(_l("La date de délivrance ne peut pas être dans le futur.")))
        field.parsed = parsed


def kind_choices() -> list:
    return [choice(value, label) for value, label in KINDS.items()]


def title_field():
    return StringField(_l("Titre"), validators=[DataRequired(message=TITLE_REQUIRED),
                                                Length(max=150, message=_l("Le titre ne doit pas dépasser 150 caractères."))],
                       description=_l("Par exemple : Facture d'électricité de mars."))


# Declared before the details so that, in the add form, the file comes first in the error summary
# (WTForms orders fields by creation).
_file_field = FileField(_l("Fichier"), validators=[RequiredFile()],
                        description=_l("Formats acceptés : PDF, JPEG ou PNG. Taille maximale : %(size)s.",
                                       size="10 Mo"),
                        render_kw={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"})


class DocumentDetailsForm(FlaskForm):
    """What describes a document: used to add one (with its file) and to modify it."""

    kind = SelectField(_l("Type de document"),
                       choices=[choice("", _l("Choisissez un type"))] + kind_choices(),
                       validators=[DataRequired(message=_l("Choisissez le type de document."))])
    title = title_field()
    person = RadioField(_l("Personne concernée"), default=SELF,
                        validators=[DataRequired(message=_l("Indiquez la personne concernée."))])
    issued_on = StringField(_l("Date de délivrance (facultatif)"), validators=[DocumentDate(past_only=True)],
                            description=_l("Au format JJ/MM/AAAA. Elle permet de savoir si le document est "
                                           "assez récent pour une démarche."),
                            render_kw={"inputmode": "numeric"})
    valid_until = StringField(_l("Date de fin de validité (facultatif)"), validators=[DocumentDate()],
                              description=_l("Au format JJ/MM/AAAA, pour une pièce d'identité ou un titre "
                                             "de séjour par exemple."),
                              render_kw={"inputmode": "numeric"})

    @classmethod
    def of_document(cls, document) -> DocumentDetailsForm:
        """The form filled with a document's details (the posted ones win on a POST)."""
        def typed(day):
            return day.strftime("%d/%m/%Y") if day else ""
        return cls(data={"kind": document.kind, "title": document.title,
                         "person": SELF if document.relation_id is None else str(document.relation_id),
                         "issued_on": typed(document.issued_on), "valid_until": typed(document.valid_until)})

    def set_people(self, relations: list[tuple[int, str]]) -> None:
        self.person.choices = [(SELF, str(_l("Moi")))] + [(str(i), label) for i, label in relations]

    @property
    def relation_id(self) -> int | None:
        """The chosen person as the wallet stores it: None for "Moi", else the relation's id."""
        return None if self.person.data == SELF else parse_id(self.person.data)

    def validate_valid_until(self, field):
        issued = getattr(self.issued_on, "parsed", None)
        until = getattr(field, "parsed", None)
        if issued and until and until < issued:
            raise ValidationError(str(_l("La date de fin de validité doit être après la date de délivrance.")))


class AddDocumentForm(DocumentDetailsForm):
    file = _file_field

    def set_people(self, relations: list[tuple[int, str]], upload_limit: str) -> None:
        super().set_people(relations)
        self.file.description = _l("Formats acceptés : PDF, JPEG ou PNG. Taille maximale : %(size)s.",
                                   size=upload_limit)


class DeleteForm(FlaskForm):
    """Only the CSRF token: the confirmation page is the question."""


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    kind = SelectField(_l("Type de document"), choices=[choice("", _l("Tous les types"))] + kind_choices())
    person = SelectField(_l("Personne concernée"))

    def set_people(self, relations: list[tuple[int, str]]) -> None:
        self.person.choices = [choice("", str(_l("Toutes les personnes"))), choice(SELF, str(_l("Moi")))] + [
            choice(str(i), label) for i, label in relations
        ]
