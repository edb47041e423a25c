"""Conditions, cross-field rules, computed texts and prefill: what a procedure author relies on."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.demarches import engine
from tests.demarches_yaml import questionnaire

SETTINGS = engine.Settings(date(2026, 11, 23), "62", "du Pas-de-Calais")
PROPERTY = settings(max_examples=100, deadline=None, derandomize=True)

FIELDS = questionnaire("""
- {id: age, type: integer, label: Âge}
- {id: taux, type: decimal, label: Taux}
- {id: nom, type: text, label: Nom}
- {id: pays, type: choice, label: Pays, choices: [{value: fr, label: France}, {value: be, label: Belgique}]}
- {id: mentions, type: checkboxes, label: Mentions, choices: [{value: a, label: A}, {value: b, label: B}]}
- {id: naissance, type: date, label: Naissance}
""").all_fields()


@pytest.mark.parametrize("cond, answers, expected", [
    ({"field": "age", "equals": 80}, {"age": " 80 "}, True),
    ({"field": "age", "equals": "80"}, {"age": "080"}, True),
    ({"field": "age", "equals": 80}, {"age": "81"}, False),
    ({"field": "taux", "equals": 2.5}, {"taux": "2,50"}, True),
    ({"field": "age", "not_equals": 80}, {"age": "080"}, False),
    ({"field": "age", "not_equals": 80}, {"age": "79"}, True),
    ({"field": "naissance", "equals": "1950-03-27"}, {"naissance": "27/03/1950"}, True),
    ({"field": "naissance", "equals": "1950-03-28"}, {"naissance": "27/03/1950"}, False),
    ({"field": "nom", "equals": "Ana"}, {"nom": " Ana "}, True),
    ({"field": "nom", "equals": "ana"}, {"nom": "Ana"}, False),
    ({"field": "nom", "not_equals": "Ana"}, {"nom": "Ana"}, False),
    ({"field": "nom", "not_equals": "Ana"}, {"nom": "Léo"}, True),
    ({"field": "nom", "not_equals": "Ana"}, {"nom": "  "}, True),
    ({"field": "nom", "equals": "Ana"}, {"nom": "  "}, False),
    ({"field": "pays", "one_of": ["fr", "be"]}, {"pays": "fr"}, True),
    ({"field": "pays", "one_of": ["be"]}, {"pays": "fr"}, False),
    ({"field": "age", "one_of": [18, 20]}, {"age": "20"}, True),
    ({"field": "pays", "one_of": ["fr"]}, {}, False),
    ({"field": "mentions", "contains": "a"}, {"mentions": ["a"]}, True),
    ({"field": "mentions", "contains": "a"}, {"mentions": "a"}, True),
    ({"field": "mentions", "contains": "a"}, {"mentions": "ab"}, False),
    ({"field": "mentions", "contains": "a"}, {"mentions": []}, False),
    ({"field": "age", "gt": 17}, {"age": "18"}, True),
    ({"field": "age", "gt": 18}, {"age": "18"}, False),
    ({"field": "age", "gte": 18}, {"age": "18"}, True),
    ({"field": "age", "gte": 18}, {"age": "17"}, False),
    ({"field": "age", "lt": 18}, {"age": "17"}, True),
    ({"field": "age", "lt": 18}, {"age": "18"}, False),
    ({"field": "age", "lte": 18}, {"age": "18"}, True),
    ({"field": "age", "lte": 18}, {"age": "19"}, False),
    ({"field": "age", "gt": 9}, {"age": "10"}, True),         # numbers, not text
    ({"field": "taux", "lt": 2.5}, {"taux": "2,4"}, True),
    ({"field": "naissance", "gte": "2000-01-01"}, {"naissance": "01/01/2000"}, True),
    ({"field": "naissance", "gt": "2000-01-01"}, {"naissance": "01/01/2000"}, False),
    ({"field": "naissance", "lt": "pas une date"}, {"naissance": "01/01/2000"}, False),
    ({"field": "age", "gt": 1}, {"age": "beaucoup"}, False),
    ({"field": "age", "lte": 1}, {}, False),
    ({"field": "age", "filled": True}, {"age": "3"}, True),
    ({"field": "age", "filled": True}, {"age": " "}, False),
    ({"field": "age", "filled": False}, {"age": "3"}, False),
    ({"field": "age", "filled": False}, {"age": None}, True),
    ({"field": "mentions", "filled": True}, {"mentions": []}, False),
    ({"field": "$filiere", "equals": "mdph"}, {"filiere": "mdph"}, False),  # answers are not the context
])
def test_a_condition_outcome(cond, answers, expected):
    assert engine.evaluate(cond, answers, FIELDS) is expected


@pytest.mark.parametrize("cond, context, expected", [
    ({"field": "$filiere", "equals": "mdph"}, {"filiere": "mdph"}, True),
    ({"field": "$filiere", "equals": "mdph"}, {"filiere": "apa"}, False),
    ({"field": "$filiere", "not_equals": "mdph"}, None, True),
    ({"field": "$filiere", "filled": True}, {"filiere": "apa"}, True),
    ({"field": "$nombre", "gt": 2}, {"nombre": 3}, True),
    ({"field": "$nombre", "gt": 2}, {"nombre": "3"}, False),  # text against a number: no order
    ({"field": "$delai_depasse", "equals": "oui"}, {"delai_depasse": "oui"}, True),
])
def test_a_condition_on_the_context(cond, context, expected):
    assert engine.evaluate(cond, {}, FIELDS, context) is expected


def test_a_condition_on_a_field_of_another_procedure_compares_text():
    assert engine.evaluate({"field": "inconnu", "equals": "x"}, {"inconnu": " x "}, FIELDS) is False
    assert engine.evaluate({"field": "inconnu", "gte": 2}, {"inconnu": 3}, FIELDS) is True


LEAVES = [{"field": "age", "gte": 18}, {"field": "pays", "equals": "fr"}, {"field": "mentions", "contains": "a"},
          {"field": "nom", "filled": True}]


def conditions(depth: int):
    leaf = st.sampled_from(LEAVES)
    if depth == 0:
        return leaf
    inner = conditions(depth - 1)
    return st.one_of(leaf, st.lists(inner, min_size=1, max_size=3).map(lambda c: {"all": c}),
                     st.lists(inner, min_size=1, max_size=3).map(lambda c: {"any": c}),
                     inner.map(lambda c: {"not": c}))


def python_truth(cond, answers) -> bool:
    if "all" in cond:
        return all(python_truth(c, answers) for c in cond["all"])
    if "any" in cond:
        return any(python_truth(c, answers) for c in cond["any"])
    if "not" in cond:
        return not python_truth(cond["not"], answers)
    return engine.evaluate(cond, answers, FIELDS)


ANSWERS = st.fixed_dictionaries({}, optional={
    "age": st.sampled_from(["", "3", "18", "40"]), "pays": st.sampled_from(["fr", "be", ""]),
    "mentions": st.sampled_from([[], ["a"], ["b"], ["a", "b"]]), "nom": st.sampled_from(["", "Ana"])})


@PROPERTY
@given(cond=conditions(3), answers=ANSWERS)
def test_all_any_not_agree_with_python(cond, answers):
    assert engine.evaluate(cond, answers, FIELDS) is python_truth(cond, answers)


# --- steps: shown fields, their errors, cross-field rules -------------------------------


STEPS = questionnaire("""
- {id: statut, type: choice, label: Statut, required: true, choices: [{value: salarie, label: Salarié},
                                                                       {value: autre, label: Autre}]}
