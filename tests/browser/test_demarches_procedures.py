"""Each shipped procedure filled in fully in Chromium, every page checked with axe.

JavaScript on AND off (the ``ui`` fixture): the CMI MDPH branch (first request, stationnement +
invalidité with a sub-mention and an accompanying person, another nationality with its residence
permit, the priorité/invalidité exclusion refused first), the CMI renewal with APA GIR 1 (granted
by right, the « Votre handicap » step skipped), the Duplicata (fee shown before submission),
the RAPO (linked to a decided request; the two-month warning) and « Suis-je éligible à la CMI ? »
without an account. JavaScript on only (``ui_js``), to keep the run short: the CMI with APA GIR 3
(priorité, station debout) and the CMI with an APA application (invalidité 3e catégorie, the
« cécité » sub-mention, an EEE national). Every branch of the CMI rules is thus run at least once.
Without JavaScript a conditional field appears when its step is saved: those runs also go
through the steps' error states.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import db as database
from portal.db import utcnow
from tests.browser.conftest import Ui
from tests.browser.demarches_ui import (
    CONTINUE,
    PDF_FILE,
    PNG_FILE,
    answer,
    back,
    draft_id,
    fill_step,
    heading,
    press_start,
    sign_in,
    start,
    stored_answers,
    submit_request,
)

pytestmark = pytest.mark.browser

IDENTITY = [("nom", "Martin"), ("prenom", "Camille"), ("date_naissance", "1950-03-27"),
            ("lieu_naissance", "Arras"), ("telephone", "06 12 34 56 78")]
ADDRESS = [("adresse-adresse", "1 rue de la Paix"), ("adresse-code_postal", "62000"),
           ("adresse-commune", "Arras")]


def _track(ui: Ui, reference: str, status: str = "Déposée") -> str:
    """Confirmation → the tracking page → Mes démarches; the tracking page's text."""
    assert reference in ui.text()
    ui.follow("Suivre ma demande")
    tracking = ui.text()
    assert reference in tracking and status in tracking
    ui.visit("/mes-demarches")
    assert reference in ui.text()
    return tracking


def test_cmi_mdph_branch_with_residence_permit(ui: Ui):
    sign_in(ui)
    draft = start(ui, "cmi")
    assert "Étape 1 sur 7" in ui.text()
    # priorité with invalidité is « inutile » (seed 002): explained before going on, never an error
    for key, value in [("type_demande", True), ("mentions", True), ("mentions-1", True), ("mentions-2", True)]:
        answer(ui, key, value)
    if ui.javascript:  # the notice comes with the answer
        ui.page.locator(".notice--warning").first.wait_for()
    else:  # shown again with the notice not read yet
        ui.submit(CONTINUE)
        assert heading(ui) == "Votre demande"
    assert not ui.page.title().startswith("Erreur : ")
    assert "Il est inutile de demander la mention priorité avec la mention invalidité" in ui.text()
    assert ui.page.locator("#f-mentions-2").is_checked()
    fill_step(ui, "Votre demande", [("mentions-1", False), ("sous_mentions", True)], "Votre identité")
    fill_step(ui, "Votre identité", IDENTITY, "Votre résidence et votre nationalité")
    fill_step(ui, "Votre résidence et votre nationalité",
              [*ADDRESS, ("nationalite-2", True), ("titre_sejour_numero", "1234567890"),
               ("titre_sejour_expiration", (utcnow() + timedelta(days=400)).date().isoformat())],
              "Votre situation (APA ou MDPH)")
    answer(ui, "filiere-2", True)
    if ui.javascript:  # the MDPH notice comes with the answer
        ui.page.get_by_text("Cerfa n°15692*02").wait_for()
    ui.submit(CONTINUE)
    assert heading(ui) == "Votre handicap"
    ui.submit("Ajouter une personne")  # a group works with plain posts
    fill_step(ui, "Votre handicap", [("reconnaissance", True), ("taux", "85"), ("deplacement", True),
                                     ("aidants-0-nom", "Dominique Martin"), ("aidants-0-lien", "Fils")],
              "Vos justificatifs")
    fill_step(ui, "Vos justificatifs", [("certificat_medical", PDF_FILE), ("justificatif_domicile", PDF_FILE),
                                        ("titre_sejour_copie", PNG_FILE)], "Attestation")
    ui.submit(CONTINUE)  # the attestation is required
    assert "Cochez la case pour attester l'exactitude de vos réponses." in ui.text()
    fill_step(ui, "Attestation", [("attestation", True)], None)
    summary = ui.text()
    assert "Stationnement, Invalidité" in summary and "Dominique Martin" in summary
    assert "1234567890" in summary and "Cerfa" not in summary
    reference = submit_request(ui)
    assert reference.startswith("CMI-")
    assert "Décision attendue au plus tard le" in ui.text()
    tracking = _track(ui, reference)
    assert "Invalidité" in tracking and "Documents joints" in tracking
    stored = stored_answers(ui, draft_id(draft))
    assert stored["titre_sejour_numero"] == "1234567890" and stored["sous_mentions"] == ["besoin_accompagnement"]


