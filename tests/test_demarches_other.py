"""Duplicata, RAPO, the eligibility questionnaire, the catalogue, Mes démarches and access."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from portal import db as database
from portal.demarches.models import Dossier
from portal.demarches.services import french_date
from tests.conftest import body, csrf_token, deliver, emails_to, page
from tests.demarches_support import PDF, location, post_step, sign_in, start

ADDRESS = {"adresse-adresse": "1 rue de la Paix", "adresse-code_postal": "62000", "adresse-commune": "Arras"}


def fill_duplicata(client, motif="perte") -> int:
    draft = start(client, "cmi_duplicata")
    assert post_step(client, draft, "motif", {"motif": motif, "mention": "stationnement",
                                              "numero_carte": "CMI-99"}).status_code == 303
    assert post_step(client, draft, "titulaire", {"nom": "Martin", "prenom": "Camille",
                                                  "date_naissance": "1950-03-27", **ADDRESS,
                                                  "email": "camille@example.org"}).status_code == 303
    paiement = page(client.get(f"/brouillons/{draft}/etapes/paiement"))
    assert "est facturé et reste à votre charge." in paiement  # the fee (seed 001's words), before submission
    assert post_step(client, draft, "paiement", {"accord_tarif": "oui"}).status_code == 303
    return draft


def submit(client, draft) -> str:
    summary = client.get(f"/brouillons/{draft}/recapitulatif").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', summary).group(1)
    token = csrf_token(client, f"/brouillons/{draft}/recapitulatif")
    response = client.post(f"/brouillons/{draft}/deposer", data={"csrf_token": token, "version": version})
    assert response.status_code == 303, page(response)
    return location(response).split("/demandes/")[1].split("/")[0]


def test_duplicata_states_the_fee_and_the_invalidation(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi_duplicata")
    response = post_step(client, draft, "motif", {"motif": "vol", "mention": "priorite", "numero_carte": "X"})
    assert response.status_code == 303
    text = page(client.get(f"/brouillons/{draft}/etapes/motif"))
    assert "la carte initiale est invalidée" in text and "Déclaration de vol" in text
    response = post_step(client, draft, "motif", {"motif": "second_exemplaire", "mention": "priorite",
                                                  "numero_carte": "X"})
    assert response.status_code == 422
    assert "Un second exemplaire ne peut être demandé que pour la carte mention stationnement." in page(response)
    draft = fill_duplicata(client, motif="second_exemplaire")
    assert submit(client, draft).startswith("CMID-")


def _decided_cmi(app, user, filiere: str, months_ago: int, reference: str) -> None:
    from datetime import timedelta

    from portal.db import utcnow

    with app.app_context():
        decided = utcnow() - timedelta(days=30 * months_ago)
        database.session.add(Dossier(user_id=user.id, procedure_id="cmi", answers={"filiere": filiere},
                                     field_versions={}, reference=reference, submitted_at=decided,
                                     status="refusee", status_changed_at=decided, decided_at=decided))
        database.session.commit()


def test_rapo_is_linked_to_a_decided_request_and_addressed_by_branch(client, auth, create_user, app):
    user = sign_in(client, auth, create_user)
    _decided_cmi(app, user, "mdph", 1, "CMI-2026-000007")
    _decided_cmi(app, user, "apa_beneficiaire", 3, "CMI-2026-000008")
    draft = start(client, "cmi_rapo")
    text = page(client.get(f"/brouillons/{draft}/etapes/decision"))
    assert "CMI-2026-000007" in text and "CMI-2026-000008" in text
    response = post_step(client, draft, "decision", {"demande_liee": "CMI-2099-000001"})
    assert response.status_code == 422 and "Sélectionnez une demande proposée" in page(response)
    post_step(client, draft, "decision", {"demande_liee": "CMI-2026-000007"})
    text = page(client.get(f"/brouillons/{draft}/etapes/decision"))
    assert "adressé à la Commission des droits et de l'autonomie" in text
    assert "délai de deux mois pour former un recours est dépassé" not in text
    post_step(client, draft, "decision", {"demande_liee": "CMI-2026-000008"})
    text = page(client.get(f"/brouillons/{draft}/etapes/decision"))
    assert "adressé au Président du Conseil départemental" in text
    assert "Le délai de deux mois pour former un recours est dépassé" in text
    response = post_step(client, draft, "motifs", {"mentions_contestees": "stationnement",
                                                   "explication": "Ma mobilité est très réduite depuis 2025."},
                         files={"courrier_decision": PDF})
    assert response.status_code == 303
    assert submit(client, draft).startswith("RAPO-")


def test_rapo_from_another_account_request_is_not_offered(client, auth, create_user, app):
    other = create_user(email="autre@example.org")
    _decided_cmi(app, other, "mdph", 1, "CMI-2026-000009")
    sign_in(client, auth, create_user)
    info = page(client.get("/demarches/cmi_rapo"))  # said before any draft exists
    assert "aucune demande ayant reçu une décision" in info and "/commencer" not in info
    draft = start(client, "cmi_rapo")
    text = page(client.get(f"/brouillons/{draft}/etapes/decision"))
    assert "CMI-2026-000009" not in text and "aucune demande ayant reçu une décision" in text
    # A dead end says where to write instead of offering to save and continue.
    assert "Président du Conseil départemental du Pas-de-Calais" in text and "CDAPH" in text
    assert "Enregistrer et continuer" not in text and "Supprimer ce brouillon" in text


def test_eligibility_questionnaire_without_an_account(client):
    text = page(client.get("/demarches/cmi_eligibilite"))
    assert "Suis-je éligible à la CMI ?" in text and "Résidez-vous dans le département du Pas-de-Calais ?" in text
    token = csrf_token(client, "/demarches/cmi_eligibilite")
    base = {"csrf_token": token, "reside": "oui", "nationalite": "francaise", "station_debout": "non"}
    response = client.post("/demarches/cmi_eligibilite", data={**base, "apa": "beneficiaire", "gir": "2",
                                                                "reconnaissance": "aucun", "deplacement": "oui"})
    text = page(response)
    assert response.status_code == 200
    assert "stationnement et invalidité vous sont attribuées de plein droit, à titre permanent" in text
    assert "certificat médical APA/CMI" in text and "Faire une demande de CMI" in text
    text = page(client.post("/demarches/cmi_eligibilite", data={**base, "apa": "non", "reconnaissance": "moins_80",
                                                                 "station_debout": "oui", "deplacement": "oui"}))
    assert "mention priorité" in text and "mention stationnement" in text and "Cerfa n°15692*02" in text
    assert "Vous pouvez demander la mention invalidité" not in text
    text = page(client.post("/demarches/cmi_eligibilite", data={**base, "apa": "demandeur", "reconnaissance": "aucun",
                                                                 "deplacement": "oui"}))
    assert "par le biais du dossier de demande d'APA" in text and "certificat médical APA/CMI" in text
    assert "Je demande l'APA en même temps que la CMI" in text and "Cerfa n°15692*02" not in text
    assert "GIR 1 ou 2" in text and "mention stationnement" in text and "Votre niveau GIR" not in text
    text = page(client.post("/demarches/cmi_eligibilite", data={**base, "reside": "non", "apa": "non",
                                                                 "reconnaissance": "plus_80", "deplacement": "non"}))
    assert "Vous devez résider dans le département" in text
    response = client.post("/demarches/cmi_eligibilite", data={"csrf_token": token, "apa": "beneficiaire"})
    assert response.status_code == 422
    assert "Sélectionnez une réponse pour « Votre niveau GIR »." in page(response)
    errors = page(response)
    assert "Sélectionnez une réponse pour « Résidez-vous dans le département du Pas-de-Calais ? »." in errors
    assert "{departement_name}" not in errors
    refresh = client.post("/demarches/cmi_eligibilite/actualiser", headers={"HX-Request": "true"},
                          data={"csrf_token": token, "apa": "beneficiaire", "_shown": "reside,nationalite,apa"})
    assert "Nouvelle question affichée : « Votre niveau GIR »." in page(refresh)


def test_catalogue_search_works_with_and_without_htmx(client):
    text = page(client.get("/demarches"))
    assert "Liste des démarches" in text and "Demande de Carte Mobilité Inclusion (CMI)" in text
    text = page(client.get("/demarches?q=recours"))
    assert "Recours administratif préalable obligatoire" in text and "Duplicata" not in text
    fragment = client.get("/demarches?q=duplicata", headers={"HX-Request": "true", "HX-Target": "catalogue-results"})
    text = page(fragment)
    assert "<html" not in text and "Duplicata ou second exemplaire de CMI" in text
    assert "1 démarche trouvée" in text
    assert "Aucune démarche" in page(client.get("/demarches?q=passeport+zzz"))


def test_info_page_and_one_click_start(client, auth, create_user):
    text = page(client.get("/demarches/cmi"))
    assert "Documents à préparer" in text and "Se connecter pour commencer" in text
    assert "Résider dans le département du Pas-de-Calais." in text
    sign_in(client, auth, create_user)
    assert "Commencer" in page(client.get("/demarches/cmi"))
    draft = start(client, "cmi")
    assert start(client, "cmi") == draft  # a double click does not make a second draft
    post_step(client, draft, "identite", {"nom": "Durand"}, action="plus_tard")
    assert start(client, "cmi") != draft  # a new one once the first has answers


def test_mes_demarches_drafts_and_requests_paginated(client, auth, create_user, app):
    app.config["DEMARCHES_PAGE_SIZE"] = 2
    sign_in(client, auth, create_user)
    drafts = []
    for name in ("Durand", "Petit", "Roux"):
        drafts.append(start(client, "cmi"))
        post_step(client, drafts[-1], "identite", {"nom": name}, action="plus_tard")
    reference = submit(client, fill_duplicata(client))
    text = page(client.get("/mes-demarches"))
    assert "Brouillons" in text and "Suivi de mes demandes" in text
    assert reference in text and "Déposée" in text
    assert "Page 1 sur 2" in text
    assert text.count("Reprendre<span") == 2
    second = page(client.get("/mes-demarches?brouillons=2"))
    assert second.count("Reprendre<span") == 1
    # Resume goes back to the last step saved.
    resume = client.get(f"/brouillons/{drafts[0]}")
    assert location(resume).endswith("/etapes/identite")


def test_suivi_de_mes_demandes_second_page(client, auth, create_user, app):
    app.config["DEMARCHES_PAGE_SIZE"] = 2
    sign_in(client, auth, create_user)
    references = [submit(client, fill_duplicata(client)) for _ in range(3)]
    first = page(client.get("/mes-demarches"))
    assert references[2] in first and references[1] in first and references[0] not in first
    assert "Page 1 sur 2" in first and "/mes-demarches?demandes=2" in first
    second = page(client.get("/mes-demarches?brouillons=1&demandes=2"))
    assert references[0] in second and references[1] not in second and references[2] not in second
    assert "Page 2 sur 2" in second and "Page suivante" not in second
    assert "/mes-demarches?brouillons=1&demandes=1" in second  # « Page précédente » keeps the drafts page


def test_delete_a_draft(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    assert "Supprimer le brouillon" in page(client.get(f"/brouillons/{draft}/supprimer"))
    token = csrf_token(client, "/mes-demarches")
    response = client.post(f"/brouillons/{draft}/supprimer", data={"csrf_token": token})
    assert response.status_code == 303
    with app.app_context():
        assert database.session.get(Dossier, draft) is None


def test_another_account_gets_404_everywhere(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi_duplicata")
    reference = submit(client, fill_duplicata(client))
    auth.logout()
    sign_in(client, auth, create_user, email="autre@example.org")
    for url in (f"/brouillons/{draft}", f"/brouillons/{draft}/etapes/motif", f"/brouillons/{draft}/recapitulatif",
                f"/brouillons/{draft}/supprimer", f"/demandes/{reference}", f"/demandes/{reference}/recepisse.pdf",
                f"/demandes/{reference}/confirmation", f"/dossiers/{draft}/fichiers/1"):
        assert client.get(url).status_code == 404, url
    assert post_step(client, draft, "motif", {"motif": "perte"}).status_code == 404
    token = csrf_token(client, "/mes-demarches")
    assert client.post(f"/brouillons/{draft}/deposer", data={"csrf_token": token}).status_code == 404


def test_repeatable_group_add_and_remove_without_javascript(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    post_step(client, draft, "demande", {"type_demande": "premiere", "mentions": ["invalidite"],
                                         "sous_mentions": ["besoin_accompagnement"]})
    response = post_step(client, draft, "handicap", {"reconnaissance": "invalidite_3", "aidants-count": "0"},
                         action="ajouter:aidants")
    assert response.status_code == 303 and location(response).endswith("?focus=f-aidants-0-nom")  # the new person
    post_step(client, draft, "handicap", {"reconnaissance": "invalidite_3", "aidants-count": "1",
                                          "aidants-0-present": "1", "aidants-0-nom": "Léa"},
              action="ajouter:aidants")
    text = page(client.get(f"/brouillons/{draft}/etapes/handicap"))
    assert "Personne 2" in text and "Ajouter une personne" in text
    response = post_step(client, draft, "handicap", {
        "reconnaissance": "invalidite_3", "aidants-count": "2", "aidants-0-present": "1", "aidants-0-nom": "Léa",
        "aidants-1-present": "1", "aidants-1-nom": ""})
    assert response.status_code == 422 and "Renseignez « Nom et prénom »." in page(response)
    post_step(client, draft, "handicap", {"reconnaissance": "invalidite_3", "aidants-count": "2",
                                          "aidants-0-present": "1", "aidants-0-nom": "Léa",
                                          "aidants-1-present": "1", "aidants-1-nom": ""}, action="retirer:aidants:1")
    with app.app_context():
        assert database.session.get(Dossier, draft).answers["aidants"] == [{"nom": "Léa", "lien": ""}]


def test_upload_rejected_and_file_removed(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    response = post_step(client, draft, "documents", {}, files={"justificatif_domicile": b"GIF89a not accepted"})
    assert response.status_code == 422 and "Le fichier doit être au format PDF, JPEG ou PNG" in page(response)
    post_step(client, draft, "documents", {}, files={"justificatif_domicile": PDF}, action="plus_tard")
    text = page(client.get(f"/brouillons/{draft}/etapes/documents"))
    assert "Fichier joint :" in text
    post_step(client, draft, "documents", {}, action="supprimer_fichier:justificatif_domicile")
    with app.app_context():
        dossier = database.session.get(Dossier, draft)
        assert "justificatif_domicile" not in dossier.answers and dossier.files == []


def test_summary_modify_link_returns_to_the_summary(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = fill_duplicata(client)
    summary = page(client.get(f"/brouillons/{draft}/recapitulatif"))
    assert f"/brouillons/{draft}/etapes/titulaire?retour=recapitulatif#f-nom" in summary
    step = page(client.get(f"/brouillons/{draft}/etapes/titulaire?retour=recapitulatif"))
    assert "Enregistrer et revenir au récapitulatif" in step and "Retour au récapitulatif" in step
    response = post_step(client, draft, "titulaire", {"nom": "Durand", "prenom": "Camille",
                                                      "date_naissance": "1950-03-27", **ADDRESS,
                                                      "email": "camille@example.org"}, query="?retour=recapitulatif")
    assert location(response).endswith("/recapitulatif")


# A deployment that states its price (DEMARCHES_SETTINGS): the euro sign must survive the PDF.
@pytest.mark.parametrize("app_config", [{"DEMARCHES_SETTINGS": {"cmi_duplicata": {
    "cout_duplicata": "Le duplicata est facturé 9 € et reste à votre charge."}}}])
def test_receipt_writes_the_fee_and_typographic_characters_legibly(client, auth, create_user):
    sign_in(client, auth, create_user)
    draft = start(client, "cmi_duplicata")
    assert post_step(client, draft, "motif", {"motif": "perte", "mention": "stationnement",
                                              "numero_carte": "CMI-99 “l’ancienne” – œuvre…"}).status_code == 303
    assert post_step(client, draft, "titulaire", {"nom": "Martin", "prenom": "Camille",
                                                  "date_naissance": "1950-03-27", **ADDRESS,
                                                  "email": "camille@example.org"}).status_code == 303
    assert post_step(client, draft, "paiement", {"accord_tarif": "oui"}).status_code == 303
    receipt = client.get(f"/demandes/{submit(client, draft)}/recepisse.pdf").data
    assert "Le duplicata est facturé 9 EUR et reste".encode("latin-1") in receipt
    assert b'CMI-99 "l\'ancienne" - oeuvre...' in receipt
    assert b"9 ?" not in receipt and b"?l" not in receipt


def test_confirmation_email_reaches_the_mailbox(client, auth, create_user, mailbox, app):
    sign_in(client, auth, create_user)
    reference = submit(client, fill_duplicata(client))
    receipt = client.get(f"/demandes/{reference}/recepisse.pdf")
    assert receipt.mimetype == "application/pdf"
    assert reference.encode() in receipt.data and "Récépissé de dépôt".encode("latin-1") in receipt.data
    deliver(app)
    [mail] = emails_to(mailbox, "camille@example.org")
    assert mail["Subject"] == "[Guichet] Votre demande a bien été déposée"
    html = mail.get_body(preferencelist=("html",)).get_content()
    for text in (body(mail), html):
        assert reference in text and french_date(datetime.now(UTC)) in text
        assert re.search(rf"http://localhost/demandes/{reference}(?![/\w-])", text)  # the request page
        assert f"http://localhost/demandes/{reference}/recepisse.pdf" in text
        # A link to the portal, not the request's content: no procedure title, next steps or answers.
        for secret in ("Duplicata", "CMI", "Imprimerie Nationale", "Martin", "CMI-99", "stationnement",
                       "1 rue", "9 €", "Décision attendue"):
            assert secret not in text.replace(reference, ""), secret


def test_an_organisation_account_cannot_start_a_citizen_procedure(client, auth, create_user, app):
    sign_in(client, auth, create_user, role="organisation", organisation="OPCO")
    assert "réservée aux particuliers" in page(client.get("/demarches/cmi"))
    response = client.post("/demarches/cmi/commencer", data={"csrf_token": csrf_token(client, "/demarches/cmi")})
    assert response.status_code == 303 and location(response).endswith("/demarches/cmi")
    with app.app_context():
        assert database.session.query(Dossier).count() == 0


def test_eligibility_ignores_an_answer_hidden_by_a_later_one(client):
    """Without JavaScript the GIR stays on the page after « Non » to the APA: it is not used."""
    token = csrf_token(client, "/demarches/cmi_eligibilite")
    response = client.post("/demarches/cmi_eligibilite", data={
        "csrf_token": token, "reside": "oui", "nationalite": "francaise", "apa": "non", "gir": "2",
        "reconnaissance": "moins_80", "station_debout": "oui", "deplacement": "non"})
    text = page(response)
    assert response.status_code == 200
    assert "de plein droit" not in text and "Vous pouvez demander la mention priorité" in text
