"""Démarches wired to the other capabilities: "Pour qui faites-vous cette démarche ?",
the wallet in file fields, notifications for status changes, the wallet's relations."""

from __future__ import annotations

import io
from datetime import UTC, date, timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import db as database
from portal.accounts.models import User
from portal.demarches.models import Dossier
from portal.notifications.models import Notification
from portal.relations.models import Relation
from portal.wallet.models import WalletDocument
from tests.conftest import body, csrf_token, deliver, emails_to, page, post_form
from tests.demarches_support import PDF, location, post_step, sign_in, start
from tests.test_demarches_other import fill_duplicata, submit
from tests.wallet_samples import pdf_bytes, run_file_checks

LEA = {"civilite": "Madame", "nom": "Martin", "prenom": "Léa", "date_naissance": date(2015, 5, 4),
       "adresse": "3 rue des Écoles", "code_postal": "62100", "commune": "Calais"}
SIRET = "73282932000074"


def add_relation(app, email: str, kind: str, values: dict) -> int:
    from portal.relations import services as relations

    with app.app_context():
        user = database.session.scalar(select(User).where(User.email == email))
        relation = relations.create_relation(user, kind, values)
        database.session.commit()
        return relation.id


def add_wallet(app, email: str, kind: str, title: str, relation_id=None, issued_on=None, data=None) -> int:
    from portal.wallet import services as wallet

    with app.test_request_context():
        user = database.session.scalar(select(User).where(User.email == email))
        upload = FileStorage(io.BytesIO(data or pdf_bytes(title)), filename=f"{title}.pdf")
        document = wallet.add_document(user, upload, kind, title, relation_id=relation_id, issued_on=issued_on)
        database.session.commit()
        document_id = document.id
    run_file_checks(app)  # the worker's pass: usable in procedures once checked
    return document_id


def dossier_row(app, dossier_id: int) -> Dossier:
    with app.app_context():
        dossier = database.session.get(Dossier, dossier_id)
        database.session.expunge(dossier)
        return dossier


# --- Pour qui faites-vous cette démarche ? ------------------------------------------------------


