"""What the seeds say, and only that: a warning that informs without blocking (priorité with
invalidité is « inutile », seed 002), deployment settings instead of facts no seed states
(the duplicata's price, the certificate's age), no identity photo at application time."""

from __future__ import annotations

import copy

import pytest
import yaml
from sqlalchemy import select

from portal.demarches import engine
from portal.demarches.definitions import PROCEDURES_DIR, DefinitionError, load_all, load_file, parse
from tests.conftest import page
from tests.demarches_support import post_step, sign_in, start
from tests.test_demarches_definitions import BASE

INUTILE = "Il est inutile de demander la mention priorité avec la mention invalidité"


def with_warning() -> dict:
    data = copy.deepcopy(BASE)
    data["steps"][0]["rules"] = [{"if": {"field": "choix", "equals": "b"}, "field": "choix",
                                  "level": "warning", "message": "B est inutile ici."}]
    return data


def test_a_warning_rule_is_a_notice_under_its_field_not_an_error():
    procedure = parse(with_warning(), "essai.yaml")
    step = procedure.steps[0]
    assert [f.id for f in step.fields] == ["nom", "choix", "avertissement_un_1"]
    settings = engine.Settings(today=__import__("datetime").date(2026, 12, 8))
    answers = {"nom": "Camille", "choix": "b"}
    assert engine.validate_step(step, procedure, answers, settings) == {}  # never blocks
    shown = [f.id for f in engine.visible_fields(step, procedure, answers)]
    assert "avertissement_un_1" in shown
    assert "avertissement_un_1" not in [f.id for f in engine.visible_fields(step, procedure, {"choix": "a"})]
    unread = engine.warnings_to_read(step, procedure, answers, {"nom", "choix"})
    assert [f.get("text") for f in unread] == ["B est inutile ici."]
    assert engine.warnings_to_read(step, procedure, answers, set(shown)) == []


def test_a_rule_level_is_error_or_warning():
    data = with_warning()
    data["steps"][0]["rules"][0]["level"] = "info"
    with pytest.raises(DefinitionError, match="« level » d'une règle vaut « error »"):
        parse(data, "essai.yaml")


