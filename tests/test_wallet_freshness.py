"""Choosing wallet documents for a procedure: freshness rules, and copies into requests."""

from __future__ import annotations

import io
from datetime import date

import pytest
from werkzeug.datastructures import FileStorage

from portal import db as database
from portal.accounts.models import User
from portal.files import services as files
from portal.files.checks import check_pending
from portal.wallet import services as wallet
from tests.wallet_samples import pdf_bytes, png_bytes

TODAY = date(2026, 11, 23)


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def put(user, kind, title, issued_on=None, valid_until=None, relation_id=None, data=None):
    data = data or (png_bytes() if kind == "photo_identite" else pdf_bytes(title))
    upload = FileStorage(io.BytesIO(data), filename=f"{title}.bin")
    document = wallet.add_document(user, upload, kind, title, relation_id=relation_id,
                                   issued_on=issued_on, valid_until=valid_until)
    check_pending()  # the worker's pass (it commits): the document is usable once checked
    return document


def titles(choices):
    return [c.document.title for c in choices]


def test_freshness_rules_are_data_from_the_seed():
    rules = {kind: (rule.max_age_months, rule.label) for kind, rule in wallet.FRESHNESS_RULES.items()}
    assert rules == {
        "justificatif_domicile": (12, "justificatif de domicile de moins d'un an"),
        "photo_identite": (6, "photo de moins de six mois"),
        "acte_naissance": (3, "acte de naissance de moins de trois mois"),
    }


@pytest.mark.parametrize("day, months, expected", [
    (date(2026, 11, 23), 3, date(2026, 8, 23)),
    (date(2026, 5, 31), 3, date(2026, 2, 28)),
    (date(2026, 1, 15), 12, date(2025, 1, 15)),
    (date(2024, 8, 31), 6, date(2024, 2, 29)),
])
def test_months_before(day, months, expected):
    assert wallet.months_before(day, months) == expected


def test_qualifying_documents_first_and_others_flagged(app, create_user):
    user = create_user()
    with app.test_request_context():
        user = database.session.get(User, user.id)
        put(user, "justificatif_domicile", "Facture 2024", issued_on=date(2024, 10, 1))
        put(user, "justificatif_domicile", "Sans date")
        put(user, "justificatif_domicile", "Facture juin", issued_on=date(2026, 6, 2))
        put(user, "justificatif_domicile", "Limite", issued_on=date(2025, 11, 23))  # exactly one year
        put(user, "justificatif_domicile", "Facture octobre", issued_on=date(2026, 10, 5))
        put(user, "photo_identite", "Photo")
        put(user, "justificatif_domicile", "Facture gaz", issued_on=date(2026, 10, 1))
        database.session.commit()

        choices = wallet.documents_for(user, "justificatif_domicile", today=TODAY)
        assert titles(choices)[:3] == ["Facture octobre", "Facture gaz", "Facture juin"]
        assert [c.qualifies for c in choices] == [True, True, True, False, False, False]
        by_title = {c.document.title: c for c in choices}
        assert by_title["Facture octobre"].message == "" and not by_title["Facture octobre"].stale
        assert by_title["Limite"].stale and "justificatif de domicile de moins d'un an" in by_title["Limite"].message
        assert "Délivré le 01/10/2024 : trop ancien" in by_title["Facture 2024"].message
        assert by_title["Sans date"].stale and "date de délivrance n'est pas renseignée" in by_title["Sans date"].message

        # An explicit maximum age in days replaces the rule.
        choices = wallet.documents_for(user, "justificatif_domicile", max_age_days=60, today=TODAY)
        assert [c.document.title for c in choices if c.qualifies] == ["Facture octobre", "Facture gaz"]
        assert titles(choices)[2:] == ["Facture juin", "Limite", "Facture 2024", "Sans date"]
        assert choices[2].message \
            == "Délivré le 02/06/2026 : trop ancien, la démarche demande un document de moins de 2 mois."


def test_expired_documents_are_flagged(app, create_user):
    user = create_user()
    with app.test_request_context():
        user = database.session.get(User, user.id)
        put(user, "piece_identite", "CNI périmée", issued_on=date(2011, 3, 1), valid_until=date(2026, 2, 28))
        put(user, "piece_identite", "Passeport", issued_on=date(2022, 3, 1), valid_until=date(2032, 2, 28))
        put(user, "photo_identite", "Photo ancienne", issued_on=date(2026, 5, 23))  # exactly six months
        put(user, "photo_identite", "Photo récente", issued_on=date(2026, 9, 1))
        database.session.commit()
        ids = wallet.documents_for(user, "piece_identite", today=TODAY)
        assert titles(ids) == ["Passeport", "CNI périmée"]
        assert ids[1].expired and not ids[1].qualifies
        assert ids[1].message == "Ce document n'est plus valable depuis le 28/02/2026."
        photos = wallet.documents_for(user, "photo_identite", today=TODAY)
        assert titles(photos) == ["Photo récente", "Photo ancienne"] and photos[1].stale
        assert "photo de moins de six mois" in photos[1].message