- {id: employeur, type: text, label: Employeur, required: true, when: {field: statut, equals: salarie}}
- {id: siret, type: siret, label: SIRET de l'employeur, when: {field: employeur, filled: true}}
- {id: debut, type: date, label: Début}
- {id: fin, type: date, label: Fin}
- {id: decision, type: linked_request, label: Décision, procedure: cmi}
- {id: note, type: info, label: Note, text: "À lire"}
""", """
- {if: {field: fin, lt: "2000-01-01"}, field: fin, message: La fin est trop ancienne.}
- {if: {field: statut, equals: autre}, message: Ce téléservice est réservé aux salariés.}
- {if: {field: siret, filled: true}, field: siret, message: Jamais affiché si le SIRET est faux.}
""")
STEP = STEPS.steps[0]
CHOICES = {"choices_decision": [{"value": "CMI-1", "label": "CMI-1"}]}


@pytest.mark.parametrize("answers, context, expected", [
    ({}, None, {"statut": "Sélectionnez une réponse pour « Statut »."}),
    ({"statut": "salarie"}, None, {"employeur": "Renseignez « Employeur »."}),
    ({"statut": "autre", "employeur": ""}, None, {"statut": "Ce téléservice est réservé aux salariés."}),
    ({"statut": "salarie", "employeur": "ACME", "fin": "1999-12-31"}, None, {"fin": "La fin est trop ancienne."}),
    ({"statut": "salarie", "employeur": "ACME", "fin": "31/02/1999"}, None,
     {"fin": "Saisissez une date valide, par exemple 27/03/1950."}),
    ({"statut": "salarie", "employeur": "ACME", "siret": "123"}, None,
     {"siret": "Le numéro SIRET comporte 14 chiffres."}),
    ({"statut": "salarie", "employeur": "ACME", "siret": "73282932000074"}, None,
     {"siret": "Jamais affiché si le SIRET est faux."}),
    ({"statut": "salarie", "employeur": "ACME", "decision": "CMI-2"}, CHOICES,
     {"decision": "Sélectionnez une demande proposée pour « Décision »."}),
    ({"statut": "salarie", "employeur": "ACME", "decision": "CMI-2"}, None,
     {"decision": "Sélectionnez une demande proposée pour « Décision »."}),
    ({"statut": "salarie", "employeur": "ACME", "decision": "CMI-1"}, CHOICES, {}),
    ({"statut": "salarie", "employeur": "ACME", "decision": ""}, CHOICES, {}),
    ({"statut": "salarie", "employeur": "ACME", "fin": "2000-01-01"}, None, {}),
])
def test_a_step_errors(answers, context, expected):
    assert engine.validate_step(STEP, STEPS, answers, SETTINGS, context) == expected


def test_a_hidden_field_is_neither_checked_nor_kept():
    answers = {"statut": "autre", "employeur": "ACME", "siret": "123"}
    assert [f.id for f in engine.visible_fields(STEP, STEPS, answers)] == [
        "statut", "debut", "fin", "decision", "note"]
    assert engine.prune_hidden(STEPS, answers) == {"statut": "autre"}
    assert engine.validate_step(STEP, STEPS, answers, SETTINGS) == {
        "statut": "Ce téléservice est réservé aux salariés."}


TWO_STEPS = questionnaire("""
- {id: enfant, type: yesno, label: Pour un enfant, required: true}
""")
TWO_STEPS.steps.append(questionnaire("""
- {id: prenom, type: text, label: Prénom, required: true}
""").steps[0])
TWO_STEPS.steps[1].id, TWO_STEPS.steps[1].when = "enfant", {"field": "enfant", "equals": "oui"}


@pytest.mark.parametrize("answers, steps, errors", [
    ({}, ["s"], {"s": {"enfant": "Sélectionnez une réponse pour « Pour un enfant »."}}),
    ({"enfant": "non", "prenom": ""}, ["s"], {}),
    ({"enfant": "oui"}, ["s", "enfant"], {"enfant": {"prenom": "Renseignez « Prénom »."}}),
    ({"enfant": "oui", "prenom": "Léa"}, ["s", "enfant"], {}),
])
def test_the_final_check_covers_the_visible_steps_only(answers, steps, errors):
    assert [s.id for s in engine.visible_steps(TWO_STEPS, answers)] == steps
    assert engine.validate_all(TWO_STEPS, answers, SETTINGS) == errors
    kept = engine.prune_hidden(TWO_STEPS, {**answers, "prenom": "Léa"})
    assert ("prenom" in kept) is ("enfant" in steps)


# --- computed texts ------------------------------------------------------------------------


COMPUTED = questionnaire("""
- {id: nom, type: text, label: Nom}
- {id: naissance, type: date, label: Naissance}
- {id: pays, type: choice, label: Pays, choices: [{value: fr, label: France}, {value: be, label: Belgique}]}
- {id: ville, type: text, label: Ville, when: {field: pays, equals: fr}}
- id: resume
  type: computed
  label: Résumé
  text: "Par défaut : {nom}"
  cases:
    - {when: {field: pays, equals: be}, text: "{nom}, né le {naissance}, en {pays}"}
    - {when: {field: pays, equals: fr}, text: "{nom} à {ville}{inconnu} ({filiere})"}
    - {when: {field: nom, equals: Ana}, text: "{nom} sans pays"}
- {id: vide, type: computed, label: Vide, cases: [{when: {field: nom, equals: X}}]}
""")


@pytest.mark.parametrize("field_id, answers, context, text", [
    ("resume", {"nom": "Léo"}, None, "Par défaut : Léo"),
    ("resume", {"nom": "Ana"}, None, "Ana sans pays"),
    ("resume", {}, None, "Par défaut : "),
    ("resume", {"nom": "Ana", "naissance": "2015-04-01", "pays": "be"}, None, "Ana, né le 01/04/2015, en Belgique"),
    ("resume", {"nom": "Ana", "pays": "fr", "ville": "Arras"}, {"filiere": "mdph"}, "Ana à Arras (mdph)"),
    ("resume", {"nom": "Ana", "pays": "fr", "ville": "Arras"}, {"filiere": 3}, "Ana à Arras (3)"),
    ("resume", {"nom": "Ana", "pays": "be", "ville": "Bruxelles"}, None, "Ana, né le , en Belgique"),
    ("vide", {"nom": "X"}, None, ""),
    ("vide", {"nom": "Y"}, None, ""),
])
def test_a_computed_text(field_id, answers, context, text):
    assert engine.computed_text(COMPUTED.all_fields()[field_id], answers, COMPUTED, context) == text


HIDDEN_VILLE = questionnaire("""
- {id: pays, type: choice, label: Pays, choices: [{value: fr, label: France}, {value: be, label: Belgique}]}
- {id: ville, type: text, label: Ville, when: {field: pays, equals: fr}}
- {id: r, type: computed, label: R, text: "[{ville}]"}
""")


def test_a_computed_text_never_shows_a_hidden_answer():
    answers = {"nom": "Ana", "pays": "be", "ville": "Arras"}
    field = HIDDEN_VILLE
    assert engine.computed_text(field.all_fields()["r"], answers, field) == "[]"


# --- prefill from the account --------------------------------------------------------------


PREFILLED = questionnaire("""
- {id: civilite, type: choice, label: Civilité, prefill: civilite,
   choices: [{value: Madame, label: Madame}, {value: Monsieur, label: Monsieur}]}
- {id: nom, type: text, label: Nom, prefill: nom}
- {id: prenom, type: text, label: Prénom, prefill: prenom}
- {id: naissance, type: date, label: Naissance, prefill: date_naissance}
- {id: adresse, type: address, label: Adresse, prefill: adresse}
- {id: telephone, type: phone, label: Téléphone, prefill: telephone}
- {id: email, type: email, label: Email}
""")


class Person:
    civilite, nom, prenom, date_naissance = "Madame", "Martin", "", date(1950, 3, 27)
    adresse, code_postal, commune = "1 rue A", None, "Arras"
    telephone, email = None, "camille@example.org"


def test_prefill_copies_the_account_as_text():
    assert engine.prefill(PREFILLED, Person()) == {
        "civilite": "Madame", "nom": "Martin", "naissance": "1950-03-27",
        "adresse": {"adresse": "1 rue A", "code_postal": "", "commune": "Arras"}}


def test_prefill_skips_a_choice_the_field_does_not_offer():
    person = Person()
    person.civilite, person.adresse, person.commune, person.nom = "Mx", "", None, 42
    assert engine.prefill(PREFILLED, person) == {"nom": "42", "naissance": "1950-03-27"}


def test_prefill_reads_only_what_the_account_has():
    class Sparse:  # no telephone attribute at all; an address without its commune
        civilite, nom, prenom, date_naissance = "Monsieur", "Durand", "Léo", None
        adresse, code_postal, commune = "2 rue B", "62000", None

    assert engine.prefill(PREFILLED, Sparse()) == {
        "civilite": "Monsieur", "nom": "Durand", "prenom": "Léo",
        "adresse": {"adresse": "2 rue B", "code_postal": "62000", "commune": ""}}
    by_postcode = questionnaire("- {id: lieu, type: address, label: Lieu, prefill: code_postal}")

    class NoStreet:
        adresse, code_postal, commune = None, "62000", "Arras"

    assert engine.prefill(by_postcode, NoStreet()) == {
        "lieu": {"adresse": "", "code_postal": "62000", "commune": "Arras"}}


# --- the context (a linked request, the deployment) in every public function ---------------


LINKED = questionnaire("""
- {id: delai, type: date, label: Date du courrier, max_date: today}
- {id: motif, type: text, label: Motif, required: true, when: {field: $delai_depasse, equals: oui}}
- id: rappel
  type: computed
  label: Rappel
  text: "Filière inconnue"
  cases: [{when: {field: $filiere, equals: mdph}, text: "Décision de la MDPH ({filiere})"}]
""", """
- {if: {field: $filiere, equals: apa}, field: delai, message: Pas pour l'APA.}
""")
LINKED.steps.append(questionnaire("- {id: piece, type: text, label: Pièce, required: true}").steps[0])
LINKED.steps[1].id, LINKED.steps[1].when = "mdph", {"field": "$filiere", "equals": "mdph"}
LINKED.steps.append(questionnaire("- {id: fin, type: text, label: Fin, required: true}").steps[0])
LINKED.steps[2].id = "fin"
MDPH_LATE = {"filiere": "mdph", "delai_depasse": "oui"}


def test_the_context_shows_steps_and_fields_and_drives_rules_and_texts():
    answers = {"delai": "2026-11-24", "motif": "Oubli", "piece": "x", "fin": "y"}
    assert [s.id for s in engine.visible_steps(LINKED, answers, MDPH_LATE)] == ["s", "mdph", "fin"]
    assert [s.id for s in engine.visible_steps(LINKED, answers)] == ["s", "fin"]
    first = LINKED.steps[0]
    assert [f.id for f in engine.visible_fields(first, LINKED, answers, MDPH_LATE)] == ["delai", "motif", "rappel"]
    assert [f.id for f in engine.visible_fields(first, LINKED, answers)] == ["delai", "rappel"]
    assert engine.prune_hidden(LINKED, answers, MDPH_LATE) == answers
    assert engine.prune_hidden(LINKED, answers) == {"delai": "2026-11-24", "fin": "y"}
    rappel = LINKED.all_fields()["rappel"]
    assert engine.computed_text(rappel, answers, LINKED, MDPH_LATE) == "Décision de la MDPH (mdph)"
    assert engine.computed_text(rappel, answers, LINKED) == "Filière inconnue"
    assert engine.validate_step(first, LINKED, {"delai": "2026-11-20"}, SETTINGS, {"filiere": "apa"}) == {
        "delai": "Pas pour l'APA."}
    assert engine.validate_step(first, LINKED, {"delai": "2026-11-20"}, SETTINGS, MDPH_LATE) == {
        "motif": "Renseignez « Motif »."}
    assert engine.validate_all(LINKED, {"delai": "2026-11-24"}, SETTINGS, MDPH_LATE) == {
        "s": {"delai": "La date doit être aujourd'hui ou dans le passé.", "motif": "Renseignez « Motif »."},
        "mdph": {"piece": "Renseignez « Pièce »."}, "fin": {"fin": "Renseignez « Fin »."}}
    assert engine.validate_all(LINKED, {"delai": "2026-11-20", "fin": "y"}, SETTINGS) == {}
