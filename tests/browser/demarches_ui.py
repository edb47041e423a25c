"""Helpers for the démarches browser tests: an account with a profile, start a procedure,
answer fields by id with JavaScript on or off, read a draft back from the database."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from portal import db as database
from tests.browser.conftest import PASSWORD, Ui
from tests.demarches_support import PDF, PNG, PROFILE
from tests.wallet_samples import run_file_checks

EMAIL = "camille@example.org"
PDF_FILE = {"name": "certificat.pdf", "mimeType": "application/pdf", "buffer": PDF}
PNG_FILE = {"name": "photo.png", "mimeType": "image/png", "buffer": PNG}
CONTINUE = "Enregistrer et continuer"


def create_account(ui: Ui, email: str = EMAIL) -> int:
    """An active account with the profile the procedures prefill from; returns its id."""
    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password
    from portal.accounts.services import new_identifier

    with ui.live.app.app_context():
        user = User(identifier=new_identifier(), email=email, password_hash=hash_password(PASSWORD),
                    status="active", role="citizen", **PROFILE)
        database.session.add(user)
        database.session.commit()
        return user.id


def sign_in(ui: Ui, email: str = EMAIL) -> int:
    user_id = create_account(ui, email)
    ui.login(email)
    return user_id


def start(ui: Ui, procedure_id: str) -> str:
    """From the information page, « Commencer »; the draft's address (…/brouillons/<id>).

    When the procedure asks « Pour qui faites-vous cette démarche ? », answer « Pour moi »."""
    ui.visit(f"/demarches/{procedure_id}")
    press_start(ui)
    assert "/brouillons/" in ui.page.url, ui.page.url
    return ui.page.url.split("/etapes/")[0]


def press_start(ui: Ui) -> None:
    """« Commencer » (its arrow is decorative: not part of the button's name); then « Pour moi »
    when the procedure asks « Pour qui faites-vous cette démarche ? »."""
    ui.submit("Commencer")
    if heading(ui) == "Vous avez déjà commencé cette démarche":
        ui.submit("Commencer une nouvelle demande")
    for_me = ui.page.get_by_role("radio", name="Pour moi", exact=True)
    if for_me.count():
        for_me.check()
        ui.submit("Continuer")


def back(ui: Ui, name: str = "Retour à l'étape précédente") -> None:
    """The back link above the heading (its arrow is decorative: not part of the link's name)."""
    ui.follow(name)


def draft_id(draft_url: str) -> int:
    return int(draft_url.rstrip("/").rsplit("/", 1)[1])


def heading(ui: Ui) -> str:
    return ui.page.locator("h1").inner_text().strip()


def reveal(ui: Ui, key: str):
    """The input ``#f-<key>``, shown by an earlier answer: htmx adds it as soon as the answer
    changes; without JavaScript it appears once the step is saved (the step then reloads with
    its errors, or moves on and the test comes back to it)."""
    locator = ui.page.locator(f"#f-{key}")
    if locator.count():
        return locator
    if ui.javascript:
        locator.wait_for(state="attached")
        return locator
    step_path = urlsplit(ui.page.url).path
    ui.submit(CONTINUE)
    if urlsplit(ui.page.url).path != step_path:
        ui.visit(step_path)
    assert locator.count(), f"#f-{key} absent de {ui.page.url}"
    return locator


def answer(ui: Ui, key: str, value) -> None:
    """True/False checks or unchecks a radio or box, a dict is a file, a string is typed or chosen."""
    locator = reveal(ui, key)
    if value is True:
        locator.check()
    elif value is False:
        locator.uncheck()
    elif isinstance(value, dict):
        locator.set_input_files(value)
    elif locator.evaluate("e => e.tagName") == "SELECT":
        locator.select_option(value)
    else:
        locator.fill(value)


def fill_step(ui: Ui, title: str, answers: list[tuple[str, object]], next_title: str | None) -> None:
    """Answer a step, save it with « Enregistrer et continuer » and land on ``next_title``
    (None: the summary)."""
    assert heading(ui) == title, (heading(ui), title)
    for key, value in answers:
        answer(ui, key, value)
    ui.submit(CONTINUE)
    if any(isinstance(value, dict) for _key, value in answers):
        run_file_checks(ui.live.app)  # the worker's pass over the files just sent
    if not ui.javascript and heading(ui) == title and "De nouvelles questions sont apparues" in ui.text():
        ui.submit(CONTINUE)  # optional questions the answers revealed: seen, left empty
    assert heading(ui) == (next_title or "Vérifiez vos réponses"), ui.text()[:2000]


def submit_request(ui: Ui) -> str:
    """From the summary, « Déposer ma demande »: the reference shown on the confirmation."""
    assert heading(ui) == "Vérifiez vos réponses"
    assert ui.page.title().startswith("Vérifiez vos réponses — ") and "<" not in ui.page.title()
    ui.submit("Déposer ma demande")
    assert "/confirmation" in ui.page.url, ui.text()[:2000]
    return ui.page.url.split("/demandes/")[1].split("/")[0]


def stored_answers(ui: Ui, dossier_id: int) -> dict:
    from portal.demarches.models import Dossier

    with ui.live.app.app_context():
        database.session.expire_all()
        dossier = database.session.scalar(select(Dossier).where(Dossier.id == dossier_id))
        answers = dict(dossier.answers)
        database.session.remove()
        return answers