def test_only_the_owner_and_the_beneficiary(app, create_user):
    camille = create_user()
    other = create_user(email="dominique@example.org")
    with app.test_request_context():
        camille = database.session.get(User, camille.id)
        other = database.session.get(User, other.id)
        from portal.relations import services as relations

        lea = relations.create_relation(camille, "enfant", {"civilite": "Madame", "nom": "Martin", "prenom": "Léa",
                                                            "date_naissance": date(2015, 5, 4)})
        # "Mes relations" is the wallet's provider of "whom it concerns".
        assert wallet.relation_choices(camille) == [(lea.id, "Léa Martin")]
        assert wallet.relation_choices(other) == []
        put(camille, "acte_naissance", "Acte de Léa", issued_on=date(2026, 10, 1), relation_id=lea.id)
        put(camille, "acte_naissance", "Mon acte", issued_on=date(2026, 10, 1))
        put(other, "acte_naissance", "Acte d'un autre", issued_on=date(2026, 10, 1))
        database.session.commit()
        assert titles(wallet.documents_for(camille, "acte_naissance", today=TODAY)) == ["Mon acte"]
        assert titles(wallet.documents_for(camille, "acte_naissance", beneficiary=lea.id, today=TODAY)) == ["Acte de Léa"]
        assert titles(wallet.documents_for(other, "acte_naissance", today=TODAY)) == ["Acte d'un autre"]
        with pytest.raises(ValueError):
            put(other, "acte_naissance", "Relation d'autrui", relation_id=lea.id)


def test_copy_to_request_survives_deletion_from_the_wallet(app, create_user, tmp_path):
    user = create_user()
    with app.test_request_context():
        user = database.session.get(User, user.id)
        document = put(user, "justificatif_domicile", "Quittance de loyer", data=pdf_bytes("Quittance"))
        database.session.commit()
        original = files.load_bytes(document.storage_key)

        copy = wallet.copy_to_request(document)
        database.session.commit()
        assert isinstance(copy, files.StoredFile)
        assert copy.key != document.storage_key and copy.original_name == "Quittance de loyer.pdf"
        assert (copy.content_type, copy.size) == ("application/pdf", document.size)

        wallet.delete_document(document)
        database.session.commit()
        assert not files.stored_exists(document.storage_key)
        assert files.load_bytes(copy.key) == original  # the request's copy is whole
        assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == [copy.key]


def test_copy_is_undone_when_the_request_is_not_saved(app, create_user, tmp_path):
    user = create_user()
    with app.test_request_context():
        user = database.session.get(User, user.id)
        document = put(user, "autre", "Attestation")
        database.session.commit()
        copy = wallet.copy_to_request(document)
        database.session.rollback()
        assert not files.stored_exists(copy.key) and files.stored_exists(document.storage_key)


def test_choice_list_for_procedures_flags_stale_documents(app, create_user):
    user = create_user()
    with app.test_request_context():
        user = database.session.get(User, user.id)
        put(user, "acte_naissance", "Acte ancien", issued_on=date(2026, 1, 10))
        put(user, "acte_naissance", "Acte récent", issued_on=date(2026, 11, 2))
        database.session.commit()
        choices = wallet.documents_for(user, "acte_naissance", today=TODAY)
        macro = app.jinja_env.get_template("wallet/_choose.html").module.wallet_choices
        recent_id = choices[0].document.id
        html = str(macro("piece_acte", choices, "Choisir dans mon porte-documents", selected=recent_id))
        nothing = str(macro("piece_acte", choices, "Choisir dans mon porte-documents"))
    assert html.index("Acte récent") < html.index("Acte ancien")
    assert f'value="{recent_id}" checked' in html
    assert 'id="piece_acte-aucun" name="piece_acte" value="">' in html  # "Aucun…" not checked then
    assert 'id="piece_acte-aucun" name="piece_acte" value="" checked>' in nothing
    assert nothing.count(" checked") == 1
    assert 'aria-describedby="piece_acte-1-warning"' in html and 'id="piece_acte-1-warning"' in html
    assert "acte de naissance de moins de trois mois" in html.replace("&#39;", "'")
    assert "piece_acte-0-warning" not in html


def test_a_procedure_upload_can_be_kept_in_the_wallet(app, create_user):
    user = create_user()
    with app.test_request_context():
        user = database.session.get(User, user.id)
        request_file = files.store_upload(FileStorage(io.BytesIO(pdf_bytes("Avis")), filename="avis.pdf"))
        document = wallet.keep_in_wallet(user, request_file, "avis_imposition", "Avis 2026",
                                         issued_on=date(2026, 8, 1))
        database.session.commit()
        assert document.check_status == "pending"  # a copy of an unchecked upload waits too
        assert wallet.documents_for(user, "avis_imposition") == []
        check_pending()
        assert document.storage_key != request_file.key and document.original_name == "avis.pdf"
        assert files.load_bytes(document.storage_key) == files.load_bytes(request_file.key)
        files.delete_stored(request_file.key)
        assert files.load_bytes(document.storage_key).startswith(b"%PDF-")
        assert [c.document.title for c in wallet.documents_for(user, "avis_imposition")] == ["Avis 2026"]
        app.config["WALLET_QUOTA_BYTES"] = document.size + 10
        with pytest.raises(files.UploadRejected, match="porte-documents est plein"):
            wallet.keep_in_wallet(user, files.StoredFile(document.storage_key, "x.pdf", "application/pdf",
                                                         document.size), "autre", "Encore")