def test_cmi_asks_for_whom_and_never_accepts_a_legal_person(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    lea = add_relation(app, "camille@example.org", "enfant", LEA)
    company = add_relation(app, "camille@example.org", "entreprise",
                           {"raison_sociale": "Transports Martin", "siret": SIRET, "adresse": "1 quai",
                            "code_postal": "62200", "commune": "Boulogne-sur-Mer"})
    response = client.post("/demarches/cmi/commencer", data={"csrf_token": csrf_token(client, "/demarches/cmi")})
    assert response.status_code == 303 and location(response).endswith("/demarches/cmi/pour-qui")
    text = page(client.get("/demarches/cmi/pour-qui"))
    assert "Pour qui faites-vous cette démarche ?" in text and "Pour moi" in text
    assert "Léa Martin (Enfant)" in text and "Transports Martin" not in text
    assert "Ajouter une personne à mes relations" in text and "Ajouter un organisme" not in text
    # Nothing chosen, or a legal person forced into the form: refused by the server.
    response = post_form(client, "/demarches/cmi/pour-qui", {})
    assert response.status_code == 422 and "Indiquez pour qui" in page(response)
    response = post_form(client, "/demarches/cmi/pour-qui", {"beneficiaire": str(company)})
    assert response.status_code == 422 and "ne peut pas être faite pour cette personne" in page(response)
    with app.app_context():
        assert database.session.scalar(select(Dossier)) is None
    # For the child: the identity comes from the relation, the contact from the account.
    draft = start(client, "cmi", lea)
    dossier = dossier_row(app, draft)
    assert dossier.beneficiary["relation_id"] == lea and dossier.beneficiary["display_name"] == "Léa Martin"
    identity = page(client.get(f"/brouillons/{draft}/etapes/identite"))
    assert 'value="Léa"' in identity and 'value="04/05/2015"' in identity
    assert 'value="Camille"' not in identity and 'value="Arras"' not in identity  # not the account's
    assert 'value="camille@example.org"' in identity
    assert 'value="62100"' in page(client.get(f"/brouillons/{draft}/etapes/residence"))
    mine = page(client.get("/mes-demarches"))
    assert "Léa Martin (Enfant)" in mine
    # "Pour moi" keeps the account's profile.
    mine_draft = start(client, "cmi", "moi")
    assert dossier_row(app, mine_draft).beneficiary is None
    assert 'value="Camille"' in page(client.get(f"/brouillons/{mine_draft}/etapes/identite"))


def test_another_accounts_relation_is_refused(client, auth, create_user, app):
    create_user(email="dominique@example.org")
    theirs = add_relation(app, "dominique@example.org", "enfant", LEA)
    sign_in(client, auth, create_user)
    response = post_form(client, "/demarches/cmi/pour-qui", {"beneficiaire": str(theirs)})
    assert response.status_code == 422
    with app.app_context():
        assert database.session.scalar(select(Dossier)) is None


def test_a_relation_can_be_added_without_leaving_the_flow(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    text = client.get("/demarches/cmi_duplicata/pour-qui").get_data(as_text=True)
    assert "/relations/ajouter/personne-physique?next=/demarches/cmi_duplicata/pour-qui" in text
    url = "/relations/ajouter/personne-physique?next=/demarches/cmi_duplicata/pour-qui"
    response = post_form(client, url, {"kind": "parent", "civilite": "Monsieur", "nom": "Martin", "prenom": "Paul",
                                       "date_naissance": "02/01/1930"})
    assert response.status_code == 303, page(response)
    with app.app_context():
        paul = database.session.scalar(select(Relation).where(Relation.prenom == "Paul")).id
    assert location(response).endswith(f"/demarches/cmi_duplicata/pour-qui?relation={paul}")
    back = client.get(location(response)).get_data(as_text=True)
    assert f'value="{paul}" checked' in back
    draft = start(client, "cmi_duplicata", paul)
    assert 'value="Paul"' in page(client.get(f"/brouillons/{draft}/etapes/titulaire"))


def test_the_request_keeps_its_beneficiary_when_the_relation_changes(client, auth, create_user, app):
    from portal.relations import services as relations

    sign_in(client, auth, create_user)
    lea = add_relation(app, "camille@example.org", "enfant", LEA)
    draft = start(client, "cmi_duplicata", lea)
    summary = page(client.get(f"/brouillons/{draft}/recapitulatif"))
    assert "Demande faite pour : <strong>Léa Martin (Enfant)</strong>" in summary
    assert post_step(client, draft, "motif", {"motif": "perte", "mention": "stationnement",
                                              "numero_carte": "CMI-99"}).status_code == 303
    assert post_step(client, draft, "titulaire", {"nom": "Martin", "prenom": "Léa", "date_naissance": "2015-05-04",
                                                  "adresse-adresse": "3 rue des Écoles",
                                                  "adresse-code_postal": "62100", "adresse-commune": "Calais",
                                                  "email": "camille@example.org"}).status_code == 303
    assert post_step(client, draft, "paiement", {"accord_tarif": "oui"}).status_code == 303
    reference = submit(client, draft)
    assert "Demande faite pour : <strong>Léa Martin (Enfant)</strong>" in \
        page(client.get(f"/demandes/{reference}/confirmation"))
    with app.app_context():
        relation = database.session.get(Relation, lea)
        relations.update_relation(relation, "enfant", {**LEA, "prenom": "Léonie"})
        database.session.commit()
        relations.delete_relation(database.session.get(Relation, lea))
        database.session.commit()
    for url in (f"/demandes/{reference}", "/mes-demarches"):
        text = page(client.get(url))
        assert "Léa Martin (Enfant)" in text and "Léonie" not in text
    receipt = client.get(f"/demandes/{reference}/recepisse.pdf").data
    assert "Demande faite pour : Léa Martin".encode("latin-1") in receipt  # "(" is escaped in PDF


# --- the wallet in file fields -------------------------------------------------------------


def test_file_fields_offer_the_beneficiarys_wallet_with_freshness(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    lea = add_relation(app, "camille@example.org", "enfant", LEA)
    today = date.today()
    old = add_wallet(app, "camille@example.org", "justificatif_domicile", "Facture 2024", lea,
                     issued_on=today - timedelta(days=500))
    recent = add_wallet(app, "camille@example.org", "justificatif_domicile", "Facture récente", lea,
                        issued_on=today - timedelta(days=30))
    add_wallet(app, "camille@example.org", "justificatif_domicile", "Ma facture à moi",
               issued_on=today - timedelta(days=10))
    draft = start(client, "cmi", lea)
    text = page(client.get(f"/brouillons/{draft}/etapes/documents"))
    assert "Téléverser depuis mon ordinateur" in text and "Choisir dans mon porte-documents" in text
    assert "Conserver aussi ce fichier dans mon porte-documents" in text
    assert "Ma facture à moi" not in text  # the beneficiary's documents only
    assert text.index("Facture récente") < text.index("Facture 2024")  # qualifying first
    assert "trop ancien" in text and "justificatif de domicile de moins d'un an" in text
    # A document of another account cannot be slipped in.
    create_user(email="dominique@example.org")
    theirs = add_wallet(app, "dominique@example.org", "justificatif_domicile", "Autre", issued_on=today)
    response = post_step(client, draft, "documents", {"justificatif_domicile-porte-documents": str(theirs)})
    assert "Choisissez un document de votre porte-documents" in page(response)
    # The stale one, chosen: copied, and flagged on the step and on the summary.
    response = post_step(client, draft, "documents", {"justificatif_domicile-porte-documents": str(old)})
    assert response.status_code == 303  # a stale document is flagged, not refused
    dossier = dossier_row(app, draft)
    answer = dossier.answers["justificatif_domicile"]
    assert answer["wallet_document"] == old
    assert answer["issued_on"] == (today - timedelta(days=500)).isoformat()
    step = page(client.get(f"/brouillons/{draft}/etapes/documents"))
    assert ">Facture 2024.pdf</a>" in step and "<strong>Attention :</strong> Délivré le" in step
    summary = page(client.get(f"/brouillons/{draft}/recapitulatif"))
    assert "Documents à vérifier" in summary and "trop ancien" in summary
    # Choosing the recent one instead clears the warning.
    post_step(client, draft, "documents", {"justificatif_domicile-porte-documents": str(recent)})
    assert "Documents à vérifier" not in page(client.get(f"/brouillons/{draft}/recapitulatif"))


def test_the_wallet_list_can_pick_nothing_and_an_upload_wins_over_it(client, auth, create_user, app):
    import re

    sign_in(client, auth, create_user)
    bill = add_wallet(app, "camille@example.org", "justificatif_domicile", "Facture du porte-documents",
                      issued_on=date.today() - timedelta(days=30))
    draft = start(client, "cmi")
    text = page(client.get(f"/brouillons/{draft}/etapes/documents"))
    group = text[text.index('id="justificatif_domicile-porte-documents-group"'):]
    group = group[:group.index("</fieldset>")]
    radios = re.findall(r'<input class="radio__input" type="radio"[^>]*>', group)
    assert 'value=""' in radios[0] and "checked" in radios[0]  # "nothing" first, and the default
    assert all("checked" not in r for r in radios[1:]) and f'value="{bill}"' in radios[1]
    assert group.index("Aucun document du porte-documents") < group.index("Facture du porte-documents")
    hint = "Si vous téléversez aussi un fichier depuis votre ordinateur, c'est ce fichier qui est joint à la demande"
    assert hint in group and 'aria-describedby="justificatif_domicile-porte-documents-hint"' in group
    assert 'id="justificatif_domicile-porte-documents-hint"' in group

    # "Aucun": nothing attached from the wallet.
    post_step(client, draft, "documents", {"justificatif_domicile-porte-documents": ""})
    assert "justificatif_domicile" not in dossier_row(app, draft).answers
    # Both a file from the computer and a wallet document: the upload is the one attached.
    post_step(client, draft, "documents", {"justificatif_domicile-porte-documents": str(bill)},
              files={"justificatif_domicile": PDF})
    answer = dossier_row(app, draft).answers["justificatif_domicile"]
    assert answer["name"] == "justificatif_domicile.pdf" and "wallet_document" not in answer
    with app.app_context():
        [attached] = database.session.get(Dossier, draft).files
        assert attached.original_name == "justificatif_domicile.pdf"
    # The file stays when the step is saved again with "Aucun".
    post_step(client, draft, "documents", {"justificatif_domicile-porte-documents": ""})
    assert dossier_row(app, draft).answers["justificatif_domicile"]["file_id"] == answer["file_id"]


def test_the_mdph_medical_certificate_may_be_up_to_a_year_old(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    today = date.today()
    for days in (200, 400):
        add_wallet(app, "camille@example.org", "certificat_medical", f"Certificat {days}",
                   issued_on=today - timedelta(days=days))
    draft = start(client, "cmi")
    post_step(client, draft, "situation", {"filiere": "mdph"})
    text = page(client.get(f"/brouillons/{draft}/etapes/documents"))
    assert "daté de moins d'un an" in text and "moins de 6 mois" not in text
    fr = lambda days: (today - timedelta(days=days)).strftime("%d/%m/%Y")  # noqa: E731
    assert f"Délivré le {fr(400)} : trop ancien, la démarche demande un document de moins d'un an." in text
    assert f"Délivré le {fr(200)} : trop ancien" not in text


def test_a_chosen_document_is_judged_again_when_the_draft_is_resumed(client, auth, create_user, app,
                                                                     monkeypatch):
    from datetime import datetime

    from portal.demarches import services

    sign_in(client, auth, create_user)
    today = date.today()
    bill = add_wallet(app, "camille@example.org", "justificatif_domicile", "Facture",
                      issued_on=today - timedelta(days=300))
    draft = start(client, "cmi")
    post_step(client, draft, "documents", {"justificatif_domicile-porte-documents": str(bill)})
    assert "Documents à vérifier" not in page(client.get(f"/brouillons/{draft}/recapitulatif"))
    # The draft is resumed three months later: the bill is now over a year old.
    later = datetime.now(UTC) + timedelta(days=90)
    monkeypatch.setattr(services, "utcnow", lambda: later)
    summary = page(client.get(f"/brouillons/{draft}/recapitulatif"))
    assert "Documents à vérifier" in summary and "trop ancien" in summary
    step = page(client.get(f"/brouillons/{draft}/etapes/documents"))
    assert "<strong>Attention :</strong> Délivré le" in step


def test_a_wallet_copy_survives_deletion_from_the_wallet(client, auth, create_user, app):
    from portal.wallet import services as wallet

    sign_in(client, auth, create_user)
    content = pdf_bytes("Déclaration de vol")
    declaration = add_wallet(app, "camille@example.org", "autre", "Déclaration de vol", data=content)
    draft = start(client, "cmi_duplicata")
    response = post_step(client, draft, "motif", {"motif": "vol", "mention": "stationnement",
                                                  "numero_carte": "CMI-99",
                                                  "declaration_vol-porte-documents": str(declaration)})
    assert response.status_code == 303, page(response)
    file_id = dossier_row(app, draft).answers["declaration_vol"]["file_id"]
    with app.test_request_context():
        user = database.session.scalar(select(User).where(User.email == "camille@example.org"))
        wallet.delete_document(wallet.get_document(user, declaration))
        database.session.commit()
    download = client.get(f"/dossiers/{draft}/fichiers/{file_id}")
    assert download.status_code == 200 and download.data == content


def test_an_upload_can_be_kept_in_the_wallet_for_the_beneficiary(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    lea = add_relation(app, "camille@example.org", "enfant", LEA)
    draft = start(client, "cmi", lea)
    post_step(client, draft, "documents", {"justificatif_domicile-conserver": "1"},
              files={"justificatif_domicile": PDF})
    with app.app_context():
        [kept] = database.session.scalars(select(WalletDocument)).all()
        assert kept.kind == "justificatif_domicile" and kept.relation_id == lea
        assert kept.title == "Justificatif de domicile"
        dossier = database.session.get(Dossier, draft)
        assert {f.field_id for f in dossier.files} == {"justificatif_domicile"}
        assert kept.storage_key not in {f.storage_key for f in dossier.files}  # an independent copy


# --- notifications ------------------------------------------------------------------------


def _status_inbox(app) -> list[str]:
    with app.app_context():
        return [n.subject for n in database.session.scalars(
            select(Notification).where(Notification.kind == "status").order_by(Notification.id))]


def test_status_changes_go_to_the_inbox_and_respect_the_email_preference(client, auth, create_user, app, mailbox):
    from portal.notifications.services import set_preferences
    from tests.test_demarches_workflow import set_status

    user = sign_in(client, auth, create_user)
    create_user(email="agent@example.org", role="agent")
    with app.app_context():
        set_preferences(database.session.get(User, user.id), {"status": False})
        database.session.commit()
    reference = submit(client, fill_duplicata(client))
    confirmation = page(client.get(f"/demandes/{reference}/confirmation"))
    assert "Nous vous avons envoyé un email" not in confirmation and "Mes notifications" in confirmation
    assert set_status(app, reference, "en_fabrication", "--by", "agent@example.org").exit_code == 0
    subjects = _status_inbox(app)
    assert len(subjects) == 2 and "a bien été déposée" in subjects[0] and reference in subjects[1]
    deliver(app)
    assert emails_to(mailbox, "camille@example.org") == []  # "status" emails switched off
    inbox = page(client.get("/notifications"))
    assert reference in inbox


def test_one_email_per_status_change_when_wanted(client, auth, create_user, app, mailbox):
    from tests.test_demarches_workflow import set_status

    sign_in(client, auth, create_user)
    create_user(email="agent@example.org", role="agent")
    reference = submit(client, fill_duplicata(client))
    deliver(app)
    [confirmation] = emails_to(mailbox, "camille@example.org")
    assert confirmation["Subject"].endswith("Votre demande a bien été déposée") and reference in body(confirmation)
    assert set_status(app, reference, "en_fabrication", "--by", "agent@example.org").exit_code == 0
    deliver(app)
    mails = emails_to(mailbox, "camille@example.org")
    assert len(mails) == 2 and "Le statut de l'une de vos demandes a changé" in mails[1]["Subject"]
    assert len(_status_inbox(app)) == 2


def test_draft_reminder_respects_its_preference(client, auth, create_user, app, mailbox):
    from sqlalchemy import update

    from portal.db import utcnow
    from portal.demarches.services import purge_drafts
    from portal.notifications.services import set_preferences

    user = sign_in(client, auth, create_user)
    draft = start(client, "cmi_duplicata")
    with app.app_context():
        set_preferences(database.session.get(User, user.id), {"draft_reminder": False})
        database.session.execute(update(Dossier).where(Dossier.id == draft)
                                 .values(updated_at=utcnow() - timedelta(days=175)))
        database.session.commit()
        assert purge_drafts()["warned"] == 1
        [reminder] = database.session.scalars(select(Notification)).all()
        assert reminder.kind == "draft_reminder" and reminder.link == f"/brouillons/{draft}"
    deliver(app)
    assert emails_to(mailbox, "camille@example.org") == []


# --- the wallet and "Mes relations" -------------------------------------------------------


def test_the_wallet_lists_relations_and_deleting_one_deletes_its_documents(client, auth, create_user, app):
    from portal.files.services import stored_exists
    from portal.relations import services as relations

    sign_in(client, auth, create_user)
    lea = add_relation(app, "camille@example.org", "enfant", LEA)
    assert "Léa Martin" in page(client.get("/porte-documents/ajouter"))
    document = add_wallet(app, "camille@example.org", "acte_naissance", "Acte de Léa", lea)
    mine = add_wallet(app, "camille@example.org", "acte_naissance", "Mon acte")
    with app.app_context():
        key = database.session.get(WalletDocument, document).storage_key
    with app.test_request_context():
        relations.delete_relation(database.session.get(Relation, lea))
        database.session.commit()
        assert database.session.get(WalletDocument, document) is None
        assert database.session.get(WalletDocument, mine) is not None
        assert not stored_exists(key)
