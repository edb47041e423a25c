"""The booking journey's state between pages (the signed session cookie) and its checks.

Each step reads what the earlier ones stored and sends the person back to the first step
that is missing, so a page opened out of order never fails.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import session
from flask_login import current_user

from portal.appointments import services
from portal.appointments.documents import SITUATIONS, age_on
from portal.appointments.models import Lieu, Motif
from portal.appointments.slots import PARIS
from portal.relations.models import Relation
from portal.relations.services import relations_for

KEY = "rdv"
SELF = "moi"


def state() -> dict:
    return session.get(KEY) or {}


def save(**values) -> None:
    current = dict(state())
    current.update(values)
    session[KEY] = current


def reset(**values) -> None:
    session[KEY] = dict(values)


def clear() -> None:
    session.pop(KEY, None)


def motif() -> Motif | None:
    return services.get_motif(state().get("motif"))


def lieu(chosen_motif: Motif) -> Lieu | None:
    lieu_id = state().get("lieu")
    return next((item for item in services.lieux_for(chosen_motif) if item.id == lieu_id), None)


def candidates() -> list[tuple[str, str, date | None, Relation | None]]:
    """Who may come: the person, then their natural-person relations (key, name, birth, relation)."""
    me = " ".join(p for p in (current_user.prenom, current_user.nom) if p) or current_user.email
    people: list[tuple[str, str, date | None, Relation | None]] = [
        (SELF, f"Moi-même ({me})", current_user.date_naissance, None)]
    for relation in relations_for(current_user):
        if relation.is_natural:
            people.append((f"r{relation.id}", relation.display_name, relation.date_naissance, relation))
    return people


def chosen() -> list[tuple[str, str, date | None, Relation | None]]:
    keys = state().get("who") or []
    return [c for c in candidates() if c[0] in keys]


def parse_details(form, people, chosen_motif: Motif, today: date) -> tuple[dict, dict[str, str]]:
    """Each person's situation from the posted form: (values by person, errors by field id)."""
    values: dict[str, dict] = {}
    errors: dict[str, str] = {}
    numbers_seen: set[str] = set()
    for key, name, birth, _relation in people:
        item: dict = {}
        if birth is None:
            raw = (form.get(f"{key}-naissance") or "").strip()
            try:
                birth = datetime.strptime(raw, "%d/%m/%Y").date()
                if birth > today or birth.year < 1900:
                    raise ValueError
            except ValueError:
                errors[f"{key}-naissance"] = (f"Indiquez la date de naissance de {name} au format jj/mm/aaaa, "
                                              "par exemple 14/07/1990." if raw else
                                              f"Indiquez la date de naissance de {name}.")
            item["naissance"] = raw
        if birth is not None:
            item["birth"] = birth.isoformat()
        if chosen_motif.kind != "retrait":
            situation = form.get(f"{key}-situation")
            if situation not in SITUATIONS:
                errors[f"{key}-situation-0"] = f"Indiquez la situation de {name}."
            item["situation"] = situation
            titre = form.get(f"{key}-titre")
            if titre not in ("oui", "non"):
                errors[f"{key}-titre-0"] = (f"Indiquez si {name} a une carte d'identité valide ou périmée "
                                            "depuis moins de 2 ans.")
            item["titre"] = titre
            number = services.normalise_predemande(form.get(f"{key}-predemande", ""))
            item["predemande"] = number
            if not number:
                errors[f"{key}-predemande"] = f"Indiquez le numéro de pré-demande de {name}."
            elif not services.predemande_is_valid(number):
                errors[f"{key}-predemande"] = ("Le numéro de pré-demande comporte 10 lettres ou chiffres, "
                                               "par exemple 1A2B3C4D5E.")
            elif number in numbers_seen:
                errors[f"{key}-predemande"] = "Chaque personne a son propre numéro de pré-demande."
            numbers_seen.add(number)
        else:
            item["situation"] = "premiere"
            item["titre"] = "oui"
        minor = birth is not None and age_on(birth, today) < 18
        if minor:
            item["parent"] = (form.get(f"{key}-parent") or "").strip()[:200]
            if not item["parent"]:
                errors[f"{key}-parent"] = f"Indiquez le nom du parent qui accompagne {name}."
            item["separes"] = form.get(f"{key}-separes") == "oui"
            item["nom_usage"] = form.get(f"{key}-nom_usage") == "oui"
        values[key] = item
    if not errors:
        taken = services.predemandes_in_use([v["predemande"] for v in values.values() if v.get("predemande")])
        for key, item in values.items():
            if item.get("predemande") in taken:
                errors[f"{key}-predemande"] = (f"Le numéro {item['predemande']} a déjà un rendez-vous à venir : "
                                               "annulez-le dans « Mes rendez-vous » avant d'en prendre un autre.")
    if not errors:
        errors.update(_national_check(values))
    return values, errors


def _national_check(values: dict[str, dict]) -> dict[str, str]:
    """The national API, when configured: refusals block; appointments elsewhere are told."""
    from flask import flash

    from portal.appointments import predemande_api

    by_number = {item["predemande"]: key for key, item in values.items() if item.get("predemande")}
    result = predemande_api.check(list(by_number))
    if result.unavailable:
        first = next(iter(by_number.values()))
        return {f"{first}-predemande": predemande_api.UNAVAILABLE}
    for number, appointments in result.elsewhere.items():
        for other in appointments:
            flash(f"Le numéro {number} a déjà un rendez-vous : {other.get('meeting_point', '')}, "
                  f"{other.get('appointment_date', '')}. Gérez-le ici : {other.get('management_url', '')}",
                  "info")
    return {f"{by_number[number]}-predemande": message for number, message in result.refusals.items()}


def person_requests() -> list[services.PersonRequest] | None:
    """The persons as the booking needs them, or None when a step is missing."""
    details = state().get("details") or {}
    people = chosen()
    if not people:
        return None
    requests = []
    for key, name, _birth, relation in people:
        item = details.get(key)
        if not item or "birth" not in item:
            return None
        requests.append(services.PersonRequest(
            name=name.removeprefix("Moi-même (").removesuffix(")") if key == SELF else name,
            birth_date=date.fromisoformat(item["birth"]), situation=item.get("situation") or "premiere",
            has_valid_id=item.get("titre") != "non", nom_usage=bool(item.get("nom_usage")),
            separated_parents=bool(item.get("separes")), accompanying_parent=item.get("parent", ""),
            predemande=item.get("predemande") or None, relation_id=relation.id if relation else None))
    return requests


def chosen_so_far() -> tuple[Motif, list[services.PersonRequest], Lieu] | None:
    """Motif, persons and lieu once all three steps are done; None sends back to the start."""
    chosen_motif = motif()
    persons = person_requests()
    chosen_lieu = lieu(chosen_motif) if chosen_motif else None
    if chosen_motif is None or persons is None or chosen_lieu is None:
        return None
    return chosen_motif, persons, chosen_lieu


def start_value(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def parse_start(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value or "", "%Y-%m-%dT%H:%M").replace(tzinfo=PARIS)
    except ValueError:
        return None