def test_priorite_with_invalidite_is_explained_then_allowed(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    data = {"type_demande": "premiere", "mentions": ["priorite", "invalidite"]}
    # Without JavaScript the person has not seen the notice yet: the step comes back with it.
    response = post_step(client, draft, "demande", {**data, "_shown": "type_demande,mentions"})
    assert response.status_code == 200
    text = page(response)
    assert text.count(INUTILE) >= 1 and "Erreur" not in text.split("<title>")[1].split("</title>")[0]
    assert 'notice--warning' in text
    # Read (it was on the page): saving goes on, the answers are kept as given.
    shown = "type_demande,mentions,avertissement_demande_1,sous_mentions"
    response = post_step(client, draft, "demande", {**data, "_shown": shown})
    assert response.status_code == 303 and response.headers["Location"].endswith("/etapes/identite")


def test_the_cmi_asks_no_photo_and_says_what_to_do_when_it_is_awaited():
    cmi = load_all(PROCEDURES_DIR)["cmi"]
    assert all(f.get("wallet_kind") != "photo_identite" for f in cmi.all_fields().values())
    assert not any("photo" in item.lower() for item in cmi.info["documents"])
    awaited = cmi.workflow.statuses["photo_attendue"].message
    assert "Imprimerie Nationale" in awaited and "courrier" in awaited and "portail" in awaited


def test_no_fee_or_delay_stated_as_fact_by_default():
    duplicata = load_all(PROCEDURES_DIR)["cmi_duplicata"]
    text = yaml.safe_dump(duplicata.spec, allow_unicode=True)
    for invented in ("9 €", "après sa fabrication", "même si vous la retrouvez"):
        assert invented not in text
    fee = duplicata.all_fields()["tarif"]
    assert fee.get("text") == "Le duplicata est facturé et reste à votre charge."
    assert duplicata.info["duration"] == "Lorsque la demande est acceptée, il faut environ 10 jours pour recevoir la carte."


def test_a_deployment_sets_its_own_values(tmp_path):
    overrides = {"cmi_duplicata": {"cout_duplicata": "Le duplicata est facturé 9 € et reste à votre charge."},
                 "cmi": {"certificat_medical_jours": 180}}
    found = load_all(PROCEDURES_DIR, overrides)
    assert found["cmi_duplicata"].all_fields()["tarif"].get("text").startswith("Le duplicata est facturé 9 €")
    assert found["cmi"].all_fields()["certificat_medical"].get("max_age_days") == 180  # a number stays one
    with pytest.raises(DefinitionError, match="réglage inconnu « prix »"):
        load_all(PROCEDURES_DIR, {"cmi_duplicata": {"prix": "9 €"}})
    with pytest.raises(DefinitionError, match="démarche inconnue « passeport »"):
        load_all(PROCEDURES_DIR, {"passeport": {}})
    bad = copy.deepcopy(BASE)
    bad["settings"] = {"Délai": 3}
    (tmp_path / "essai.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError, match="essai.yaml : « settings » associe des noms"):
        load_file(tmp_path / "essai.yaml")


def test_the_settings_file_is_read_at_start_up(tmp_path, monkeypatch):
    from portal import create_app

    settings = tmp_path / "reglages.yaml"
    settings.write_text("cmi_duplicata:\n  cout_duplicata: Le duplicata coûte 12 €.\n", encoding="utf-8")
    monkeypatch.setenv("DEMARCHES_SETTINGS_FILE", str(settings))
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    fee = app.extensions["demarches"]["cmi_duplicata"].all_fields()["tarif"]
    assert fee.get("text") == "Le duplicata coûte 12 €."
    settings.write_text("cmi_duplicata:\n  tarif: 12\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="réglage inconnu « tarif »"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})


def test_the_civilite_of_the_procedures_is_the_accounts_vocabulary():
    from portal.accounts.models import CIVILITES

    for procedure in load_all(PROCEDURES_DIR).values():
        for f in procedure.all_fields().values():
            if f.get("prefill") == "civilite":
                assert [c["value"] for c in f.choices] == list(CIVILITES)
    bad = copy.deepcopy(BASE)
    bad["steps"][0]["fields"][1].update(prefill="civilite")
    with pytest.raises(DefinitionError, match="« prefill: civilite » : les valeurs sont celles du compte"):
        parse(bad, "essai.yaml")


def test_the_language_chosen_before_login_is_kept_and_remembered(app, client, auth, create_user):
    from portal import db as database
    from portal.accounts.models import User
    from tests.conftest import post_form

    create_user(email="camille@example.org", civilite="Madame")
    post_form(client, "/langue", {"lang": "en", "next": "/connexion"})
    assert auth.login().status_code == 303
    assert '<html lang="en">' in client.get("/compte").get_data(as_text=True)
    with app.app_context():
        assert database.session.scalar(select(User)).language == "en"
    auth.logout()
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)  # still read in English
    # Another browser, no choice made: the account's language applies at login.
    other = app.test_client()
    from tests.conftest import AuthActions

    assert AuthActions(other).login().status_code == 303
    assert '<html lang="en">' in other.get("/compte").get_data(as_text=True)
    post_form(other, "/langue", {"lang": "fr", "next": "/compte"})
    with app.app_context():
        assert database.session.scalar(select(User)).language == "fr"


def test_the_profile_civilite_prefills_the_procedure(client, auth, create_user):
    sign_in(client, auth, create_user, civilite="Monsieur")
    draft = start(client, "cmi")
    text = client.get(f"/brouillons/{draft}/etapes/identite").get_data(as_text=True)
    assert 'value="Monsieur" checked' in text
