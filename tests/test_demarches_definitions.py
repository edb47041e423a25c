"""Definition files: every validation error names the file, the step and the field."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from portal.demarches.definitions import PROCEDURES_DIR, DefinitionError, load_all, load_file, parse

BASE = {
    "id": "essai",
    "title": "Essai",
    "steps": [
        {"id": "un", "title": "Étape un", "fields": [
            {"id": "nom", "type": "text", "label": "Nom", "required": True},
            {"id": "choix", "type": "choice", "label": "Choix",
             "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
        ]},
    ],
    "workflow": {"initial": "deposee", "statuses": {"deposee": {"label": "Déposée"},
                                                    "close": {"label": "Close"}},
                 "transitions": [{"from": "deposee", "to": "close"}]},
}


def broken(mutate) -> DefinitionError:
    data = copy.deepcopy(BASE)
    mutate(data)
    with pytest.raises(DefinitionError) as info:
        parse(data, "essai.yaml")
    return info.value


def field(data, index=0):
    return data["steps"][0]["fields"][index]


def test_the_base_definition_is_valid():
    procedure = parse(copy.deepcopy(BASE), "essai.yaml")
    assert [s.id for s in procedure.steps] == ["un"]
    assert procedure.workflow.transitions == {"deposee": ["close"]}


@pytest.mark.parametrize("mutate, step, field_id, words", [
    (lambda d: d.pop("title"), None, None, "« title » est obligatoire"),
    (lambda d: d.update(id="Pas Bon"), None, None, "identifiant invalide"),
    (lambda d: d.update(surprise=1), None, None, "clé(s) inconnue(s) : surprise"),
    (lambda d: d.pop("workflow"), None, None, "« workflow » est obligatoire"),
    (lambda d: d.update(audience=["martiens"]), None, None, "« audience » est une liste"),
    (lambda d: d.update(beneficiary="voisin"), None, None, "« beneficiary »"),
    (lambda d: d.update(beneficiary={"relations": ["voisin"]}), None, None,
     "type de relation inconnu « voisin »"),
    (lambda d: d.update(beneficiary={"relations": []}), None, None, "« beneficiary »"),
    (lambda d: d.update(beneficiary={"relations": ["enfant"], "autres": True}), None, None, "« beneficiary »"),
    (lambda d: field(d).update(wallet_kind="photo_identite"), "un", "nom", "qu'à un fichier"),
    (lambda d: field(d).update(type="file", wallet_kind="carte_vitale"), "un", "nom", "« wallet_kind » inconnu"),
    (lambda d: field(d).update(type="file", max_age_days=183), "un", "nom", "« wallet_kind » inconnu"),
    (lambda d: field(d).update(type="file", wallet_kind="autre", max_age_days=-3), "un", "nom",
     "nombre de jours positif"),
    (lambda d: d["steps"][0].pop("title"), "un", None, "titre d'étape manquant"),
    (lambda d: d["steps"][0].update(fields=[]), "un", None, "au moins un champ"),
    (lambda d: d["steps"].append(copy.deepcopy(d["steps"][0]) | {"fields": [
        {"id": "autre", "type": "text", "label": "Autre"}]}), "un", None, "étape en double"),
    (lambda d: field(d).update(type="couleur"), "un", "nom", "type inconnu « couleur »"),
    (lambda d: field(d).pop("label"), "un", "nom", "libellé"),
    (lambda d: field(d, 1).update(id="nom"), "un", "nom", "champ en double"),
    (lambda d: field(d, 1).pop("choices"), "un", "choix", "liste « choices »"),
    (lambda d: field(d, 1)["choices"].append({"value": "a", "label": "Encore A"}), "un", "choix",
     "valeur de choix en double"),
    (lambda d: field(d, 1).update(widget="roue"), "un", "choix", "« widget »"),
    (lambda d: field(d).update(choices=[{"value": 1, "label": "x"}]), "un", "nom", "n'a pas de sens"),
    (lambda d: field(d).update(min_length=10, max_length=2), "un", "nom", "« min_length » (10) est supérieur"),
    (lambda d: field(d).update(max_length="dix"), "un", "nom", "doit être un nombre"),
    (lambda d: field(d).update(min_date="today"), "un", "nom", "ne s'applique qu'à une date"),
    (lambda d: field(d).update(type="date", max_date="demain"), "un", "nom", "« max_date » invalide"),
    (lambda d: field(d).update(pattern="(", pattern_message="x"), "un", "nom", "« pattern » invalide"),
    (lambda d: field(d).update(pattern="\\d+"), "un", "nom", "pattern_message"),
    (lambda d: field(d).update(prefill="salaire"), "un", "nom", "« prefill » inconnu"),
    (lambda d: field(d).update(type="group"), "un", "nom", "a besoin de « fields »"),
    (lambda d: field(d).update(fields=[{"id": "x", "type": "text", "label": "X"}]), "un", "nom",
     "réservé aux groupes"),
    (lambda d: field(d).update(type="group", fields=[{"id": "f", "type": "file", "label": "F"}]), "un",
     "nom", "ni fichier ni groupe"),
    (lambda d: field(d).update(type="info", text=""), "un", "nom", "« text » ou « cases »"),
    (lambda d: field(d).update(type="linked_request"), "un", "nom", "« procedure »"),
    (lambda d: field(d).update(when={"field": "inconnu", "equals": "x"}), "un", "nom",
     "champ inconnu « inconnu »"),
    (lambda d: field(d).update(when={"field": "choix", "equals": "z"}), "un", "nom",
     "« z » n'est pas une valeur de « choix »"),
    (lambda d: field(d).update(when={"field": "choix", "equals": "a", "gt": 2}), "un", "nom",
     "un seul opérateur"),
    (lambda d: field(d).update(when={"field": "choix", "resembles": "a"}), "un", "nom", "un seul opérateur"),
    (lambda d: field(d).update(when={"any": []}), "un", "nom", "attend une liste"),
    (lambda d: field(d).update(when={"all": [{"field": "choix", "equals": "a"}], "field": "x"}), "un",
     "nom", "s'utilisent seuls"),
    (lambda d: field(d).update(when={"equals": "a"}), "un", "nom", "sans « field »"),
    (lambda d: field(d).update(when={"field": "choix", "one_of": "a"}), "un", "nom", "attend une liste"),
    (lambda d: d["steps"][0].update(rules=[{"if": {"field": "choix", "equals": "a"}}]), "un", None,
     "« if » et de « message »"),
    (lambda d: d["steps"][0].update(rules=[{"if": {"field": "choix", "equals": "a"}, "message": "m",
                                            "field": "absent"}]), "un", "absent", "absent de l'étape"),
    (lambda d: d["workflow"].update(initial="perdu"), "workflow", None, "statut initial inconnu"),
    (lambda d: d["workflow"]["statuses"]["close"].pop("label"), "workflow", "close", "sans « label »"),
    (lambda d: d["workflow"]["statuses"]["close"].update(couleur="rouge"), "workflow", "close",
     "clé(s) inconnue(s)"),
    (lambda d: d["workflow"]["transitions"].append({"from": "close", "to": "nulle_part"}), "workflow",
     None, "statut inconnu « nulle_part »"),
    (lambda d: d["workflow"].update(deadlines=[{"from": "deposee", "to": "close"}]), "workflow", None,
     "« months » ou « days »"),
    (lambda d: d["workflow"].update(deadlines=[{"from": "x", "to": "close", "months": 4}]), "workflow",
     None, "statut inconnu"),
    (lambda d: d["workflow"]["statuses"]["close"].update(
        data=[{"id": "motif", "type": "text", "label": "Motif"}],
        rules=[{"if": {"field": "choix", "equals": "a"}, "message": "m"}]), "workflow/close", None,
     "vise une de ses données"),
    (lambda d: d["workflow"]["statuses"]["close"].update(
        data=[{"id": "motif", "type": "text", "label": "Motif"}],
        rules=[{"if": {"field": "inconnu", "equals": "a"}, "message": "m", "field": "motif"}]),
     "workflow/close", "motif", "champ inconnu « inconnu »"),
    (lambda d: d["workflow"]["statuses"]["close"].update(
        data=[{"id": "motif", "type": "text", "label": "Motif"}],
        rules=[{"if": {"field": "choix", "equals": "z"}, "message": "m", "field": "motif"}]),
     "workflow/close", "motif", "n'est pas une valeur de « choix »"),
])
def test_each_error_names_the_file_the_step_and_the_field(mutate, step, field_id, words):
    error = broken(mutate)
    message = str(error)
    assert message.startswith("essai.yaml")
    assert words in message
    assert error.step == step
    assert error.field == field_id
    if step:
        assert f"étape « {step} »" in message
    if field_id:
        assert f"champ « {field_id} »" in message


def test_beneficiaries_and_wallet_rules_are_data():
    data = copy.deepcopy(BASE)
    data["beneficiary"] = {"relations": ["enfant", "association"]}
    field(data).update(type="file", wallet_kind="certificat_medical", max_age_days=183)
    procedure = parse(data, "essai.yaml")
    assert procedure.relation_kinds == ["enfant", "association"]
    assert parse(copy.deepcopy(BASE), "essai.yaml").relation_kinds == []  # "self" by default


def test_the_cmi_procedures_accept_natural_persons_only():
    from portal.relations.models import NATURAL_KINDS

    procedures = load_all(PROCEDURES_DIR)
    for procedure_id in ("cmi", "cmi_duplicata", "cmi_rapo"):
        assert procedures[procedure_id].relation_kinds == list(NATURAL_KINDS)
    documents = procedures["cmi"].all_fields()
    assert "photo" not in documents  # seed 001: asked after the decision, by the Imprimerie Nationale
    assert documents["justificatif_domicile"].get("wallet_kind") == "justificatif_domicile"
    # The MDPH medical certificate's age is a deployment setting; by default less than one year.
    assert documents["certificat_medical"].get("max_age_days") == 365
    assert documents["certificat_medical"].get("hint") == "Le certificat médical joint à la demande MDPH, daté de moins d'un an."


def test_a_file_that_is_not_yaml_or_not_a_mapping(tmp_path: Path):
    bad = tmp_path / "casse.yaml"
    bad.write_text("id: [non fermé\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="casse.yaml : YAML illisible"):
        load_file(bad)
    bad.write_text("- juste une liste\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="casse.yaml : le fichier doit décrire"):
        load_file(bad)


def test_two_files_with_the_same_identifier(tmp_path: Path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError, match="b.yaml : l'identifiant « essai » est déjà utilisé par a.yaml"):
        load_all(tmp_path)


def test_the_shipped_procedures_are_valid():
    procedures = load_all(PROCEDURES_DIR)
    assert {"cmi", "cmi_duplicata", "cmi_rapo", "cmi_eligibilite"} <= set(procedures)
    assert procedures["cmi_eligibilite"].workflow is None


def test_a_broken_definition_stops_start_up(tmp_path: Path):
    from portal import create_app

    bad = copy.deepcopy(BASE)
    bad["steps"][0]["fields"][0]["type"] = "couleur"
    (tmp_path / "essai.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError, match="essai.yaml, étape « un », champ « nom » : type inconnu"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "DEMARCHES_DIR": str(tmp_path),
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})


def test_the_check_command(tmp_path: Path):
    from portal import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    result = app.test_cli_runner().invoke(args=["demarches", "check"])
    assert result.exit_code == 0, result.output
    assert "cmi :" in result.output and "5 démarche(s) valide(s)" in result.output
    bad = copy.deepcopy(BASE)
    bad["steps"][0]["fields"][0]["prefill"] = "salaire"
    (tmp_path / "essai.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["demarches", "check", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "essai.yaml, étape « un », champ « nom » : « prefill » inconnu" in result.output
