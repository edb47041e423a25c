"""Démarches with relations and the wallet in Chromium, JavaScript on and off, axe on every page:
"Pour qui faites-vous cette démarche ?" with a relation added on the way, then a wallet
document chosen for a file field and flagged as too old on the step and the summary."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import db as database
from tests.browser.conftest import Ui, create_live_user
from tests.wallet_samples import pdf_bytes, run_file_checks

pytestmark = pytest.mark.browser


def _stale_proof_for(ui: Ui, email: str, prenom: str) -> None:
    """A proof of address, 500 days old, filed in the wallet under the relation ``prenom``."""
    from portal.accounts.models import User
    from portal.relations.models import Relation
    from portal.wallet import services as wallet

    with ui.live.app.test_request_context():
        user = database.session.scalar(select(User).where(User.email == email))
        relation = database.session.scalar(select(Relation).where(Relation.prenom == prenom))
        upload = FileStorage(io.BytesIO(pdf_bytes("Facture")), filename="facture.pdf")
        wallet.add_document(user, upload, "justificatif_domicile", "Facture d'électricité",
                            relation_id=relation.id, issued_on=date.today() - timedelta(days=500))
        database.session.commit()
    run_file_checks(ui.live.app)  # the worker's pass: offered in procedures once checked


def test_for_a_relation_added_on_the_way_with_a_wallet_document(ui: Ui):
    create_live_user(ui.live, nom="Martin", prenom="Camille")
    ui.login("camille@example.org")
    ui.visit("/demarches/cmi")
    with ui.page.expect_navigation():  # its name gains the arrow of .button--start
        ui.page.get_by_role("button", name="Commencer").click()
    ui.check()
    assert ui.page.locator("h1").inner_text().startswith("Pour qui faites-vous cette démarche ?")
    assert ui.page.get_by_label("Pour moi", exact=True).is_visible()
    ui.follow("Ajouter une personne à mes relations")
    ui.page.get_by_label("Enfant", exact=True).check()
    ui.page.get_by_label("Madame", exact=True).check()
    ui.fill("nom", "Martin")
    ui.fill("prenom", "Léa")
    ui.fill("date_naissance", "04/05/2015")
    ui.submit("Enregistrer")
    assert "/demarches/cmi/pour-qui?relation=" in ui.page.url
    assert ui.page.get_by_label("Léa Martin (Enfant)").is_checked()
    ui.submit("Continuer")
    draft = re.search(r"/brouillons/(\d+)/", ui.page.url).group(1)

    _stale_proof_for(ui, "camille@example.org", "Léa")
    ui.visit(f"/brouillons/{draft}/etapes/documents")
    assert "Téléverser depuis mon ordinateur" in ui.text()
    ui.page.locator("#justificatif_domicile-porte-documents-group").get_by_label(re.compile("Facture d'électricité")).check()
    ui.submit("Enregistrer et continuer")  # a stale document is flagged, not refused
    ui.visit(f"/brouillons/{draft}/etapes/documents")
    assert "Attention : Délivré le" in ui.text()
    ui.visit(f"/brouillons/{draft}/recapitulatif")
    assert "Documents à vérifier" in ui.text() and "Léa Martin (Enfant)" in ui.text()