def test_cmi_renewal_apa_gir_1_granted_by_right(ui: Ui):
    sign_in(ui)
    draft = start(ui, "cmi")
    fill_step(ui, "Votre demande", [("type_demande-1", True), ("numero_carte", "CMI123456"),
                                    ("fin_validite", "2027-01-31"), ("mentions", True), ("mentions-2", True)],
              "Votre identité")
    fill_step(ui, "Votre identité", [], "Votre résidence et votre nationalité")  # prefilled
    fill_step(ui, "Votre résidence et votre nationalité", [("nationalite", True)],
              "Votre situation (APA ou MDPH)")
    answer(ui, "filiere", True)
    answer(ui, "gir", "1")
    if ui.javascript:
        ui.page.get_by_text("de plein droit, à titre permanent").wait_for()
    fill_step(ui, "Votre situation (APA ou MDPH)", [("numero_apa", "APA-42")], "Vos justificatifs")
    ui.visit(draft + "/etapes/situation")
    assert "de plein droit, à titre permanent" in ui.text() and "Étape 4 sur 6" in ui.text()
    ui.submit(CONTINUE)
    fill_step(ui, "Vos justificatifs", [("certificat_medical_apa", PDF_FILE), ("justificatif_domicile", PDF_FILE), ("piece_identite", PNG_FILE)],
              "Attestation")
    fill_step(ui, "Attestation", [("attestation", True)], None)
    summary = ui.text()
    assert "Votre handicap" not in summary and "CMI123456" in summary and "GIR 1" in summary
    reference = submit_request(ui)
    _track(ui, reference)
    assert stored_answers(ui, draft_id(draft))["type_demande"] == "renouvellement"


def test_cmi_apa_gir_3_with_priorite(ui_js: Ui):
    ui = ui_js
    sign_in(ui)
    start(ui, "cmi")
    fill_step(ui, "Votre demande", [("type_demande", True), ("mentions-1", True)], "Votre identité")
    fill_step(ui, "Votre identité", [], "Votre résidence et votre nationalité")
    fill_step(ui, "Votre résidence et votre nationalité", [("nationalite", True)],
              "Votre situation (APA ou MDPH)")
    answer(ui, "filiere", True)
    answer(ui, "gir", "3")
    ui.page.get_by_text("En GIR 3 ou 4").wait_for()
    fill_step(ui, "Votre situation (APA ou MDPH)", [], "Votre handicap")
    # priorité with a rate of 80 % or more is refused
    fill_step(ui, "Votre handicap", [("reconnaissance", True), ("taux", "85"), ("station_debout", True)],
              "Votre handicap")
    assert "La mention priorité est destinée aux personnes dont l'incapacité est inférieure à 80 %" in ui.text()
    fill_step(ui, "Votre handicap", [("taux", "50")], "Vos justificatifs")
    fill_step(ui, "Vos justificatifs", [("certificat_medical_apa", PDF_FILE), ("justificatif_domicile", PDF_FILE), ("piece_identite", PNG_FILE)],
              "Attestation")
    fill_step(ui, "Attestation", [("attestation", True)], None)
    assert "Priorité" in ui.text() and "GIR 3" in ui.text()
    _track(ui, submit_request(ui))


