"""The rules engine: conditions, each field type's checks, cross-field rules, computed values."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from portal.demarches import engine
from portal.demarches.definitions import PROCEDURES_DIR, load_all, parse

TODAY = date(2026, 11, 23)
SETTINGS = engine.Settings(TODAY, "62", "du Pas-de-Calais")


def make(fields, rules=None):
    return parse({"id": "t", "title": "T", "kind": "questionnaire",
                  "steps": [{"id": "s", "title": "S", "fields": fields, "rules": rules or []}]}, "t.yaml")


def check(spec, value):
    procedure = make([spec])
    return engine.validate_value(procedure.steps[0].fields[0], value, SETTINGS)


FIELDS = make([
    {"id": "age", "type": "integer", "label": "Âge"},
    {"id": "pays", "type": "choice", "label": "Pays", "choices": [{"value": "fr", "label": "France"},
                                                                 {"value": "be", "label": "Belgique"}]},
    {"id": "mentions", "type": "checkboxes", "label": "Mentions",
     "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
    {"id": "naissance", "type": "date", "label": "Naissance"},
]).all_fields()


@pytest.mark.parametrize("cond, answers, expected", [
    ({"field": "pays", "equals": "fr"}, {"pays": "fr"}, True),
    ({"field": "pays", "equals": "fr"}, {"pays": "be"}, False),
    ({"field": "pays", "equals": "fr"}, {}, False),
    ({"field": "pays", "not_equals": "fr"}, {}, True),
    ({"field": "pays", "not_equals": "fr"}, {"pays": "be"}, True),
    ({"field": "pays", "one_of": ["fr", "be"]}, {"pays": "be"}, True),
    ({"field": "mentions", "contains": "a"}, {"mentions": ["b", "a"]}, True),
    ({"field": "mentions", "contains": "a"}, {"mentions": ["b"]}, False),
    ({"field": "age", "gte": 80}, {"age": "80"}, True),
    ({"field": "age", "gt": 80}, {"age": "80"}, False),
    ({"field": "age", "lt": 80}, {"age": " 79 "}, True),
    ({"field": "age", "lte": 80}, {"age": "quatre-vingts"}, False),
    ({"field": "naissance", "lt": "2000-01-01"}, {"naissance": "27/03/1950"}, True),
    ({"field": "age", "filled": True}, {"age": ""}, False),
    ({"field": "age", "filled": False}, {}, True),
    ({"not": {"field": "pays", "equals": "fr"}}, {"pays": "fr"}, False),
    ({"all": [{"field": "pays", "equals": "fr"}, {"field": "age", "gte": 18}]}, {"pays": "fr", "age": "20"}, True),
    ({"all": [{"field": "pays", "equals": "fr"}, {"field": "age", "gte": 18}]}, {"pays": "fr", "age": "2"}, False),
    ({"any": [{"field": "pays", "equals": "be"}, {"field": "age", "gte": 18}]}, {"pays": "fr", "age": "20"}, True),
    ({"field": "$filiere", "equals": "mdph"}, {}, False),
    (None, {}, True),
])
def test_conditions(cond, answers, expected):
    assert engine.evaluate(cond, answers, FIELDS) is expected


def test_conditions_read_the_context():
    assert engine.evaluate({"field": "$filiere", "one_of": ["mdph"]}, {}, FIELDS, {"filiere": "mdph"})


@pytest.mark.parametrize("spec, value, message", [
    ({"type": "text", "required": True}, "  ", "Renseignez « X »."),
    ({"type": "text", "required": True, "required_message": "Saisissez votre nom."}, "", "Saisissez votre nom."),
    ({"type": "text", "min_length": 3}, "ab", "au moins 3 caractères"),
    ({"type": "text", "max_length": 3}, "abcd", "au plus 3 caractères"),
    ({"type": "text", "pattern": "\\d{10}", "pattern_message": "Dix chiffres."}, "12345", "Dix chiffres."),
    ({"type": "email"}, "pas-une-adresse", "adresse email valide"),
    ({"type": "phone"}, "12 34", "numéro de téléphone français"),
    ({"type": "siret"}, "1234", "14 chiffres"),
    ({"type": "siret"}, "73282932000075", "clé de contrôle incorrecte"),
    ({"type": "integer"}, "12,5", "nombre entier"),
    ({"type": "decimal"}, "douze", "par exemple 12,5"),
    ({"type": "integer", "min": 0, "max": 100}, "101", "compris entre 0 et 100"),
    ({"type": "integer", "min": 1}, "0", "supérieur ou égal à 1"),
    ({"type": "decimal", "max": 2}, "2,5", "inférieur ou égal à 2"),
    ({"type": "date"}, "31/02/2020", "date valide"),
    ({"type": "date", "max_date": "today"}, "2026-11-24", "aujourd'hui ou dans le passé"),
    ({"type": "date", "min_date": "today"}, "2026-11-22", "le 23/11/2026 ou après"),
    ({"type": "date", "min_date": "today-130y"}, "1890-01-01", "le 23/11/1896 ou après"),
    ({"type": "date", "max_date": "today+1m"}, "2027-01-01", "le 23/12/2026 ou avant"),
    ({"type": "choice", "choices": [{"value": "a", "label": "A"}]}, "z", "réponse proposée"),
    ({"type": "choice", "required": True, "choices": [{"value": "a", "label": "A"}]}, None, "Sélectionnez une réponse"),
    ({"type": "yesno"}, "peut-être", "réponse proposée"),
    ({"type": "checkboxes", "choices": [{"value": "a", "label": "A"}]}, ["a", "z"], "réponses proposées"),
    ({"type": "checkboxes", "max_items": 1, "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
     ["a", "b"], "au plus 1"),
    ({"type": "checkboxes", "min_items": 2, "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
     ["a"], "au moins 2"),
    ({"type": "file", "required": True}, None, "Ajoutez le document « X »."),
])
def test_each_check_has_its_message(spec, value, message):
    errors = check({"id": "x", "label": "X", **spec}, value)
    assert list(errors) and message in next(iter(errors.values()))


@pytest.mark.parametrize("spec, value", [
    ({"type": "text", "pattern": "\\d{10}", "pattern_message": "Dix chiffres."}, "0123456789"),
    ({"type": "email"}, "camille@example.org"),
    ({"type": "phone"}, "06 12 34 56 78"),
    ({"type": "phone"}, "+33612345678"),
    ({"type": "siret"}, "732 829 320 00074"),
    ({"type": "siret"}, "35600000000048"),
    ({"type": "decimal", "min": 0}, "12,5"),
    ({"type": "date", "max_date": "today"}, "27/03/1950"),
    ({"type": "date", "min_date": "today"}, "2026-11-23"),
    ({"type": "text"}, ""),
])
def test_valid_values_pass(spec, value):
    assert check({"id": "x", "label": "X", **spec}, value) == {}


def test_address_checks_each_part_and_the_departement():
    spec = {"id": "adr", "type": "address", "label": "Adresse", "required": True, "in_departement": True}
    assert check(spec, None) == {"adr-adresse": "Renseignez « Adresse »."}
    errors = check(spec, {"adresse": "", "code_postal": "6200", "commune": ""})
    assert set(errors) == {"adr-adresse", "adr-code_postal", "adr-commune"}
    errors = check(spec, {"adresse": "1 rue A", "code_postal": "75001", "commune": "Paris"})
    assert "département du Pas-de-Calais (62)" in errors["adr-code_postal"]
    assert check(spec, {"adresse": "1 rue A", "code_postal": "62000", "commune": "Arras"}) == {}


def test_repeatable_group_bounds_and_items():
    spec = {"id": "g", "type": "group", "label": "Enfants", "item_label": "enfant", "min_items": 1,
            "max_items": 2, "fields": [{"id": "nom", "type": "text", "label": "Nom", "required": True}]}
    assert check(spec, [])["g"] == "Ajoutez au moins 1 enfant(s)."
    assert check(spec, [{"nom": "a"}] * 3)["g"] == "Vous ne pouvez pas ajouter plus de 2 enfant(s)."
    assert check(spec, [{"nom": "a"}, {"nom": ""}]) == {"g-1-nom": "Renseignez « Nom »."}


def test_reading_a_posted_group_keeps_present_items_only():
    procedure = make([{"id": "g", "type": "group", "label": "G",
                       "fields": [{"id": "nom", "type": "text", "label": "Nom"}]}])
    form = MultiDict({"g-count": "3", "g-0-present": "1", "g-0-nom": "Ana", "g-2-present": "1", "g-2-nom": "Léo"})
    assert engine.read_field(procedure.steps[0].fields[0], form) == [{"nom": "Ana"}, {"nom": "Léo"}]


def test_cross_field_rule_and_hidden_fields():
    procedure = make([
        {"id": "m", "type": "checkboxes", "label": "M", "choices": [{"value": "p", "label": "P"},
                                                                   {"value": "i", "label": "I"}]},
        {"id": "detail", "type": "text", "label": "Détail", "required": True,
         "when": {"field": "m", "contains": "i"}},
    ], rules=[{"if": {"all": [{"field": "m", "contains": "p"}, {"field": "m", "contains": "i"}]},
               "field": "m", "message": "Pas les deux."}])
    step = procedure.steps[0]
    assert engine.validate_step(step, procedure, {"m": ["p"]}, SETTINGS) == {}
    assert engine.validate_step(step, procedure, {"m": ["p", "i"], "detail": "x"}, SETTINGS) == {"m": "Pas les deux."}
    assert engine.validate_step(step, procedure, {"m": ["i"]}, SETTINGS) == {"detail": "Renseignez « Détail »."}
    assert engine.prune_hidden(procedure, {"m": ["p"], "detail": "oublié"}) == {"m": ["p"]}


def test_conditions_read_the_answers_of_shown_fields_only():
    procedure = make([
        {"id": "m", "type": "checkboxes", "label": "M", "choices": [{"value": "p", "label": "P"},
                                                                   {"value": "i", "label": "I"}]},
        {"id": "sous", "type": "checkboxes", "label": "Sous", "when": {"field": "m", "contains": "i"},
         "choices": [{"value": "a", "label": "A"}]},
        {"id": "aidant", "type": "text", "label": "Aidant", "required": True,
         "when": {"field": "sous", "contains": "a"}},
        {"id": "sans_aidant", "type": "text", "label": "Sans aidant", "when": {"field": "aidant", "filled": False}},
        {"id": "resume", "type": "computed", "label": "Résumé", "text": "non",
         "cases": [{"when": {"field": "aidant", "filled": True}, "text": "avec {aidant}"}]},
    ], rules=[{"if": {"field": "aidant", "equals": "X"}, "field": "m", "message": "Pas X."}])
    step = procedure.steps[0]
    stale = {"m": ["p"], "sous": ["a"], "aidant": "X", "sans_aidant": "oui"}  # "i" was unticked
    assert engine.prune_hidden(procedure, stale) == {"m": ["p"], "sans_aidant": "oui"}
    assert [f.id for f in engine.visible_fields(step, procedure, stale)] == ["m", "sans_aidant", "resume"]
    assert engine.validate_step(step, procedure, stale, SETTINGS) == {}
    assert engine.computed_text(procedure.all_fields()["resume"], stale, procedure) == "non"
    shown = {"m": ["i"], "sous": ["a"], "aidant": "X", "sans_aidant": "oui"}
    assert engine.prune_hidden(procedure, shown) == {"m": ["i"], "sous": ["a"], "aidant": "X"}
    assert engine.validate_step(step, procedure, shown, SETTINGS) == {"m": "Pas X."}


def test_computed_values_and_prefill():
    procedures = load_all(PROCEDURES_DIR)
    cmi = procedures["cmi"]
    droit = cmi.all_fields()["droit_gir"]
    text = engine.computed_text(droit, {"filiere": "apa_beneficiaire", "gir": "2"}, cmi)
    assert "de plein droit, à titre permanent" in text
    assert "GIR 3 ou 4" in engine.computed_text(droit, {"filiere": "apa_beneficiaire", "gir": "4"}, cmi)
    assert engine.computed_text(droit, {"filiere": "mdph"}, cmi) == ""

    class Person:
        civilite, nom, prenom, date_naissance = "Madame", "Martin", "Camille", date(1950, 3, 27)
        lieu_naissance, adresse, code_postal, commune = "Arras", "1 rue A", "62000", "Arras"
        telephone, email = "0612345678", "camille@example.org"

    answers = engine.prefill(cmi, Person())
    assert answers["nom"] == "Martin" and answers["date_naissance"] == "1950-03-27"
    assert answers["adresse"] == {"adresse": "1 rue A", "code_postal": "62000", "commune": "Arras"}
    assert answers["civilite"] == "Madame" and answers["email"] == "camille@example.org"


def test_the_cmi_handicap_step_is_skipped_for_gir_1_and_2():
    cmi = load_all(PROCEDURES_DIR)["cmi"]
    ids = lambda answers: [s.id for s in engine.visible_steps(cmi, answers)]  # noqa: E731
    assert "handicap" not in ids({"filiere": "apa_beneficiaire", "gir": "1"})
    assert "handicap" in ids({"filiere": "apa_beneficiaire", "gir": "3"})
    assert "handicap" in ids({"filiere": "mdph"})


def test_the_demo_accounts_addresses_pass_the_procedures_email_check():
    """The demo citizen's prefilled email must not block every démarche (no reserved domain)."""
    from portal.cli import DEMO_ACCOUNTS
    from portal.demarches.definitions import Field

    email = Field(id="email", type="email", label="Email")
    for address, *_ in DEMO_ACCOUNTS:
        assert engine.validate_value(email, address, SETTINGS) == {}
