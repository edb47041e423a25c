"""Each YAML procedure walked twice, JavaScript on then off, with the same answers: the request
deposited without JavaScript holds every answer the JavaScript walk stored. Without JavaScript a
question revealed by an answer appears when the step is saved: the same step comes back with
« De nouvelles questions sont apparues » (focused), never with an error for a question not yet seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from portal.db import utcnow
from tests.browser.conftest import Ui, _ui
from tests.browser.demarches_ui import (
    CONTINUE,
    PDF_FILE,
    PNG_FILE,
    draft_id,
    heading,
    press_start,
    sign_in,
    start,
    stored_answers,
    submit_request,
)
from tests.browser.test_demarches_procedures import _decided_cmi
from tests.wallet_samples import run_file_checks

pytestmark = pytest.mark.browser

NOTICE = "De nouvelles questions sont apparues"
LATER = (utcnow() + timedelta(days=400)).date()


@pytest.fixture
def ui_nojs(browser, live_server, mailbox) -> Iterator[Ui]:
    yield from _ui(browser, live_server, mailbox, False)


def ask(ui: Ui, key: str, value) -> None:
    """Answer ``#f-<key>``; when it is not on the page yet, JavaScript shows it at once, and
    without JavaScript saving the step asks it on the same step, announced, without errors."""
    locator = ui.page.locator(f"#f-{key}")
    if not locator.count():
        if ui.javascript:
            locator.wait_for(state="attached")
        else:
            path = urlsplit(ui.page.url).path
            ui.submit(CONTINUE)
            assert urlsplit(ui.page.url).path == path, f"#f-{key} : l'étape a été quittée ({ui.page.url})"
            assert NOTICE in ui.text() and not ui.page.title().startswith("Erreur"), ui.text()[:1500]
            assert ui.page.evaluate("document.activeElement.id") == "questions-apparues"
            assert locator.count(), f"#f-{key} absent après l'enregistrement"
    if value is True:
        locator.check()
    elif isinstance(value, dict):
        locator.set_input_files(value)
    elif locator.evaluate("e => e.tagName") == "SELECT":
        locator.select_option(value)
    else:
        locator.fill(value)


def walk(ui: Ui, steps: list[tuple[str, list[tuple[str, object]]]]) -> None:
    for title, answers in steps:
        assert heading(ui) == title, (heading(ui), title, ui.text()[:1500])
        for key, value in answers:
            if key == "+":
                ui.submit(value)  # « Ajouter une personne »: a plain post, then the same step
            else:
                ask(ui, key, value)
        ui.submit(CONTINUE)
        if any(isinstance(value, dict) for _key, value in answers):
            run_file_checks(ui.live.app)  # the worker's pass over the files just sent
    assert heading(ui) == "Vérifiez vos réponses", ui.text()[:2000]


def deposited(ui: Ui, draft: str) -> dict:
    submit_request(ui)
    answers = stored_answers(ui, draft_id(draft))
    answers.pop("email", None)  # each walk has its own account
    return {k: (v["name"] if isinstance(v, dict) and "file_id" in v else v) for k, v in answers.items()}


def both_ways(ui_js: Ui, ui_nojs: Ui, procedure_id: str, steps, before=None) -> None:
    results = []
    for ui, email in ((ui_js, "avec-js@example.org"), (ui_nojs, "sans-js@example.org")):
        user_id = sign_in(ui, email)
        if before:
            before(ui, user_id)
        draft = start(ui, procedure_id)
        walk(ui, steps)
        results.append(deposited(ui, draft))
    with_js, without_js = results
    assert with_js == without_js


CMI_STEPS = [
    ("Votre demande", [("mentions", True), ("mentions-2", True), ("type_demande-1", True),
                       ("numero_carte", "CMI123456"), ("fin_validite", "31/01/2027"), ("sous_mentions", True)]),
    ("Votre identité", []),
    ("Votre résidence et votre nationalité",
     [("nationalite-2", True), ("titre_sejour_numero", "1234567890"),
      ("titre_sejour_expiration", LATER.strftime("%d/%m/%Y"))]),
    ("Votre situation (APA ou MDPH)", [("filiere", True), ("gir", "3"), ("numero_apa", "APA-42")]),
    ("Votre handicap", [("+", "Ajouter une personne"), ("aidants-0-nom", "Dominique Martin"),
                        ("deplacement", True), ("reconnaissance", True), ("taux", "85")]),
    ("Vos justificatifs", [("certificat_medical_apa", PDF_FILE), ("justificatif_domicile", PDF_FILE),
                           ("titre_sejour_copie", PNG_FILE)]),
    ("Attestation", [("attestation", True)]),
]


def test_cmi_without_javascript_stores_what_the_javascript_walk_stores(ui_js: Ui, ui_nojs: Ui):
    both_ways(ui_js, ui_nojs, "cmi", CMI_STEPS)


def test_duplicata_without_javascript_stores_what_the_javascript_walk_stores(ui_js: Ui, ui_nojs: Ui):
    both_ways(ui_js, ui_nojs, "cmi_duplicata", [
        ("Le motif de votre demande", [("motif-1", True), ("mention", True), ("numero_carte", "CMI-99"),
                                       ("declaration_vol", PDF_FILE)]),
        ("Le titulaire de la carte", []),
        ("Le coût de la carte", [("accord_tarif", True)]),
    ])


def test_rapo_without_javascript_stores_what_the_javascript_walk_stores(ui_js: Ui, ui_nojs: Ui):
    def decided(ui: Ui, user_id: int) -> None:
        _decided_cmi(ui, user_id, f"CMI-2026-00000{user_id}", "mdph", 20)

    results = []
    for ui, email in ((ui_js, "avec-js@example.org"), (ui_nojs, "sans-js@example.org")):
        user_id = sign_in(ui, email)
        decided(ui, user_id)
        ui.visit("/demarches/cmi_rapo")
        press_start(ui)
        draft = ui.page.url.split("/etapes/")[0]
        ui.page.locator('input[name="demande_liee"]').check()
        ui.submit(CONTINUE)
        walk(ui, [("Vos motifs", [("mentions_contestees", True),
                                  ("explication", "Ma mobilité est très réduite depuis 2025."),
                                  ("courrier_decision", PDF_FILE)])])
        answers = deposited(ui, draft)
        assert answers.pop("demande_liee") == f"CMI-2026-00000{user_id}"
        results.append(answers)
    assert results[0] == results[1]


def test_eligibility_without_javascript_gives_the_javascript_result(ui_js: Ui, ui_nojs: Ui):
    results = []
    for ui in (ui_js, ui_nojs):
        ui.visit("/demarches/cmi_eligibilite")
        for key in ["reside", "nationalite", "apa", "reconnaissance-2", "station_debout-1", "deplacement"]:
            ui.page.locator(f"#f-{key}").check()
        locator = ui.page.locator("#f-gir-1")
        if not ui.javascript:
            ui.submit("Voir le résultat")
            assert NOTICE in ui.text() and not ui.page.title().startswith("Erreur")
            assert "Résultat" not in ui.text()
        locator.check()  # GIR 2
        ui.submit("Voir le résultat")
        results.append(ui.page.locator("#resultat-panel").inner_text())
    assert results[0] == results[1] and "de plein droit" in results[0]
