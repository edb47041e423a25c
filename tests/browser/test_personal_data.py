"""« Télécharger mes données » and a request made for an association, in the browser (axe on
every page reached, with JavaScript on and off)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from tests.browser.conftest import Ui
from tests.browser.demarches_ui import heading, sign_in

pytestmark = pytest.mark.browser


def test_download_my_data(ui: Ui):
    sign_in(ui)
    ui.visit("/compte")
    ui.follow("Télécharger mes données")
    assert "portabilité" in ui.text()
    ui.submit("Préparer le fichier de mes données")
    assert "une notification vous préviendra" in ui.text()
    assert "Votre fichier est en préparation" in ui.text()
    from portal.worker import run_once

    with ui.live.app.app_context():
        run_once()
    ui.visit("/notifications")
    assert "Vos données sont prêtes" in ui.text()
    ui.visit("/compte/mes-donnees")
    link = ui.page.get_by_role("link", name="Mes données du")
    with ui.page.expect_download() as download_info:
        link.click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    data = json.loads(archive.read("donnees.json"))
    assert data["compte"]["email"] == "camille@example.org"


def test_a_request_for_an_association(ui: Ui):
    sign_in(ui)
    ui.visit("/demarches/exemple_association")
    assert "Exemple" in heading(ui)
    ui.submit("Commencer")
    assert "Pour moi" not in ui.text()
    ui.follow("Ajouter un organisme à mes relations")
    assert ui.page.locator("h1").count() == 1
