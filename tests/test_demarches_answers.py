"""What a person sees of an answer: the error message for each field type, and the answer
displayed on the summary and the receipt. Fields are written in YAML as an author writes them."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from portal.demarches import engine
from tests.demarches_yaml import one_field, questionnaire

SETTINGS = engine.Settings(date(2026, 11, 23), "62", "du Pas-de-Calais")
PROPERTY = settings(max_examples=100, deadline=None, derandomize=True)
CHOICES = "choices: [{value: a, label: Alpha}, {value: b, label: Bêta}, {value: c, label: Gamma}]"


def errors(field_yaml: str, value, settings: engine.Settings = SETTINGS) -> dict[str, str]:
    return engine.validate_value(FIELDS[field_yaml], value, settings)


MESSAGES = [
    # required answers
    ("{id: x, type: text, label: Nom, required: true}", "  ", {"x": "Renseignez « Nom »."}),
    ("{id: x, type: textarea, label: Nom, required: true}", None, {"x": "Renseignez « Nom »."}),
    ("{id: x, type: date, label: Nom, required: true}", "", {"x": "Renseignez « Nom »."}),
    ("{id: x, type: text, label: Nom, required: true, required_message: Saisissez votre nom.}", "",
     {"x": "Saisissez votre nom."}),
    (f"{{id: x, type: choice, label: Pays, required: true, {CHOICES}}}", None,
     {"x": "Sélectionnez une réponse pour « Pays »."}),
    ("{id: x, type: yesno, label: Pays, required: true}", "", {"x": "Sélectionnez une réponse pour « Pays »."}),
    (f"{{id: x, type: checkboxes, label: Pays, required: true, {CHOICES}}}", [],
     {"x": "Sélectionnez une réponse pour « Pays »."}),
    ("{id: x, type: linked_request, label: Décision, required: true, procedure: cmi}", "",
     {"x": "Sélectionnez une réponse pour « Décision »."}),
    ("{id: x, type: file, label: Photo, required: true}", None, {"x": "Ajoutez le document « Photo »."}),
    ("{id: x, type: file, label: Photo, required: true}", {}, {"x": "Ajoutez le document « Photo »."}),
    ("{id: x, type: address, label: Adresse, required: true}", {"adresse": "", "code_postal": " ", "commune": ""},
     {"x-adresse": "Renseignez « Adresse »."}),
    ("{id: x, type: text, label: Nom}", "", {}),
    ("{id: x, type: address, label: Adresse}", None, {}),
    ("{id: x, type: group, label: Enfants, fields: [{id: nom, type: text, label: Nom}]}", [], {}),
    ("{id: x, type: group, label: Enfants, required: true, fields: [{id: nom, type: text, label: Nom}]}", [],
     {"x": "Renseignez « Enfants »."}),
    # text
    ("{id: x, type: text, label: Nom, min_length: 3}", " ab ", {"x": "« Nom » doit comporter au moins 3 caractères."}),
    ("{id: x, type: text, label: Nom, min_length: 3}", " abc ", {}),
    ("{id: x, type: text, label: Nom, max_length: 3}", "abcd", {"x": "« Nom » doit comporter au plus 3 caractères."}),
    ("{id: x, type: text, label: Nom, max_length: 3}", " abc ", {}),
    ("{id: x, type: text, label: Code, pattern: '\\d{3}', pattern_message: Trois chiffres.}", "1234",
     {"x": "Trois chiffres."}),
    ("{id: x, type: text, label: Code, pattern: '\\d{3}', pattern_message: Trois chiffres.}", "a123",
     {"x": "Trois chiffres."}),
    ("{id: x, type: text, label: Code, pattern: '\\d{3}', pattern_message: Trois chiffres.}", " 123 ", {}),
    # email, phone
    ("{id: x, type: email, label: Email}", "pas-une-adresse",
     {"x": "Saisissez une adresse email valide, par exemple nom@exemple.fr."}),
    ("{id: x, type: email, label: Email}", " camille@example.org ", {}),
    ("{id: x, type: phone, label: Tél}", "12 34",
     {"x": "Saisissez un numéro de téléphone français, par exemple 06 12 34 56 78."}),
    ("{id: x, type: phone, label: Tél}", "00 12 34 56 78",
     {"x": "Saisissez un numéro de téléphone français, par exemple 06 12 34 56 78."}),
    ("{id: x, type: phone, label: Tél}", "06 12 34 56 789",
     {"x": "Saisissez un numéro de téléphone français, par exemple 06 12 34 56 78."}),
    ("{id: x, type: phone, label: Tél}", "06.12.34.56.78", {}),
    ("{id: x, type: phone, label: Tél}", "06-12-34-56-78", {}),
    ("{id: x, type: phone, label: Tél}", "+33 6 12 34 56 78", {}),
    ("{id: x, type: phone, label: Tél}", "0033612345678", {}),
    # SIRET
    ("{id: x, type: siret, label: SIRET}", "1234", {"x": "Le numéro SIRET comporte 14 chiffres."}),
    ("{id: x, type: siret, label: SIRET}", "732.829.320.00074", {"x": "Le numéro SIRET comporte 14 chiffres."}),
    ("{id: x, type: siret, label: SIRET}", "73282932000075",
     {"x": "Ce numéro SIRET n'existe pas : vérifiez les 14 chiffres (clé de contrôle incorrecte)."}),
    ("{id: x, type: siret, label: SIRET}", " 732 829 320 00074 ", {}),
    ("{id: x, type: siret, label: SIRET}", "35600000049837", {}),  # La Poste
    ("{id: x, type: siret, label: SIRET, max_length: 10}", "73282932000074",
     {"x": "« SIRET » doit comporter au plus 10 caractères."}),
    # numbers
    ("{id: x, type: integer, label: Âge}", "12,5", {"x": "Saisissez un nombre entier."}),
    ("{id: x, type: integer, label: Âge}", "douze", {"x": "Saisissez un nombre entier."}),
    ("{id: x, type: integer, label: Âge}", "+5", {"x": "Saisissez un nombre entier."}),
    ("{id: x, type: integer, label: Âge}", "1 000", {}),
    ("{id: x, type: integer, label: Âge}", "1\u202f000", {}),
    ("{id: x, type: integer, label: Âge}", "-3", {}),
    ("{id: x, type: decimal, label: Montant}", "douze", {"x": "Saisissez un nombre, par exemple 12,5."}),
    ("{id: x, type: decimal, label: Montant}", "12.", {"x": "Saisissez un nombre, par exemple 12,5."}),
    ("{id: x, type: decimal, label: Montant}", "1,2,3", {"x": "Saisissez un nombre, par exemple 12,5."}),
    ("{id: x, type: decimal, label: Montant}", "-12,5", {}),
    ("{id: x, type: decimal, label: Montant}", "12.5", {}),
    ("{id: x, type: integer, label: Âge, min: 0, max: 100}", "101", {"x": "« Âge » doit être compris entre 0 et 100."}),
    ("{id: x, type: integer, label: Âge, min: 0, max: 100}", "-1", {"x": "« Âge » doit être compris entre 0 et 100."}),
    ("{id: x, type: integer, label: Âge, min: 0, max: 100}", "100", {}),
    ("{id: x, type: integer, label: Âge, min: 0, max: 100}", "0", {}),
    ("{id: x, type: integer, label: Âge, min: 1}", "0", {"x": "« Âge » doit être supérieur ou égal à 1."}),
    ("{id: x, type: integer, label: Âge, min: 1}", "1", {}),
    ("{id: x, type: decimal, label: Taux, max: 2.5}", "2,51", {"x": "« Taux » doit être inférieur ou égal à 2.5."}),
    ("{id: x, type: decimal, label: Taux, max: 2.5}", "2,5", {}),
    # dates
    ("{id: x, type: date, label: Naissance}", "31/02/2020", {"x": "Saisissez une date valide, par exemple 27/03/1950."}),
    ("{id: x, type: date, label: Naissance, max_date: today}", "24/11/2026",
     {"x": "La date doit être aujourd'hui ou dans le passé."}),
    ("{id: x, type: date, label: Naissance, max_date: today}", "23/11/2026", {}),
    ("{id: x, type: date, label: Début, min_date: today}", "2026-11-22", {"x": "La date doit être le 23/11/2026 ou après."}),
    ("{id: x, type: date, label: Début, min_date: today}", "2026-11-23", {}),
    ("{id: x, type: date, label: Début, min_date: today-130y}", "22/11/1896",
     {"x": "La date doit être le 23/11/1896 ou après."}),
    ("{id: x, type: date, label: Début, min_date: today+1d}", "23/11/2026", {"x": "La date doit être le 24/11/2026 ou après."}),
    ("{id: x, type: date, label: Fin, max_date: today+1m}", "24/12/2026", {"x": "La date doit être le 23/12/2026 ou avant."}),
    ("{id: x, type: date, label: Fin, max_date: today+1m}", "23/12/2026", {}),
    ("{id: x, type: date, label: Fin, max_date: today-1d}", "23/11/2026", {"x": "La date doit être le 22/11/2026 ou avant."}),
    # choices
    (f"{{id: x, type: choice, label: Pays, {CHOICES}}}", "z", {"x": "Sélectionnez une réponse proposée pour « Pays »."}),
    (f"{{id: x, type: choice, label: Pays, {CHOICES}}}", "b", {}),
    ("{id: x, type: yesno, label: Marié}", "peut-être", {"x": "Sélectionnez une réponse proposée pour « Marié »."}),
    ("{id: x, type: yesno, label: Marié}", "non", {}),
    (f"{{id: x, type: checkboxes, label: Pays, {CHOICES}}}", ["a", "z"],
     {"x": "Sélectionnez des réponses proposées pour « Pays »."}),
    (f"{{id: x, type: checkboxes, label: Pays, {CHOICES}}}", "z", {"x": "Sélectionnez des réponses proposées pour « Pays »."}),
    (f"{{id: x, type: checkboxes, label: Pays, {CHOICES}}}", "a", {}),
    (f"{{id: x, type: checkboxes, label: Pays, min_items: 2, {CHOICES}}}", ["a"],
     {"x": "Sélectionnez au moins 2 réponse(s) pour « Pays »."}),
    (f"{{id: x, type: checkboxes, label: Pays, min_items: 2, {CHOICES}}}", ["a", "b"], {}),
    (f"{{id: x, type: checkboxes, label: Pays, max_items: 2, {CHOICES}}}", ["a", "b", "c"],
     {"x": "Sélectionnez au plus 2 réponse(s) pour « Pays »."}),
    (f"{{id: x, type: checkboxes, label: Pays, max_items: 2, {CHOICES}}}", ["a", "b"], {}),
    # values with no check of their own
    ("{id: x, type: file, label: Photo}", {"name": "photo.jpg"}, {}),
    ("{id: x, type: linked_request, label: Décision, procedure: cmi}", "CMI-2026-000001", {}),
]


@pytest.mark.parametrize("field_yaml, value, expected", MESSAGES)
def test_the_message_a_person_sees(field_yaml, value, expected):
    assert errors(field_yaml, value) == expected


ADDRESS = "{id: adr, type: address, label: Adresse, in_departement: true}"


@pytest.mark.parametrize("value, expected", [
    ({"adresse": " ", "code_postal": "6200", "commune": ""}, {
        "adr-adresse": "Renseignez le numéro et le nom de la voie.",
        "adr-code_postal": "Saisissez un code postal à 5 chiffres, par exemple 62000.",
        "adr-commune": "Renseignez la commune."}),
    ("1 rue A 62000 Arras", {
        "adr-adresse": "Renseignez le numéro et le nom de la voie.",
        "adr-code_postal": "Saisissez un code postal à 5 chiffres, par exemple 62000.",
        "adr-commune": "Renseignez la commune."}),
    ({"adresse": "1 rue A", "code_postal": "620001", "commune": "Arras"},
     {"adr-code_postal": "Saisissez un code postal à 5 chiffres, par exemple 62000."}),
    ({"adresse": "1 rue A", "code_postal": "75001", "commune": "Paris"},
     {"adr-code_postal": "Votre adresse doit se trouver dans le département du Pas-de-Calais (62) : "
                         "la demande se fait auprès du département où vous résidez."}),
    ({"adresse": "1 rue A", "code_postal": " 62000 ", "commune": "Arras"}, {}),
    ({"adresse": "1 rue A", "code_postal": "62000", "commune": None}, {"adr-commune": "Renseignez la commune."}),
])
def test_an_address_checks_each_part(value, expected):
    assert errors(ADDRESS, value) == expected


def test_the_departement_rule_needs_the_definition_and_the_deployment():
    paris = {"adresse": "1 rue A", "code_postal": "75001", "commune": "Paris"}
    assert errors(PLAIN_ADDRESS, paris) == {}
    assert errors(ADDRESS, paris, engine.Settings(SETTINGS.today)) == {}
    assert errors(ADDRESS, paris, engine.Settings(SETTINGS.today, "62")) == {"adr-code_postal": (
        "Votre adresse doit se trouver dans le département  (62) : "
        "la demande se fait auprès du département où vous résidez.")}


GROUP = """
id: enfants
type: group
label: Enfants
item_label: enfant
min_items: 1
max_items: 2
fields:
  - {id: nom, type: text, label: Nom, required: true}
  - {id: naissance, type: date, label: Naissance}
