"""The CMI procedure filled in fully through the test client, along every branch of its rules."""

from __future__ import annotations

import pytest

from tests.conftest import body, deliver, emails_to, page
from tests.demarches_support import PDF, PNG, location, post_step, sign_in, start

ADDRESS = {"adresse-adresse": "1 rue de la Paix", "adresse-code_postal": "62000", "adresse-commune": "Arras"}
IDENTITY = {"civilite": "Madame", "nom": "Martin", "prenom": "Camille", "date_naissance": "1950-03-27",
            "lieu_naissance": "Arras", "telephone": "06 12 34 56 78", "email": "camille@example.org"}


def fill(client, dossier_id, steps):
    """Post each (step, data, files) and check that it moves to the expected next page."""
    for step_id, data, files, expected_next in steps:
        response = post_step(client, dossier_id, step_id, data, files=files)
        assert response.status_code == 303, (step_id, page(response)[:3000])
        assert location(response).endswith(expected_next), (step_id, location(response))


def submit(client, dossier_id):
    from tests.conftest import csrf_token

    summary = client.get(f"/brouillons/{dossier_id}/recapitulatif")
    assert summary.status_code == 200
    import re

    version = re.search(r'name="version" value="(\d+)"', summary.get_data(as_text=True)).group(1)
    token = csrf_token(client, f"/brouillons/{dossier_id}/recapitulatif")
    return client.post(f"/brouillons/{dossier_id}/deposer", data={"csrf_token": token, "version": version}), \
        summary


