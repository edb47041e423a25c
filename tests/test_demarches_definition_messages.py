"""A broken definition: the whole message the author reads, naming the file, the step and the
field; and what a valid definition gives the portal (defaults a procedure author relies on)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from portal.demarches.definitions import DefinitionError, load_all, load_file, parse
from tests.demarches_yaml import procedure_from_yaml

BASE_YAML = """
id: essai
title: Essai
steps:
  - id: un
    title: Étape un
    fields:
      - {id: nom, type: text, label: Nom, required: true}
      - {id: choix, type: choice, label: Choix, choices: [{value: a, label: A}, {value: b, label: B}]}
workflow:
  initial: deposee
  statuses:
    deposee: {label: Déposée}
    close: {label: Close}
  transitions:
    - {from: deposee, to: close}
"""
BASE = yaml.safe_load(BASE_YAML)
TYPES = ("address, checkboxes, choice, computed, date, decimal, email, file, group, info, integer, "
         "linked_request, phone, siret, text, textarea, yesno")
OPERATORS = "contains, equals, filled, gt, gte, lt, lte, not_equals, one_of"
WALLET = ("piece_identite, titre_sejour, justificatif_domicile, photo_identite, certificat_medical, "
          "acte_naissance, avis_imposition, autre")
PROFILE = ("adresse, civilite, code_postal, commune, date_naissance, email, lieu_naissance, nom, prenom, "
           "raison_sociale, siret, telephone")
AT = "essai.yaml"
STEP = "essai.yaml, étape « un »"
NOM = "essai.yaml, étape « un », champ « nom »"
CHOIX = "essai.yaml, étape « un », champ « choix »"
FLOW = "essai.yaml, étape « workflow »"


def nom(**spec):
    return lambda d: d["steps"][0]["fields"][0].update(spec)


def choix(**spec):
    return lambda d: d["steps"][0]["fields"][1].update(spec)


def step(**spec):
    return lambda d: d["steps"][0].update(spec)


def top(**spec):
    return lambda d: d.update(spec)


def status(name, **spec):
    return lambda d: d["workflow"]["statuses"].__setitem__(name, {"label": "L", **spec})


def flow(**spec):
    return lambda d: d["workflow"].update(spec)


def drop(key):
    return lambda d: d.pop(key)


@pytest.mark.parametrize("mutate, message", [
    (top(surprise=1, autre=2), f"{AT} : clé(s) inconnue(s) : autre, surprise"),
    (drop("id"), f"{AT} : la clé « id » est obligatoire"),
    (drop("title"), f"{AT} : la clé « title » est obligatoire"),
    (top(steps=[]), f"{AT} : la clé « steps » est obligatoire"),
    (top(id="Pas Bon"), f"{AT} : identifiant invalide « Pas Bon » (minuscules, chiffres, _)"),
    (top(id="x" * 42), f"{AT} : identifiant invalide « {'x' * 42} » (minuscules, chiffres, _)"),
    (top(id="1essai"), f"{AT} : identifiant invalide « 1essai » (minuscules, chiffres, _)"),
    (top(kind="formulaire"), f"{AT} : « kind » vaut « procedure » ou « questionnaire »"),
    (top(audience="citizen"), f"{AT} : « audience » est une liste parmi citizen, organisation"),
    (top(audience=[]), f"{AT} : « audience » est une liste parmi citizen, organisation"),
    (top(audience=["citizen", "martiens"]), f"{AT} : « audience » est une liste parmi citizen, organisation"),
    (top(beneficiary="voisin"),
     f"{AT} : « beneficiary » vaut « self » ou « {{relations: [enfant, conjoint, …]}} »"),
    (top(beneficiary={"relations": "enfant"}),
     f"{AT} : « beneficiary » vaut « self » ou « {{relations: [enfant, conjoint, …]}} »"),
    (top(beneficiary={"relations": []}),
     f"{AT} : « beneficiary » vaut « self » ou « {{relations: [enfant, conjoint, …]}} »"),
    (top(beneficiary={"relations": ["enfant"], "autres": 1}),
     f"{AT} : « beneficiary » vaut « self » ou « {{relations: [enfant, conjoint, …]}} »"),
    (top(beneficiary={"relations": ["enfant", "voisin", "ami"]}),
     f"{AT} : « beneficiary » : type de relation inconnu « voisin » "
     "(possibles : enfant, conjoint, parent, autre, association, entreprise)"),
    (top(steps={"un": 1}), f"{AT} : « steps » doit être une liste d'étapes"),
    (lambda d: d["steps"].append("deux"), f"{AT} : l'étape n°2 doit être un dictionnaire"),
    (step(couleur="rouge"), f"{STEP} : clé(s) inconnue(s) : couleur"),
    (lambda d: d["steps"][0].pop("id"), "essai.yaml, étape « n°1 » : identifiant d'étape manquant ou invalide"),
    (step(id="Un"), "essai.yaml, étape « Un » : identifiant d'étape manquant ou invalide"),
    (step(title=""), f"{STEP} : titre d'étape manquant"),
    (step(fields=[]), f"{STEP} : une étape contient au moins un champ"),
    (step(fields={"id": "nom"}), f"{STEP} : une étape contient au moins un champ"),
    (lambda d: d["steps"].append({"id": "un", "title": "Bis", "fields": [{"id": "x", "type": "text", "label": "X"}]}),
     f"{STEP} : identifiant d'étape en double"),
    (step(rules=["if"]), f"{STEP} : une règle a besoin de « if » et de « message »"),
    (step(rules=[{"message": "m"}]), f"{STEP} : une règle a besoin de « if » et de « message »"),
    (step(rules=[{"if": {"field": "nom", "filled": True}}]), f"{STEP} : une règle a besoin de « if » et de « message »"),
    (step(rules=[{"if": {"field": "nom", "filled": True}, "message": "m", "field": "absent"}]),
     "essai.yaml, étape « un », champ « absent » : la règle vise un champ absent de l'étape"),
    (step(fields=["nom"]), f"{STEP} : chaque champ doit être un dictionnaire"),
    (step(fields=[{"type": "text", "label": "X"}]), f"{STEP} : identifiant de champ manquant ou invalide (None)"),
    (step(fields=[{"id": "Nom", "type": "text", "label": "X"}]),
     f"{STEP} : identifiant de champ manquant ou invalide ('Nom')"),
    (nom(couleur="rouge", taille=2), f"{NOM} : clé(s) inconnue(s) : couleur, taille"),
    (nom(type="couleur"), f"{NOM} : type inconnu « couleur » (types possibles : {TYPES})"),
    (choix(id="nom"), f"{NOM} : identifiant de champ en double"),
    (lambda d: d["steps"].append({"id": "deux", "title": "Deux", "fields": [{"id": "nom", "type": "text",
                                                                           "label": "N"}]}),
     "essai.yaml, étape « deux », champ « nom » : identifiant de champ en double"),
    (nom(label=""), f"{NOM} : libellé (« label ») manquant"),
    (nom(type="info", text=""), f"{NOM} : un bloc d'information a besoin de « text » ou « cases »"),
    (nom(type="computed", cases=[]), f"{NOM} : un bloc d'information a besoin de « text » ou « cases »"),
    (choix(choices=[]), f"{CHOIX} : un choix a besoin d'une liste « choices »"),
    (choix(choices={"a": "A"}), f"{CHOIX} : un choix a besoin d'une liste « choices »"),
    (choix(type="checkboxes", choices=None), f"{CHOIX} : un choix a besoin d'une liste « choices »"),
    (choix(choices=["a"]), f"{CHOIX} : chaque choix a une « value » et un « label »"),
    (choix(choices=[{"value": "a"}]), f"{CHOIX} : chaque choix a une « value » et un « label »"),
    (choix(choices=[{"label": "A"}]), f"{CHOIX} : chaque choix a une « value » et un « label »"),
    (choix(choices=[{"value": 1, "label": "Un"}, {"value": "1", "label": "Un encore"}]),
     f"{CHOIX} : valeur de choix en double « 1 »"),
    (choix(widget="roue"), f"{CHOIX} : « widget » vaut « radios » ou « select »"),
    (nom(choices=[{"value": "a", "label": "A"}]), f"{NOM} : « choices » n'a pas de sens pour le type « text »"),
    (nom(max_length="dix"), f"{NOM} : « max_length » doit être un nombre"),
    (nom(min_length="1"), f"{NOM} : « min_length » doit être un nombre"),
    (nom(type="integer", min=[1]), f"{NOM} : « min » doit être un nombre"),
    (nom(type="integer", max="9"), f"{NOM} : « max » doit être un nombre"),
    (nom(min_length=10, max_length=2), f"{NOM} : « min_length » (10) est supérieur à « max_length » (2)"),
    (nom(type="decimal", min=2.5, max=2), f"{NOM} : « min » (2.5) est supérieur à « max » (2)"),
    (choix(type="checkboxes", min_items=3, max_items=1),
     f"{CHOIX} : « min_items » (3) est supérieur à « max_items » (1)"),
    (nom(min_date="today"), f"{NOM} : « min_date » ne s'applique qu'à une date"),
    (nom(max_date="today"), f"{NOM} : « max_date » ne s'applique qu'à une date"),
    (nom(type="date", max_date="demain"),
     f"{NOM} : « max_date » invalide « demain » (exemples : today, today-120y, today+30d)"),
    (nom(type="date", min_date="today+3w"),
     f"{NOM} : « min_date » invalide « today+3w » (exemples : today, today-120y, today+30d)"),
    (nom(pattern="(", pattern_message="x"),
     f"{NOM} : expression « pattern » invalide (missing ), unterminated subpattern at position 0)"),
    (nom(pattern="\\d+"), f"{NOM} : « pattern » demande son « pattern_message »"),
    (nom(prefill="salaire"), f"{NOM} : « prefill » inconnu « salaire » (possibles : {PROFILE})"),
    (nom(type="group"), f"{NOM} : un groupe répétable a besoin de « fields »"),
    (nom(type="group", fields=[]), f"{NOM} : un groupe répétable a besoin de « fields »"),
    (nom(type="group", fields={"id": "x"}), f"{NOM} : un groupe répétable a besoin de « fields »"),
    (nom(type="group", fields=[{"id": "sous", "type": "group", "label": "S",
                                "fields": [{"id": "x", "type": "text", "label": "X"}]}]),
     "essai.yaml, étape « un », champ « sous » : un groupe répétable ne peut pas contenir de groupe"),
    (nom(type="group", fields=[{"id": "x", "type": "text", "label": "X"}, {"id": "f", "type": "file", "label": "F"}]),
     f"{NOM} : un groupe ne contient ni fichier ni groupe"),
    (nom(fields=[{"id": "x", "type": "text", "label": "X"}]), f"{NOM} : « fields » est réservé aux groupes répétables"),
    (nom(wallet_kind="photo_identite"), f"{NOM} : « wallet_kind » et « max_age_days » ne s'appliquent qu'à un fichier"),
    (nom(max_age_days=3), f"{NOM} : « wallet_kind » et « max_age_days » ne s'appliquent qu'à un fichier"),
    (nom(type="file", wallet_kind="carte_vitale"), f"{NOM} : « wallet_kind » inconnu « carte_vitale » (possibles : {WALLET})"),
    (nom(type="file", max_age_days=183), f"{NOM} : « wallet_kind » inconnu « None » (possibles : {WALLET})"),
    (nom(type="file", wallet_kind="autre", max_age_days=0), f"{NOM} : « max_age_days » est un nombre de jours positif"),
    (nom(type="file", wallet_kind="autre", max_age_days=True), f"{NOM} : « max_age_days » est un nombre de jours positif"),
    (nom(type="file", wallet_kind="autre", max_age_days="10"), f"{NOM} : « max_age_days » est un nombre de jours positif"),
    (nom(type="linked_request"), f"{NOM} : « procedure » indique la démarche liée"),
    # conditions
    (nom(when="toujours"), f"{NOM} : condition invalide : 'toujours'"),
    (nom(when={}), f"{NOM} : condition invalide : {{}}"),
    (nom(when={"all": [{"field": "choix", "equals": "a"}], "field": "x"}),
     f"{NOM} : « all », « any » et « not » s'utilisent seuls"),
    (nom(when={"any": []}), f"{NOM} : « any » attend une liste de conditions"),
    (nom(when={"all": {"field": "choix", "equals": "a"}}), f"{NOM} : « all » attend une liste de conditions"),
    (nom(when={"not": {}}), f"{NOM} : condition invalide : {{}}"),
    (nom(when={"any": [{"field": "choix", "equals": "a"}, {"not": {"field": "choix", "equals": "z"}}]}),
     f"{NOM} : « z » n'est pas une valeur de « choix »"),
    (nom(when={"equals": "a"}), f"{NOM} : condition sans « field » : {{'equals': 'a'}}"),
    (nom(when={"field": "choix"}), f"{NOM} : condition sur « choix » : un seul opérateur parmi {OPERATORS}"),
    (nom(when={"field": "choix", "equals": "a", "gt": 2}),
     f"{NOM} : condition sur « choix » : un seul opérateur parmi {OPERATORS}"),
    (nom(when={"field": "choix", "resembles": "a"}),
     f"{NOM} : condition sur « choix » : un seul opérateur parmi {OPERATORS}"),
    (nom(when={"field": "inconnu", "equals": "x"}), f"{NOM} : la condition vise un champ inconnu « inconnu »"),
    (nom(when={"field": "choix", "one_of": "a"}), f"{NOM} : « one_of » attend une liste"),
    (nom(when={"field": "choix", "not_equals": "z"}), f"{NOM} : « z » n'est pas une valeur de « choix »"),
    (nom(when={"field": "choix", "contains": "z"}), f"{NOM} : « z » n'est pas une valeur de « choix »"),
    (choix(when={"field": "choix", "equals": 1}), f"{CHOIX} : « 1 » n'est pas une valeur de « choix »"),
    (step(when={"field": "inconnu", "filled": True}), f"{STEP} : la condition vise un champ inconnu « inconnu »"),
    (nom(type="computed", text="t", cases=[{"when": {"field": "inconnu", "filled": True}, "text": "x"}]),
     f"{NOM} : la condition vise un champ inconnu « inconnu »"),
    (step(rules=[{"if": {"field": "inconnu", "filled": True}, "message": "m", "field": "choix"}]),
     f"{CHOIX} : la condition vise un champ inconnu « inconnu »"),
    (step(rules=[{"if": {"field": "inconnu", "filled": True}, "message": "m"}]),
     f"{STEP} : la condition vise un champ inconnu « inconnu »"),
    (nom(type="group", fields=[{"id": "x", "type": "text", "label": "X", "when": {"field": "inconnu", "filled": 1}}]),
     "essai.yaml, étape « un », champ « x » : la condition vise un champ inconnu « inconnu »"),
    # workflow
    (drop("workflow"), f"{AT} : la clé « workflow » est obligatoire pour une démarche"),
    (top(workflow=["deposee"]), f"{FLOW} : le workflow a besoin de « statuses »"),
    (flow(statuses=["deposee"]), f"{FLOW} : le workflow a besoin de « statuses »"),
    (status("close", couleur="rouge"), "essai.yaml, étape « workflow », champ « close » : clé(s) inconnue(s) : couleur"),
    (lambda d: d["workflow"]["statuses"].__setitem__("close", None),
     "essai.yaml, étape « workflow », champ « close » : statut sans « label »"),
    (status("close", data=[{"id": "motif", "type": "couleur", "label": "M"}]),
     "essai.yaml, étape « workflow/close », champ « motif » : type inconnu « couleur » "
     f"(types possibles : {TYPES})"),
    (status("close", data=[{"id": "g", "type": "group", "label": "G", "fields": [{"id": "x", "type": "text",
                                                                              "label": "X"}]}]),
     "essai.yaml, étape « workflow/close », champ « g » : un groupe répétable ne peut pas contenir de groupe"),
    (status("close", rules=["x"]), "essai.yaml, étape « workflow/close » : une règle a besoin de « if » et de « message »"),
    (status("close", rules=[{"if": {"field": "nom", "filled": True}}]),
     "essai.yaml, étape « workflow/close » : une règle a besoin de « if » et de « message »"),
    (status("close", rules=[{"message": "m"}]),
     "essai.yaml, étape « workflow/close » : une règle a besoin de « if » et de « message »"),
    (status("close", data=[{"id": "motif", "type": "text", "label": "M"}],
            rules=[{"if": {"field": "nom", "filled": True}, "message": "m"}]),
     "essai.yaml, étape « workflow/close » : la règle d'un statut vise une de ses données (« field »)"),
    (status("close", data=[{"id": "motif", "type": "text", "label": "M"}],
            rules=[{"if": {"field": "nom", "filled": True}, "message": "m", "field": "nom"}]),
     "essai.yaml, étape « workflow/close », champ « nom » : la règle d'un statut vise une de ses données (« field »)"),
    (status("close", data=[{"id": "motif", "type": "text", "label": "M"}],
            rules=[{"if": {"field": "inconnu", "filled": True}, "message": "m", "field": "motif"}]),
     "essai.yaml, étape « workflow/close », champ « motif » : la condition vise un champ inconnu « inconnu »"),
    (flow(initial="perdu"), f"{FLOW} : statut initial inconnu « perdu »"),
    (flow(initial=None), f"{FLOW} : statut initial inconnu « None »"),
    (flow(transitions=[{"from": "close", "to": "nulle_part"}]),
     f"{FLOW} : transition vers ou depuis un statut inconnu « nulle_part »"),
    (flow(transitions=[{"from": ["deposee", "ailleurs"], "to": "close"}]),
     f"{FLOW} : transition vers ou depuis un statut inconnu « ailleurs »"),
    (flow(deadlines=[{"from": "x", "to": "close", "months": 4}]),
     f"{FLOW} : échéance avec un statut inconnu : {{'from': 'x', 'to': 'close', 'months': 4}}"),
    (flow(deadlines=[{"from": ["deposee"], "to": "y", "days": 4}]),
     f"{FLOW} : échéance avec un statut inconnu : {{'from': ['deposee'], 'to': 'y', 'days': 4}}"),
    (flow(deadlines=[{"from": "deposee", "to": "close"}]), f"{FLOW} : une échéance a « months » ou « days » (entier)"),
    (flow(deadlines=[{"from": "deposee", "to": "close", "days": "4"}]),
     f"{FLOW} : une échéance a « months » ou « days » (entier)"),
])
def test_the_whole_message_of_a_broken_definition(mutate, message):
    data = copy.deepcopy(BASE)
    mutate(data)
    with pytest.raises(DefinitionError) as info:
        parse(data, "essai.yaml")
    assert str(info.value) == message
    assert info.value.path == "essai.yaml"


def test_an_error_keeps_its_parts_for_the_command():
    error = DefinitionError("a.yaml", "m", step="s", field="f")
    assert (error.path, error.step, error.field, error.message) == ("a.yaml", "s", "f", "m")
    assert str(DefinitionError("a.yaml", "m", field="f")) == "a.yaml, champ « f » : m"


@pytest.mark.parametrize("text", ["- une liste\n", "juste du texte\n", ""])
def test_a_file_must_describe_a_procedure(text):
    with pytest.raises(DefinitionError) as info:
        procedure_from_yaml(text)
    assert str(info.value) == "essai.yaml : le fichier doit décrire une démarche (un dictionnaire)"


def test_a_yaml_error_names_the_file(tmp_path: Path):
    (tmp_path / "casse.yaml").write_text("id: [non fermé\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_file(tmp_path / "casse.yaml")
    assert str(info.value).startswith("casse.yaml : YAML illisible (while parsing a flow sequence")


def test_only_yaml_files_are_loaded_in_order(tmp_path: Path):
    second = copy.deepcopy(BASE) | {"id": "deux"}
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(second, allow_unicode=True), encoding="utf-8")
    (tmp_path / "a.yaml").write_text(BASE_YAML, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("pas une démarche", encoding="utf-8")
    procedures = load_all(tmp_path)
    assert list(procedures) == ["essai", "deux"]
    assert procedures["deux"].path == "b.yaml"
    (tmp_path / "c.yaml").write_text(BASE_YAML, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_all(tmp_path)
    assert str(info.value) == "c.yaml : l'identifiant « essai » est déjà utilisé par a.yaml"


# --- what a valid definition gives -------------------------------------------------------


def valid(**changes):
    data = copy.deepcopy(BASE)
    data.update(changes)
    return parse(data, "essai.yaml")


def test_defaults_of_a_procedure():
    procedure = valid()
    assert (procedure.id, procedure.title, procedure.summary, procedure.category) == ("essai", "Essai", "", "")
    assert procedure.kind == "procedure" and procedure.info == {}
    assert procedure.reference_prefix == "ESSAI"
    assert procedure.audience == ["citizen"] and procedure.relation_kinds == []
    step = procedure.steps[0]
    assert (step.id, step.title, step.when, step.rules, step.intro) == ("un", "Étape un", None, [], "")
    assert valid(id="inscription_cantine").reference_prefix == "INSCRI"
    assert valid(reference_prefix="CAN").reference_prefix == "CAN"
    assert valid(title=2026, summary=3, category=4).title == "2026"


def test_fields_as_the_author_wrote_them():
    procedure = procedure_from_yaml(BASE_YAML.replace("steps:", "summary: Résumé\nsteps:").replace(
        "{id: nom, type: text, label: Nom, required: true}",
        "{id: nom, type: text, label: Nom, required: true, hint: Votre nom}\n"
        "      - {id: marie, type: yesno, label: Marié}\n"
        "      - {id: lu, type: info, text: Lu}\n"
        "      - {id: grp, type: group, label: G, fields: [{id: x, type: text, label: X}]}"))
    fields = procedure.all_fields()
    assert list(fields) == ["nom", "marie", "lu", "grp", "choix"]
    assert fields["nom"].spec == {"required": True, "hint": "Votre nom"}
    assert fields["nom"].required and not fields["marie"].required
    assert fields["nom"].has_value and not fields["lu"].has_value and fields["lu"].label == ""
    assert [c.id for c in fields["grp"].children] == ["x"]
    assert fields["marie"].choices == [{"value": "oui", "label": "Oui"}, {"value": "non", "label": "Non"}]
    assert fields["nom"].choices == []
    assert fields["choix"].choice_label("b") == "B" and fields["choix"].choice_label("z") == "z"
    assert procedure.step("un") is procedure.steps[0] and procedure.step("deux") is None
    assert procedure.field_step("choix") is procedure.steps[0] and procedure.field_step("x") is None
    assert procedure.summary == "Résumé"


def test_a_questionnaire_has_no_workflow():
    data = copy.deepcopy(BASE)
    data.pop("workflow")
    data["kind"] = "questionnaire"
    procedure = parse(data, "essai.yaml")
    assert procedure.workflow is None and procedure.kind == "questionnaire"


def test_a_workflow_as_the_author_wrote_it():
    procedure = valid(workflow={
        "initial": "deposee",
        "statuses": {
            "deposee": {"label": "Déposée", "visible": False, "notify": False},
            "instruction": {"label": "En instruction", "message": "Nous étudions"},
            "accordee": {"label": "Accordée", "final": True, "decision": True, "appeal_months": 2,
                         "data": [{"id": "duree", "type": "text", "label": "Durée"}],
                         "rules": [{"if": {"field": "nom", "filled": True}, "field": "duree", "message": "m"}]},
        },
        "transitions": [{"from": ["deposee", "instruction"], "to": "accordee"},
                        {"from": "deposee", "to": "instruction"}],
        "deadlines": [{"from": "deposee", "to": "instruction", "days": 2},
                      {"from": ["deposee", "instruction"], "to": "accordee", "months": 4}],
    })
    workflow = procedure.workflow
    assert workflow.initial == "deposee"
    assert workflow.transitions == {"deposee": ["accordee", "instruction"], "instruction": ["accordee"]}
    deposee, instruction, accordee = workflow.statuses.values()
    assert (deposee.visible, deposee.notify, deposee.final, deposee.decision) == (False, False, False, False)
    assert (deposee.id, deposee.label, accordee.label, accordee.message) == ("deposee", "Déposée", "Accordée", "")
    assert (instruction.visible, instruction.notify, instruction.message) == (True, True, "Nous étudions")
    assert instruction.appeal_months is None and instruction.data == [] and instruction.rules == []
    assert (accordee.final, accordee.decision, accordee.appeal_months) == (True, True, 2)
    assert [f.id for f in accordee.data] == ["duree"] and accordee.rules[0]["message"] == "m"
    assert workflow.deadline_for("deposee") == {"from": ["deposee"], "to": "instruction", "days": 2}
    assert workflow.deadline_for("instruction")["to"] == "accordee"
    assert workflow.deadline_for("accordee") is None


def test_conditions_may_look_at_any_field_and_at_the_context():
    data = copy.deepcopy(BASE)
    data["steps"][0]["when"] = {"field": "$filiere", "equals": "mdph"}
    data["steps"][0]["fields"][0]["when"] = {"all": [{"field": "plus_tard", "filled": True},
                                                    {"not": {"field": "choix", "one_of": ["z"]}}]}
    data["steps"].append({"id": "deux", "title": "Deux", "fields": [{"id": "plus_tard", "type": "text",
                                                                     "label": "P"}]})
    assert [s.id for s in parse(data, "essai.yaml").steps] == ["un", "deux"]


@pytest.mark.parametrize("changes", [
    {"audience": ["organisation"]}, {"audience": ["citizen", "organisation"]}, {"beneficiary": "self"},
    {"kind": "procedure"},
])
def test_valid_variants(changes):
    assert valid(**changes).id == "essai"


@pytest.mark.parametrize("field", [
    {"id": "n", "type": "text", "label": "N", "min_length": 2, "max_length": 2},
    {"id": "n", "type": "decimal", "label": "N", "min": 0.5, "max": 10},
    {"id": "n", "type": "date", "label": "N", "min_date": " today-1y ", "max_date": "today"},
    {"id": "n", "type": "choice", "label": "N", "widget": "select", "choices": [{"value": 1, "label": "Un"}]},
    {"id": "n", "type": "file", "label": "N", "wallet_kind": "autre", "max_age_days": 1},
    {"id": "n", "type": "text", "label": "N", "pattern": "\\d+", "pattern_message": "Chiffres."},
    {"id": "n", "type": "text", "label": "N", "prefill": "nom"},
    {"id": "n", "type": "computed", "label": "N", "cases": [{"when": {"field": "choix", "contains": "a"}, "text": "t"}]},
    {"id": "n", "type": "linked_request", "label": "N", "procedure": "cmi"},
])
def test_valid_fields(field):
    data = copy.deepcopy(BASE)
    data["steps"][0]["fields"].append(field)
    parsed = parse(data, "essai.yaml").all_fields()["n"]
    assert parsed.type == field["type"] and parsed.label == field["label"]


def test_choice_values_are_text():
    data = copy.deepcopy(BASE)
    data["steps"][0]["fields"][1]["choices"] = [{"value": 1, "label": "Un"}, {"value": 2, "label": "Deux"}]
    assert parse(data, "essai.yaml").all_fields()["choix"].choices[0] == {"value": "1", "label": "Un"}


class Who:
    def __init__(self, role=None):
        if role:
            self.role = role


@pytest.mark.parametrize("audience, role, allowed", [
    (["citizen"], None, True), (["citizen"], "organisation", False), (["organisation"], "citizen", False),
    (["organisation"], "organisation", True), (["organisation"], "agent", True), (["citizen"], "admin", True),
    (["organisation"], None, False),
])
def test_who_may_file(audience, role, allowed):
    assert valid(audience=audience).open_to(Who(role)) is allowed


@pytest.mark.parametrize("query, found", [
    ("", True), ("essai", True), ("ESSAI", True), ("mobilite", True), ("Mobilité carte", True),
    ("handicap", True), ("social", True), ("stationnement", False), ("carte velo", False),
    ("xx", False), ("essaixx", False), ("social handicap", True),
])
def test_searching_a_procedure(query, found):
    procedure = valid(title="Carte d'essai", summary="Pour la mobilité", category="Social",
                      keywords=["handicap", "invalidité"])
    assert procedure.matches(query) is found