"""


@pytest.mark.parametrize("value, expected", [
    ([], {"enfants": "Ajoutez au moins 1 enfant(s)."}),
    (None, {"enfants": "Ajoutez au moins 1 enfant(s)."}),
    ("Ana", {"enfants": "Ajoutez au moins 1 enfant(s)."}),
    ([{"nom": "Ana"}], {}),
    ([{"nom": "Ana"}, {"nom": "Léo"}], {}),
    ([{"nom": "Ana"}] * 3, {"enfants": "Vous ne pouvez pas ajouter plus de 2 enfant(s)."}),
    ([{"nom": "Ana"}, {"nom": "", "naissance": "31/02/2020"}], {
        "enfants-1-nom": "Renseignez « Nom ».",
        "enfants-1-naissance": "Saisissez une date valide, par exemple 27/03/1950."}),
])
def test_a_repeatable_group_checks_its_count_and_each_item(value, expected):
    assert errors(GROUP, value) == expected


PLAIN_ADDRESS = "{id: adr, type: address, label: Adresse}"
ONE_ELEMENT = "{id: g, type: group, label: G, max_items: 1, fields: [{id: n, type: text, label: N}]}"
# Built once, as the portal loads definitions at start-up: these tests pin the engine, not the loader.
FIELDS = {text: one_field(text) for text in [*(row[0] for row in MESSAGES), ADDRESS, PLAIN_ADDRESS, GROUP,
                                               ONE_ELEMENT]}


def test_a_group_without_item_label_counts_elements():
    assert errors(ONE_ELEMENT, [{"n": "a"}, {"n": "b"}]) == {"g": "Vous ne pouvez pas ajouter plus de 1 élément(s)."}


# --- displayed answers --------------------------------------------------------------------


DISPLAYED = [
    ("{id: x, type: text, label: X}", "  Camille ", "  Camille "),
    ("{id: x, type: text, label: X}", "", ""),
    ("{id: x, type: text, label: X}", None, ""),
    ("{id: x, type: textarea, label: X}", "ligne 1\nligne 2", "ligne 1\nligne 2"),
    ("{id: x, type: email, label: X}", "camille@example.org", "camille@example.org"),
    ("{id: x, type: phone, label: X}", "06 12 34 56 78", "06 12 34 56 78"),
    ("{id: x, type: siret, label: X}", "73282932000074", "73282932000074"),
    ("{id: x, type: integer, label: X}", "12", "12"),
    ("{id: x, type: decimal, label: X}", "12,5", "12,5"),
    ("{id: x, type: date, label: X}", "1950-03-27", "27/03/1950"),
    ("{id: x, type: date, label: X}", "27/03/1950", "27/03/1950"),
    ("{id: x, type: date, label: X}", "31/02/2020", "31/02/2020"),  # kept as typed
    (f"{{id: x, type: choice, label: X, {CHOICES}}}", "b", "Bêta"),
    (f"{{id: x, type: choice, label: X, {CHOICES}}}", "z", "z"),
    ("{id: x, type: yesno, label: X}", "oui", "Oui"),
    ("{id: x, type: yesno, label: X}", "non", "Non"),
    (f"{{id: x, type: checkboxes, label: X, {CHOICES}}}", ["c", "a"], "Gamma, Alpha"),
    (f"{{id: x, type: checkboxes, label: X, {CHOICES}}}", ["b"], "Bêta"),
    (f"{{id: x, type: checkboxes, label: X, {CHOICES}}}", [], ""),
    ("{id: x, type: linked_request, label: X, procedure: cmi}", "CMI-2026-000042", "CMI-2026-000042"),
    ("{id: x, type: address, label: X}", {"adresse": "1 rue A", "code_postal": "62000", "commune": "Arras"},
     "1 rue A, 62000 Arras"),
    ("{id: x, type: address, label: X}", {"adresse": "1 rue A", "code_postal": "", "commune": "Arras"},
     "1 rue A, Arras"),
    ("{id: x, type: address, label: X}", {"adresse": "", "code_postal": "62000", "commune": "Arras"},
     "62000 Arras"),
    ("{id: x, type: address, label: X}", {"adresse": "1 rue A", "code_postal": "62000", "commune": ""},
     "1 rue A, 62000"),
    ("{id: x, type: address, label: X}", {"adresse": "", "code_postal": "", "commune": ""}, ""),
    ("{id: x, type: file, label: X}", {"name": "photo.jpg", "key": "k"}, "photo.jpg"),
    ("{id: x, type: file, label: X}", {"key": "k"}, ""),
    ("{id: x, type: file, label: X}", None, ""),
]


@pytest.mark.parametrize("field_yaml, value, shown", DISPLAYED)
def test_the_answer_displayed(field_yaml, value, shown):
    assert engine.display_value(FIELDS[field_yaml], value) == shown


def test_a_group_is_displayed_item_by_item():
    field = FIELDS[GROUP]
    shown = engine.display_value(field, [{"nom": "Ana", "naissance": "2015-04-01"}, {"nom": "Léo", "naissance": ""}])
    assert shown == "Ana, 01/04/2015; Léo"
    assert engine.display_value(field, []) == ""


AMOUNT = questionnaire("- {id: x, type: decimal, label: Montant}")
DAY = questionnaire("- {id: x, type: date, label: Date}")


@PROPERTY
@given(number=st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_a_displayed_number_reads_back_as_the_same_value(number):
    field = AMOUNT.all_fields()["x"]
    typed = str(number).replace(".", ",")
    shown = engine.display_value(field, typed)
    assert engine.validate_value(field, shown, SETTINGS) == {}
    assert engine.evaluate({"field": "x", "equals": str(number)}, {"x": shown}, AMOUNT.all_fields())


@PROPERTY
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_a_displayed_date_is_accepted_back_as_the_same_date(day):
    field = DAY.all_fields()["x"]
    shown = engine.display_value(field, day.isoformat())
    assert shown == day.strftime("%d/%m/%Y")
    assert engine.validate_value(field, shown, SETTINGS) == {}
    assert engine.evaluate({"field": "x", "equals": day.isoformat()}, {"x": shown}, DAY.all_fields())


FIELDS.update({row[0]: one_field(row[0]) for row in DISPLAYED})


# --- reading a posted step -----------------------------------------------------------------


POSTED = questionnaire(f"""
- {{id: nom, type: textarea, label: Nom}}
- {{id: pays, type: checkboxes, label: Pays, {CHOICES}}}
- {{id: adr, type: address, label: Adresse}}
- id: enfants
  type: group
  label: Enfants
  fields:
    - {{id: prenom, type: text, label: Prénom}}
    - {{id: aides, type: checkboxes, label: Aides, {CHOICES}}}
