"""Staff forms for the rendez-vous setup. Messages are French and say how to fix."""

from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, ValidationError

from portal.appointments.models import MOTIF_KINDS
from portal.appointments.slots import PARIS, SLOT_UNIT_MINUTES

WEEKDAYS = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"]


def required(message: str) -> DataRequired:
    return DataRequired(message=message)


class HourField(StringField):
    """« 09:00 » or « 9h00 », on the 5-minute grid every slot follows."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        raw = (self.data or "").strip().lower().replace("h", ":")
        if raw.endswith(":"):
            raw += "00"
        self.parsed = None
        try:
            self.parsed = datetime.strptime(raw, "%H:%M").time()
        except ValueError:
            return

    def pre_validate(self, form):
        if not (self.data or "").strip():
            return
        if getattr(self, "parsed", None) is None:
            raise ValidationError("Indiquez une heure au format hh:mm, par exemple 09:30.")
        if self.parsed.minute % SLOT_UNIT_MINUTES:
            raise ValidationError("Indiquez une heure ronde à 5 minutes près, par exemple 09:30 ou 09:35.")


class DayField(StringField):
    """A French date, jj/mm/aaaa."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.parsed = None
        try:
            self.parsed = datetime.strptime((self.data or "").strip(), "%d/%m/%Y").date()
        except ValueError:
            return

    def pre_validate(self, form):
        if (self.data or "").strip() and getattr(self, "parsed", None) is None:
            raise ValidationError("Indiquez une date au format jj/mm/aaaa, par exemple 24/12/2026.")


class LieuForm(FlaskForm):
    name = StringField("Nom du lieu", validators=[required("Indiquez le nom du lieu."), Length(max=150)])
    address = StringField("Adresse", validators=[required("Indiquez l'adresse du lieu."), Length(max=250)])
    access_info = TextAreaField("Accès et accessibilité", validators=[Optional(), Length(max=2000)],
                                description="Transports, stationnement, accès en fauteuil roulant, "
                                            "accueil particulier.")
    phone = StringField("Téléphone", validators=[Optional(), Length(max=30)])
    active = BooleanField("Lieu ouvert à la réservation", default=True)


class GuichetForm(FlaskForm):
    name = StringField("Nom du guichet", validators=[required("Indiquez le nom du guichet."), Length(max=100)])


class OpeningForm(FlaskForm):
    weekday = SelectField("Jour", choices=[(str(i), day) for i, day in enumerate(WEEKDAYS)])
    start = HourField("Ouverture (hh:mm)", validators=[required("Indiquez l'heure d'ouverture.")])
    end = HourField("Fermeture (hh:mm)", validators=[required("Indiquez l'heure de fermeture.")])

    def validate_end(self, field):
        if getattr(self.start, "parsed", None) and getattr(field, "parsed", None) \
                and field.parsed <= self.start.parsed:
            raise ValidationError("L'heure de fermeture doit suivre l'heure d'ouverture.")


class ClosureForm(FlaskForm):
    start_date = DayField("Premier jour de fermeture (jj/mm/aaaa)",
                          validators=[required("Indiquez le premier jour de fermeture.")])
    end_date = DayField("Dernier jour de fermeture (jj/mm/aaaa)", validators=[Optional()],
                        description="Laissez vide pour une fermeture d'un seul jour.")
    reason = StringField("Motif de la fermeture", validators=[Optional(), Length(max=200)])

    def validate_end_date(self, field):
        if getattr(field, "parsed", None) and getattr(self.start_date, "parsed", None) \
                and field.parsed < self.start_date.parsed:
            raise ValidationError("Le dernier jour ne peut pas précéder le premier.")


class BlockedForm(FlaskForm):
    guichet = SelectField("Guichet", choices=[])
    day = DayField("Jour (jj/mm/aaaa)", validators=[required("Indiquez le jour.")])
    start = HourField("De (hh:mm)", validators=[required("Indiquez l'heure de début.")])
    end = HourField("À (hh:mm)", validators=[required("Indiquez l'heure de fin.")])
    reason = StringField("Motif (absence, réunion…)", validators=[Optional(), Length(max=200)])

    def validate_end(self, field):
        if getattr(self.start, "parsed", None) and getattr(field, "parsed", None) \
                and field.parsed <= self.start.parsed:
            raise ValidationError("L'heure de fin doit suivre l'heure de début.")

    def period(self) -> tuple[datetime, datetime]:
        return (datetime.combine(self.day.parsed, self.start.parsed, PARIS),
                datetime.combine(self.day.parsed, self.end.parsed, PARIS))


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class MotifForm(FlaskForm):
    name = StringField("Nom du motif", validators=[required("Indiquez le nom du motif."), Length(max=150)])
    kind = RadioField("Titre concerné", choices=list(MOTIF_KINDS.items()),
                      validators=[required("Choisissez le titre concerné.")])
    minutes_per_person = IntegerField(
        "Durée par personne (minutes)", description="Un multiple de 5 : une famille réserve un seul créneau, "
                                                    "de cette durée multipliée par le nombre de personnes.",
        validators=[required("Indiquez la durée par personne, en minutes."),
                    NumberRange(5, 240, "La durée par personne va de 5 à 240 minutes.")])
    max_persons = IntegerField("Nombre maximum de personnes par rendez-vous",
                               validators=[required("Indiquez le nombre maximum de personnes."),
                                           NumberRange(1, 10, "De 1 à 10 personnes.")])
    min_delay_hours = IntegerField("Délai minimum avant le rendez-vous (heures)",
                                   validators=[NumberRange(0, 24 * 30, "De 0 à 720 heures.")])
    max_delay_days = IntegerField("Rendez-vous proposés sur les prochains (jours)",
                                  description="21 jours : « les trois prochaines semaines ».",
                                  validators=[required("Indiquez la durée de la période réservable."),
                                              NumberRange(1, 180, "De 1 à 180 jours.")])
    change_limit_hours = IntegerField("Annulation ou déplacement possible jusqu'à (heures avant)",
                                      validators=[NumberRange(0, 24 * 14, "De 0 à 336 heures.")])
    lieux = CheckboxesField("Lieux qui proposent ce motif", coerce=int, choices=[])
    intro = TextAreaField("Texte d'introduction", validators=[Optional(), Length(max=4000)])
    instructions = TextAreaField("Informations après la réservation", validators=[Optional(), Length(max=4000)])
    predemande_url = StringField("Lien vers la pré-demande en ligne",
                                 validators=[Optional(), URL(message="Indiquez une adresse web complète, "
                                                                     "commençant par https://."),
                                             Length(max=300)])
    active = BooleanField("Motif proposé à la réservation", default=True)

    def validate_minutes_per_person(self, field):
        if field.data and field.data % SLOT_UNIT_MINUTES:
            raise ValidationError("La durée par personne doit être un multiple de 5 minutes.")


class CancelByServiceForm(FlaskForm):
    message = TextAreaField("Message à la personne", validators=[
        required("Écrivez un message pour expliquer l'annulation."), Length(max=2000)])