def test_cmi_apa_application_invalidite_3rd_category(ui_js: Ui):
    ui = ui_js
    sign_in(ui)
    start(ui, "cmi")
    fill_step(ui, "Votre demande", [("type_demande", True), ("mentions-2", True), ("sous_mentions-1", True)],
              "Votre identité")
    fill_step(ui, "Votre identité", [], "Votre résidence et votre nationalité")
    fill_step(ui, "Votre résidence et votre nationalité", [("nationalite-1", True)],
              "Votre situation (APA ou MDPH)")
    answer(ui, "filiere-1", True)
    ui.page.get_by_text("jointe à votre dossier de demande d'APA").wait_for()
    fill_step(ui, "Votre situation (APA ou MDPH)", [], "Votre handicap")
    assert ui.page.locator("#f-aidants").count() == 0  # only with « besoin d'accompagnement »
    fill_step(ui, "Votre handicap", [("reconnaissance-1", True)], "Vos justificatifs")
    fill_step(ui, "Vos justificatifs", [("certificat_medical_apa", PDF_FILE), ("justificatif_domicile", PDF_FILE), ("piece_identite", PNG_FILE)],
              "Attestation")
    fill_step(ui, "Attestation", [("attestation", True)], None)
    assert "Besoin d'accompagnement cécité" in ui.text()
    _track(ui, submit_request(ui))


def test_duplicata_shows_the_fee_before_submission(ui: Ui):
    sign_in(ui)
    start(ui, "cmi_duplicata")
    answer(ui, "motif-1", True)  # vol
    reveal_declaration = ui.page.locator("#f-declaration_vol")
    fill_step(ui, "Le motif de votre demande", [("mention", True), ("numero_carte", "CMI-99")],
              "Le titulaire de la carte")
    ui.visit(ui.page.url.replace("/titulaire", "/motif"))
    assert "la carte initiale est invalidée" in ui.text() and reveal_declaration.count() == 1
    fill_step(ui, "Le motif de votre demande", [("declaration_vol", PDF_FILE)], "Le titulaire de la carte")
    fill_step(ui, "Le titulaire de la carte", [("nom", "Martin"), *ADDRESS], "Le coût de la carte")
    assert "Le duplicata est facturé et reste à votre charge." in ui.text()  # seed 001, no price
    ui.submit(CONTINUE)
    assert "Cochez la case pour indiquer que vous acceptez le coût de la carte." in ui.text()
    fill_step(ui, "Le coût de la carte", [("accord_tarif", True)], None)
    assert "facturé et reste à votre charge" in ui.text()
    reference = submit_request(ui)
    assert reference.startswith("CMID-")
    _track(ui, reference)


def _decided_cmi(ui: Ui, user_id: int, reference: str, filiere: str, days_ago: int) -> None:
    from portal.demarches.models import Dossier

    decided = utcnow() - timedelta(days=days_ago)
    with ui.live.app.app_context():
        database.session.add(Dossier(user_id=user_id, procedure_id="cmi", answers={"filiere": filiere},
                                     field_versions={}, reference=reference, submitted_at=decided - timedelta(days=60),
                                     status="refusee", status_changed_at=decided, decided_at=decided))
        database.session.commit()