""")


def read(field_id: str, form: dict | list):
    return engine.read_field(POSTED.all_fields()[field_id], MultiDict(form))


@pytest.mark.parametrize("field_id, form, answer", [
    ("nom", {"nom": "ligne 1\r\nligne 2"}, "ligne 1\nligne 2"),
    ("nom", {}, None),
    ("nom", {"nom": ""}, ""),
    ("pays", [("pays", "a"), ("pays", ""), ("pays", "c")], ["a", "c"]),
    ("pays", {}, []),
    ("adr", {"adr-adresse": " 1 rue A ", "adr-code_postal": " 62000", "adr-commune": "Arras "},
     {"adresse": "1 rue A", "code_postal": "62000", "commune": "Arras"}),
    ("adr", {"adr-commune": "Arras"}, {"adresse": "", "code_postal": "", "commune": "Arras"}),
    ("enfants", {"enfants-count": "2", "enfants-0-present": "1", "enfants-0-prenom": "Ana",
                 "enfants-1-present": "1"}, [{"prenom": "Ana", "aides": []}, {"prenom": "", "aides": []}]),
    ("enfants", [("enfants-count", "3"), ("enfants-1-present", ""), ("enfants-1-aides", "b"),
                 ("enfants-2-prenom", "sans présence")], [{"prenom": "", "aides": ["b"]}]),
    ("enfants", {"enfants-count": "abc", "enfants-0-present": "1"}, []),
    ("enfants", {"enfants-0-present": "1"}, []),
    ("enfants", {"enfants-count": "-1", "enfants-0-present": "1"}, []),
])
def test_reading_a_posted_answer(field_id, form, answer):
    assert read(field_id, form) == answer


def test_a_posted_group_keeps_at_most_a_hundred_items():
    form = {"enfants-count": "150", **{f"enfants-{i}-present": "1" for i in range(150)}}
    assert len(read("enfants", form)) == 100
    form = {"enfants-count": "100", **{f"enfants-{i}-present": "1" for i in range(101)}}
    assert len(read("enfants", form)) == 100


@pytest.mark.parametrize("field_id, form, carried", [
    ("nom", {"nom": ""}, True),
    ("nom", {"pays": "a"}, False),
    ("pays", {"pays": "a"}, True),
    ("pays", {"pays-present": "1"}, True),
    ("pays", {"nom": "x"}, False),
    ("adr", {"adr-adresse": ""}, True),
    ("adr", {"adr-code_postal": ""}, True),
    ("adr", {"adr-commune": "Arras"}, False),
    ("adr", {"adr": "x"}, False),
    ("enfants", {"enfants-count": "0"}, True),
    ("enfants", {"enfants-0-prenom": "Ana"}, False),
])
def test_whether_a_posted_form_carried_a_field(field_id, form, carried):
    assert engine.form_has_field(POSTED.all_fields()[field_id], MultiDict(form)) is carried