def test_mdph_branch_with_stationnement_and_invalidite(client, auth, create_user, mailbox, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    step = client.get(f"/brouillons/{draft}/etapes/demande")
    text = page(step)
    assert "Étape 1 sur 7" in text and "Étape suivante : Votre identité" in text
    assert "Enregistrer et continuer" in text and "Enregistrer et reprendre plus tard" in text
    # An answer given then hidden by a later change is not submitted.
    post_step(client, draft, "residence", {**ADDRESS, "nationalite": "etrangere", "titre_sejour_numero": "1234567890"})
    fill(client, draft, [
        ("demande", {"type_demande": "premiere", "mentions": ["stationnement", "invalidite"],
                     "sous_mentions": ["besoin_accompagnement"], "mentions-present": "1"}, None, "/etapes/identite"),
        ("identite", IDENTITY, None, "/etapes/residence"),
        ("residence", {**ADDRESS, "nationalite": "francaise"}, None, "/etapes/situation"),
        ("situation", {"filiere": "mdph"}, None, "/etapes/handicap"),
        ("handicap", {"reconnaissance": "taux", "taux": "85", "deplacement": "oui", "aidants-count": "0"},
         None, "/etapes/documents"),
        ("documents", {}, {"certificat_medical": PDF, "justificatif_domicile": PDF,
                           "piece_identite": PNG}, "/etapes/engagement"),
        ("engagement", {"attestation": "oui", "attestation-present": "1"}, None, "/recapitulatif"),
    ])
    assert "Cerfa n°15692*02" in page(client.get(f"/brouillons/{draft}/etapes/situation"))  # MDPH branch
    response, summary = submit(client, draft)
    text = page(summary)
    assert "Vérifiez vos réponses" in text and "Stationnement, Invalidité" in text
    assert response.status_code == 303
    assert "/confirmation" in location(response)
    reference = location(response).split("/demandes/")[1].split("/")[0]
    assert reference.startswith("CMI-2026-") or reference.startswith("CMI-20")
    confirmation = page(client.get(location(response)))
    assert reference in confirmation and "Décision attendue au plus tard le" in confirmation
    assert "Demande faite pour : <strong>Vous-même</strong>" in confirmation
    deliver(app)
    [mail] = emails_to(mailbox, "camille@example.org")
    assert mail["Subject"].endswith("Votre demande a bien été déposée") and reference in body(mail)
    receipt = client.get(f"/demandes/{reference}/recepisse.pdf")
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF")
    assert "Demande faite pour : Camille Martin \\(vous-même\\)".encode("latin-1") in receipt.data  # ( escaped
    tracking = page(client.get(f"/demandes/{reference}"))
    assert "Déposée" in tracking and "Invalidité" in tracking
    assert "1234567890" not in tracking and "Documents joints" in tracking
    with app.app_context():
        from sqlalchemy import select

        from portal import db as database
        from portal.demarches.models import Dossier

        dossier = database.session.scalar(select(Dossier).where(Dossier.reference == reference))
        assert "titre_sejour_numero" not in dossier.answers
        assert len(dossier.files) == 3 and [e.status for e in dossier.events] == ["deposee"]


def test_apa_gir_1_skips_the_handicap_step(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    fill(client, draft, [
        ("demande", {"type_demande": "renouvellement", "numero_carte": "CMI123", "fin_validite": "2027-01-31",
                     "mentions": ["stationnement", "invalidite"]}, None, "/etapes/identite"),
        ("identite", IDENTITY, None, "/etapes/residence"),
        ("residence", {**ADDRESS, "nationalite": "etrangere", "titre_sejour_numero": "1234567890",
                       "titre_sejour_expiration": "2030-01-01"}, None, "/etapes/situation"),
        ("situation", {"filiere": "apa_beneficiaire", "gir": "1"}, None, "/etapes/documents"),
        ("documents", {}, {"certificat_medical_apa": PDF, "justificatif_domicile": PDF,
                           "titre_sejour_copie": PNG}, "/etapes/engagement"),
        ("engagement", {"attestation": "oui"}, None, "/recapitulatif"),
    ])
    situation = page(client.get(f"/brouillons/{draft}/etapes/situation"))
    assert "de plein droit, à titre permanent" in situation
    assert "Étape 4 sur 6" in situation  # the handicap step is not counted
    response, summary = submit(client, draft)
    assert response.status_code == 303
    assert "Votre handicap" not in page(summary)


def test_apa_gir_3_goes_through_the_handicap_step_with_priorite(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    fill(client, draft, [
        ("demande", {"type_demande": "premiere", "mentions": ["priorite"]}, None, "/etapes/identite"),
        ("identite", IDENTITY, None, "/etapes/residence"),
        ("residence", {**ADDRESS, "nationalite": "eee"}, None, "/etapes/situation"),
        ("situation", {"filiere": "apa_beneficiaire", "gir": "3"}, None, "/etapes/handicap"),
        ("handicap", {"reconnaissance": "taux", "taux": "50", "station_debout": "oui"}, None, "/etapes/documents"),
        ("documents", {}, {"certificat_medical_apa": PDF, "justificatif_domicile": PDF,
                           "piece_identite": PNG}, "/etapes/engagement"),
        ("engagement", {"attestation": "oui"}, None, "/recapitulatif"),
    ])
    assert "GIR 3 ou 4" in page(client.get(f"/brouillons/{draft}/etapes/situation"))
    response, summary = submit(client, draft)
    assert response.status_code == 303
    assert "Priorité" in page(summary) and "50" in page(summary)


def test_apa_applicant_and_invalidite_third_category(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    fill(client, draft, [
        ("demande", {"type_demande": "premiere", "mentions": ["invalidite"],
                     "sous_mentions": ["besoin_accompagnement_cecite"]}, None, "/etapes/identite"),
        ("identite", IDENTITY, None, "/etapes/residence"),
        ("residence", {**ADDRESS, "nationalite": "francaise"}, None, "/etapes/situation"),
        ("situation", {"filiere": "apa_demandeur"}, None, "/etapes/handicap"),
        ("handicap", {"reconnaissance": "invalidite_3"}, None, "/etapes/documents"),
        ("documents", {}, {"certificat_medical_apa": PDF, "justificatif_domicile": PDF,
                           "piece_identite": PNG}, "/etapes/engagement"),
        ("engagement", {"attestation": "oui"}, None, "/recapitulatif"),
    ])
    response, _ = submit(client, draft)
    assert response.status_code == 303


@pytest.mark.parametrize("step_id, data, message", [
    ("demande", {"type_demande": "premiere"}, "Sélectionnez au moins une mention."),
    ("demande", {"type_demande": "renouvellement", "mentions": ["priorite"]}, "Renseignez « Numéro de votre carte actuelle »."),
    ("residence", {**ADDRESS, "adresse-code_postal": "75001", "nationalite": "francaise"},
     "Votre adresse doit se trouver dans le département du Pas-de-Calais (62)"),
    ("residence", {**ADDRESS, "nationalite": "etrangere", "titre_sejour_numero": "12AB",
                   "titre_sejour_expiration": "2020-01-01"}, "Le numéro du titre de séjour comporte 10 chiffres."),
    ("residence", {**ADDRESS, "nationalite": "etrangere", "titre_sejour_numero": "1234567890",
                   "titre_sejour_expiration": "2020-01-01"}, "ou après"),
    ("identite", {**IDENTITY, "telephone": "123", "date_naissance": "2999-01-01"},
     "Saisissez un numéro de téléphone français"),
])
def test_step_errors_keep_the_input(client, auth, create_user, step_id, data, message):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    response = post_step(client, draft, step_id, data)
    assert response.status_code == 422
    text = page(response)
    assert "Il y a un problème" in text and message in text
    assert text.count(message) >= 2  # in the summary and next to the field
    assert "<title>Erreur : " in text
    for value in data.values():
        if isinstance(value, str) and value not in ("premiere", "renouvellement", "francaise", "etrangere"):
            assert value in text  # the input is kept, even invalid


def test_rate_below_80_refuses_invalidite_and_rate_above_refuses_priorite(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    post_step(client, draft, "demande", {"type_demande": "premiere", "mentions": ["invalidite"]})
    post_step(client, draft, "situation", {"filiere": "mdph"})
    response = post_step(client, draft, "handicap", {"reconnaissance": "taux", "taux": "60"})
    assert response.status_code == 422
    assert "à partir d'un taux d'incapacité permanente de 80 %" in page(response)


@pytest.mark.parametrize("handicap, message", [
    ({"reconnaissance": "taux", "taux": "80", "station_debout": "oui"},
     "Avec ce taux, revenez à l'étape « Votre demande » pour demander la mention invalidité."),
    ({"reconnaissance": "taux", "taux": "95", "station_debout": "oui"},
     "Avec ce taux, revenez à l'étape « Votre demande » pour demander la mention invalidité."),
    ({"reconnaissance": "invalidite_3", "station_debout": "oui"},
     "Classé(e) en invalidité de 3e catégorie, vous relevez de la mention invalidité"),
])
def test_priorite_is_refused_from_80_percent_and_in_third_category_invalidity(client, auth, create_user,
                                                                               handicap, message):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    post_step(client, draft, "demande", {"type_demande": "premiere", "mentions": ["priorite"]})
    post_step(client, draft, "situation", {"filiere": "mdph"})
    response = post_step(client, draft, "handicap", handicap)
    assert response.status_code == 422
    assert message in page(response)
    ok = post_step(client, draft, "handicap", {"reconnaissance": "taux", "taux": "79", "station_debout": "oui"})
    assert ok.status_code == 303


def test_fields_hidden_by_a_hidden_field_are_hidden_and_not_submitted(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    post_step(client, draft, "demande", {"type_demande": "premiere", "mentions": ["invalidite"],
                                         "sous_mentions": ["besoin_accompagnement"]})
    post_step(client, draft, "situation", {"filiere": "mdph"})
    post_step(client, draft, "handicap", {"reconnaissance": "invalidite_3", "aidants-count": "1",
                                          "aidants-0-present": "1", "aidants-0-nom": "Paul Martin"})
    assert 'name="aidants-count"' in page(client.get(f"/brouillons/{draft}/etapes/handicap"))
    # Priorité only: the sous-mentions are hidden, so the aidants (shown by a sous-mention) are too.
    fill(client, draft, [
        ("demande", {"type_demande": "premiere", "mentions": ["priorite"]}, None, "/etapes/identite"),
        ("identite", IDENTITY, None, "/etapes/residence"),
        ("residence", {**ADDRESS, "nationalite": "francaise"}, None, "/etapes/situation"),
        ("situation", {"filiere": "mdph"}, None, "/etapes/handicap"),
    ])
    handicap = page(client.get(f"/brouillons/{draft}/etapes/handicap"))
    assert 'name="aidants-count"' not in handicap and "Personnes qui vous accompagnent" not in handicap
    fill(client, draft, [
        ("handicap", {"reconnaissance": "taux", "taux": "50", "station_debout": "oui"}, None, "/etapes/documents"),
        ("documents", {}, {"certificat_medical": PDF, "justificatif_domicile": PDF,
                           "piece_identite": PNG}, "/etapes/engagement"),
        ("engagement", {"attestation": "oui"}, None, "/recapitulatif"),
    ])
    response, summary = submit(client, draft)
    assert response.status_code == 303 and "Paul Martin" not in page(summary)
    reference = location(response).split("/demandes/")[1].split("/")[0]
    assert "Paul Martin" not in page(client.get(f"/demandes/{reference}"))
    with app.app_context():
        from sqlalchemy import select

        from portal import db as database
        from portal.demarches.models import Dossier

        answers = database.session.scalar(select(Dossier).where(Dossier.reference == reference)).answers
        assert "aidants" not in answers and "sous_mentions" not in answers


def test_conditional_fields_apply_on_save_without_javascript(client, auth, create_user):
    """A client that does not say which questions it showed (no ``_shown``) gets every visible
    question validated: the revealed one is reported as missing."""
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    before = page(client.get(f"/brouillons/{draft}/etapes/residence"))
    assert 'name="titre_sejour_numero"' not in before
    response = post_step(client, draft, "residence", {**ADDRESS, "nationalite": "etrangere"})
    assert response.status_code == 422
    text = page(response)
    assert 'name="titre_sejour_numero"' in text and "Renseignez « Numéro de votre titre de séjour »." in text


def test_prefill_from_the_account(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    text = page(client.get(f"/brouillons/{draft}/etapes/identite"))
    assert 'value="Martin"' in text and 'value="27/03/1950"' in text and 'value="camille@example.org"' in text
    residence = page(client.get(f"/brouillons/{draft}/etapes/residence"))
    assert 'value="62000"' in residence