def test_rapo_linked_to_a_decided_request_with_the_two_month_warning(ui: Ui):
    user_id = sign_in(ui)
    _decided_cmi(ui, user_id, "CMI-2026-000007", "mdph", 20)
    _decided_cmi(ui, user_id, "CMI-2026-000008", "apa_beneficiaire", 90)
    ui.visit("/demandes/CMI-2026-000008")
    assert "Refusée" in ui.text()
    ui.follow("Former un recours (RAPO)")
    press_start(ui)
    assert heading(ui) == "La décision contestée"
    ui.submit(CONTINUE)  # nothing chosen
    assert ui.page.title().startswith("Erreur : ")
    recent = ui.page.locator('input[name="demande_liee"][value="CMI-2026-000007"]')
    recent.check()
    if ui.javascript:
        ui.page.get_by_text("adressé à la Commission des droits et de l'autonomie").wait_for()
    ui.submit(CONTINUE)
    assert heading(ui) == "Vos motifs"
    back(ui)
    assert "délai de deux mois pour former un recours est dépassé" not in ui.text()
    ui.page.locator('input[name="demande_liee"][value="CMI-2026-000008"]').check()
    if ui.javascript:
        ui.page.get_by_text("Le délai de deux mois pour former un recours est dépassé").wait_for()
        assert "adressé au Président du Conseil départemental" in ui.text()
    ui.submit(CONTINUE)
    back(ui)
    assert "Le délai de deux mois pour former un recours est dépassé" in ui.text()
    assert "adressé au Président du Conseil départemental" in ui.text()
    ui.submit(CONTINUE)
    fill_step(ui, "Vos motifs", [("mentions_contestees", True), ("explication", "Court")], "Vos motifs")
    assert ui.page.title().startswith("Erreur : ")
    fill_step(ui, "Vos motifs", [("explication", "Ma mobilité est très réduite depuis 2025."),
                                 ("courrier_decision", PDF_FILE)], None)
    assert "CMI-2026-000008" in ui.text()
    reference = submit_request(ui)
    assert reference.startswith("RAPO-")
    _track(ui, reference, status="Déposé")


def test_eligibility_questionnaire_without_an_account(ui: Ui):
    ui.visit("/demarches/cmi_eligibilite")
    assert heading(ui) == "Suis-je éligible à la CMI ?"
    ui.submit("Voir le résultat")  # the error state
    assert ui.page.title().startswith("Erreur : ")
    for key in ["reside", "nationalite", "reconnaissance-2", "station_debout-1", "deplacement"]:
        ui.page.locator(f"#f-{key}").check()
    gir = ui.page.locator("#f-gir")
    assert gir.count() == 0
    ui.page.locator("#f-apa").check()
    if ui.javascript:
        gir.wait_for(state="attached")
    else:
        ui.submit("Voir le résultat")  # the GIR is asked, not reported missing
        assert "De nouvelles questions sont apparues" in ui.text()
        assert not ui.page.title().startswith("Erreur : ")
        assert ui.page.evaluate("document.activeElement.id") == "questions-apparues"
    ui.page.locator("#f-gir-1").check()  # GIR 2
    ui.submit("Voir le résultat")
    result = ui.page.locator("#resultat-panel").inner_text()
    assert "stationnement et invalidité vous sont attribuées de plein droit" in result
    assert "certificat médical APA/CMI" in result
    ui.page.locator("#f-apa-2").check()  # no APA any more: the GIR is no longer asked
    if ui.javascript:
        ui.page.locator("#f-gir").wait_for(state="detached")
    ui.page.locator("#f-reconnaissance-1").check()
    ui.page.locator("#f-station_debout").check()
    ui.submit("Voir le résultat")
    result = ui.page.locator("#resultat-panel").inner_text()
    assert "Vous pouvez demander la mention priorité" in result and "Cerfa n°15692*02" in result
    ui.follow("Faire une demande de CMI")
    assert heading(ui) == "Demande de Carte Mobilité Inclusion (CMI)"
