"""Workflow as data: agent transitions from the command, history with who and when,
notifications, deadlines fired by the worker, and the purge of old drafts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from portal import db as database
from portal.db import utcnow
from portal.demarches.models import Dossier, DossierEvent
from tests.conftest import PASSWORD, body, deliver, emails_to, page, post_form
from tests.demarches_support import PDF, post_step, sign_in, start
from tests.test_demarches_other import ADDRESS, fill_duplicata, submit


def inbox(app, email: str, kind: str = "status") -> list[tuple[str, str]]:
    """(subject, message) of the person's notifications of ``kind``, oldest first."""
    from portal.accounts.models import User
    from portal.notifications.models import Notification

    with app.app_context():
        user = database.session.scalar(select(User).where(User.email == email))
        rows = database.session.scalars(select(Notification).where(
            Notification.user_id == user.id, Notification.kind == kind).order_by(Notification.id)).all()
        return [(n.subject, n.message) for n in rows]


def cmi_request(app, client, auth, create_user, filiere="mdph", **answers) -> str:
    """A submitted CMI request, made directly (the full filling is tested elsewhere)."""
    from portal.demarches import get_procedure, services

    user = sign_in(client, auth, create_user)
    with app.test_request_context():
        procedure = get_procedure("cmi")
        dossier = services.start_draft(user, procedure)
        dossier.answers = {**dossier.answers, "filiere": filiere, "mentions": ["stationnement"], **answers}
        assert services.submit(dossier, procedure, services.context_for(dossier, procedure))
        database.session.commit()
        return dossier.reference


def set_status(app, *args):
    return app.test_cli_runner().invoke(args=["demarches", "set-status", *args])


def test_one_mention_typed_on_the_command_line_is_kept_as_a_list(client, auth, create_user, app):
    reference = cmi_request(app, client, auth, create_user)
    create_user(email="agent@example.org", role="agent")
    result = set_status(app, reference, "accordee", "--by", "agent@example.org", "--data", "duree=5",
                        "--data", "mentions_accordees=stationnement")
    assert result.exit_code == 0, result.output
    with app.app_context():
        dossier = database.session.scalar(select(Dossier).where(Dossier.reference == reference))
        assert dossier.status_data["mentions_accordees"] == ["stationnement"]
    tracking = page(client.get(f"/demandes/{reference}"))
    assert "Stationnement" in tracking and "s, t, a" not in tracking


def test_gir_1_or_2_gets_a_permanent_card_with_the_mentions_asked_for(client, auth, create_user, app):
    reference = cmi_request(app, client, auth, create_user, filiere="apa_beneficiaire", gir="2",
                            mentions=["stationnement", "invalidite"])
    create_user(email="agent@example.org", role="agent")
    result = set_status(app, reference, "accordee", "--by", "agent@example.org", "--data", "duree=10",
                        "--data", "mentions_accordees=stationnement")
    assert result.exit_code != 0
    assert "à titre permanent" in result.output and "invalidité qu'elle demande" in result.output
    result = set_status(app, reference, "accordee", "--by", "agent@example.org", "--data", "duree=permanente",
                        "--data", "mentions_accordees=stationnement,invalidite")
    assert result.exit_code == 0, result.output


def test_gir_3_leaves_the_duration_to_the_agent(client, auth, create_user, app):
    reference = cmi_request(app, client, auth, create_user, filiere="apa_beneficiaire", gir="3")
    create_user(email="agent@example.org", role="agent")
    result = set_status(app, reference, "accordee", "--by", "agent@example.org", "--data", "duree=10",
                        "--data", "mentions_accordees=stationnement")
    assert result.exit_code == 0, result.output


def test_agent_transitions_are_recorded_and_notified(client, auth, create_user, app, mailbox):
    reference = cmi_request(app, client, auth, create_user)
    create_user(email="agent@example.org", role="agent")
    result = set_status(app, reference, "en_instruction", "--by", "agent@example.org", "--note", "Dossier complet.")
    assert result.exit_code == 0, result.output
    result = set_status(app, reference, "expediee", "--by", "agent@example.org")
    assert result.exit_code != 0 and "non prévu" in result.output
    result = set_status(app, reference, "accordee", "--by", "agent@example.org", "--data", "duree=25",
                        "--data", "mentions_accordees=stationnement")
    assert result.exit_code != 0 and "permanente" in result.output
    result = set_status(app, reference, "accordee", "--by", "camille@example.org")
    assert result.exit_code != 0 and "Aucun agent" in result.output
    result = set_status(app, reference, "controle", "--by", "agent@example.org")
    assert result.exit_code == 0
    result = set_status(app, reference, "accordee", "--by", "agent@example.org", "--data", "duree=permanente",
                        "--data", "mentions_accordees=stationnement,invalidite")
    assert result.exit_code == 0, result.output
    with app.app_context():
        dossier = database.session.scalar(select(Dossier).where(Dossier.reference == reference))
        events = database.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
                                          .order_by(DossierEvent.id)).all()
        assert [e.status for e in events] == ["deposee", "en_instruction", "controle", "accordee"]
        assert events[1].by_label == "agent@example.org" and events[1].note == "Dossier complet."
        assert dossier.deadline_at is None and dossier.decided_at is not None
    tracking = page(client.get(f"/demandes/{reference}"))
    assert "Statut actuel : Accordée" in tracking and "Contrôle interne" not in tracking
    assert "Recours possible jusqu'au" in tracking and "Mentions accordées" in tracking
    assert "Stationnement, Invalidité" in tracking and "Durée" in tracking
    assert "Dossier complet." in tracking
    subjects = [subject for subject, _message in inbox(app, "camille@example.org")]
    assert any("a bien été déposée" in s for s in subjects)
    assert any("En cours d'instruction" in s for s in subjects)
    assert any(": Accordée" in s for s in subjects)
    assert not any("Contrôle interne" in s for s in subjects)  # hidden status: no notification
    assert len(subjects) == 3
    deliver(app)
    mails = emails_to(mailbox, "camille@example.org")
    # One email per visible change: the confirmation, then two notifications without content.
    assert len(mails) == 3
    status_mails = [m for m in mails if "Le statut de l'une de vos demandes a changé" in m["Subject"]]
    assert len(status_mails) == 2
    assert all("Dossier complet." not in body(m) and "/notifications/" in body(m) for m in status_mails)


def test_the_appeal_deadline_stays_after_the_decision_while_the_window_is_open(client, auth, create_user, app):
    from portal.demarches import engine
    from portal.demarches.services import PARIS, french_date

    reference = cmi_request(app, client, auth, create_user)
    create_user(email="agent@example.org", role="agent")
    assert set_status(app, reference, "accordee", "--by", "agent@example.org", "--data", "duree=5",
                      "--data", "mentions_accordees=stationnement").exit_code == 0
    assert set_status(app, reference, "photo_attendue", "--by", "agent@example.org").exit_code == 0
    with app.app_context():
        dossier = database.session.scalar(select(Dossier).where(Dossier.reference == reference))
        until = french_date(engine.add_months(dossier.decided_at.astimezone(PARIS).date(), 2))
    tracking = page(client.get(f"/demandes/{reference}"))
    assert "Statut actuel : Photo attendue" in tracking
    assert f"Recours possible jusqu'au {until}." in tracking and "Former un recours (RAPO)" in tracking
    assert set_status(app, reference, "en_fabrication", "--by", "agent@example.org").exit_code == 0
    assert f"Recours possible jusqu'au {until}." in page(client.get(f"/demandes/{reference}"))
    with app.app_context():  # the two months have passed: nothing to offer any more
        database.session.execute(update(Dossier).where(Dossier.reference == reference)
                                 .values(decided_at=utcnow() - timedelta(days=70)))
        database.session.commit()
    tracking = page(client.get(f"/demandes/{reference}"))
    assert "Recours possible jusqu'au" not in tracking and "Former un recours (RAPO)" not in tracking


def test_refusal_gives_the_reasons_and_the_appeal_route_by_branch(client, auth, create_user, app, mailbox):
    reference = cmi_request(app, client, auth, create_user, filiere="mdph")
    create_user(email="agent@example.org", role="agent")
    result = set_status(app, reference, "refusee", "--by", "agent@example.org",
                        "--data", "motifs=Taux d'incapacité insuffisant.")
    assert result.exit_code == 0, result.output
    [(subject, text)] = [n for n in inbox(app, "camille@example.org") if "Refusée" in n[0]]
    assert "Taux d'incapacité insuffisant." in text
    assert "CDAPH" in text and "deux mois" in text and "Recours possible jusqu'au" in text
    with app.app_context():  # still at the decision after the two months: a late RAPO stays possible
        database.session.execute(update(Dossier).where(Dossier.reference == reference)
                                 .values(decided_at=utcnow() - timedelta(days=90)))
        database.session.commit()
    tracking = page(client.get(f"/demandes/{reference}"))
    assert "Recours possible jusqu'au" in tracking and "Former un recours (RAPO)" in tracking


def test_implicit_refusal_after_four_months_of_silence(client, auth, create_user, app, mailbox):
    from portal.demarches.services import fire_deadlines

    reference = cmi_request(app, client, auth, create_user, filiere="apa_beneficiaire")
    tracking = page(client.get(f"/demandes/{reference}"))
    assert "Décision attendue au plus tard le" in tracking
    with app.app_context():
        assert fire_deadlines() == 0  # not yet
        dossier = database.session.scalar(select(Dossier).where(Dossier.reference == reference))
        submitted = dossier.submitted_at
        assert submitted + timedelta(days=118) < dossier.deadline_at < submitted + timedelta(days=124)
        assert fire_deadlines(now=submitted + timedelta(days=125)) == 1
        assert fire_deadlines(now=submitted + timedelta(days=126)) == 0  # idempotent
        dossier = database.session.scalar(select(Dossier).where(Dossier.reference == reference))
        assert dossier.status == "refus_implicite" and dossier.deadline_at is None
        event = dossier.events[-1]
        assert event.by_label.startswith("Système")
    [(subject, text)] = [n for n in inbox(app, "camille@example.org") if "sans réponse" in n[0]]
    assert "Président du Conseil départemental" in text
    deliver(app)
    assert len(emails_to(mailbox, "camille@example.org")) == 2  # confirmation, then the refusal
    assert "Refusée (sans réponse dans le délai de 4 mois)" in page(client.get(f"/demandes/{reference}"))


def test_implicit_refusal_still_counts_from_submission_after_en_instruction(client, auth, create_user, app):
    from portal.demarches.services import fire_deadlines

    reference = cmi_request(app, client, auth, create_user)
    create_user(email="agent@example.org", role="agent")
    with app.app_context():  # submitted 100 days ago
        dossier = database.session.scalar(select(Dossier).where(Dossier.reference == reference))
        submitted = dossier.submitted_at - timedelta(days=100)
        dossier.submitted_at, dossier.deadline_at = submitted, dossier.deadline_at - timedelta(days=100)
        deadline = dossier.deadline_at
        database.session.commit()
    assert set_status(app, reference, "en_instruction", "--by", "agent@example.org").exit_code == 0
    assert set_status(app, reference, "controle", "--by", "agent@example.org").exit_code == 0
    assert set_status(app, reference, "en_instruction", "--by", "agent@example.org").exit_code == 0
    with app.app_context():
        dossier = database.session.scalar(select(Dossier).where(Dossier.reference == reference))
        assert dossier.deadline_at == deadline  # not restarted by the instruction
        assert submitted + timedelta(days=118) < dossier.deadline_at < submitted + timedelta(days=124)
        assert fire_deadlines(now=submitted + timedelta(days=110)) == 0
        assert fire_deadlines(now=submitted + timedelta(days=125)) == 1
        dossier = database.session.scalar(select(Dossier).where(Dossier.reference == reference))
        assert dossier.status == "refus_implicite"


def test_drafts_are_not_warned_before_the_two_weeks(client, auth, create_user, app):
    from portal.demarches.services import purge_drafts

    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    now = utcnow()
    with app.app_context():  # six months is about 182 days: the warning comes at about 168 days
        database.session.execute(update(Dossier).where(Dossier.id == draft)
                                 .values(updated_at=now - timedelta(days=160)))
        database.session.commit()
        assert purge_drafts(now=now) == {"warned": 0, "deleted": 0}
        assert purge_drafts(now=now + timedelta(days=5)) == {"warned": 0, "deleted": 0}
        assert database.session.get(Dossier, draft).purge_warned_at is None
        assert purge_drafts(now=now + timedelta(days=12)) == {"warned": 1, "deleted": 0}
    assert len(inbox(app, "camille@example.org", "draft_reminder")) == 1


def test_the_worker_runs_the_demarches_tasks(client, auth, create_user, app):
    from portal.worker import run_once

    cmi_request(app, client, auth, create_user)
    with app.app_context():
        results = run_once()
    assert results["demarches_deadlines"] == 0
    assert results["demarches_purge_drafts"] == {"warned": 0, "deleted": 0}


def test_old_drafts_are_warned_then_deleted(client, auth, create_user, app, mailbox):
    from portal.demarches.services import purge_drafts

    sign_in(client, auth, create_user)
    old, recent = start(client, "cmi"), start(client, "cmi_duplicata")
    now = utcnow()
    with app.app_context():
        database.session.execute(update(Dossier).where(Dossier.id == old)
                                 .values(updated_at=now - timedelta(days=175)))
        database.session.commit()
        assert purge_drafts(now=now) == {"warned": 1, "deleted": 0}
        assert purge_drafts(now=now) == {"warned": 0, "deleted": 0}  # one warning only
        assert purge_drafts(now=now + timedelta(days=15)) == {"warned": 0, "deleted": 1}
        assert database.session.get(Dossier, old) is None
        assert database.session.get(Dossier, recent) is not None
    [(subject, text)] = inbox(app, "camille@example.org", "draft_reminder")
    assert "va être supprimé" in subject and "supprimé le" in text
    deliver(app)
    [mail] = emails_to(mailbox, "camille@example.org")
    assert "Un brouillon vous attend" in mail["Subject"] and "/notifications/" in body(mail)


def test_saving_a_warned_draft_keeps_it(client, auth, create_user, app):
    from portal.demarches.services import purge_drafts
    from tests.demarches_support import post_step

    sign_in(client, auth, create_user)
    draft = start(client, "cmi")
    now = utcnow()
    with app.app_context():
        database.session.execute(update(Dossier).where(Dossier.id == draft)
                                 .values(updated_at=now - timedelta(days=175)))
        database.session.commit()
        assert purge_drafts(now=now)["warned"] == 1
    post_step(client, draft, "identite", {"nom": "Durand"}, action="plus_tard")
    with app.app_context():
        assert purge_drafts(now=now + timedelta(days=15))["deleted"] == 0


def test_references_are_sequential_per_procedure(client, auth, create_user, app):
    sign_in(client, auth, create_user)
    first = submit(client, fill_duplicata(client))
    second = submit(client, fill_duplicata(client))
    assert first.endswith("-000001") and second.endswith("-000002")
    assert first.split("-")[0] == "CMID"


def test_account_deletion_removes_dossiers_and_files(client, auth, create_user, app, tmp_path):
    """Deleting the account from its page: the rows go, and so do the request files in storage."""
    from portal.demarches.models import DossierFile
    from portal.wallet.models import WalletDocument

    uploads = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(uploads)
    app.extensions.pop("file_storage", None)  # the storage is made on first use, from the config
    sign_in(client, auth, create_user)
    # A submitted request with a file, a draft with two (one also kept in the wallet).
    sent = start(client, "cmi_duplicata")
    assert post_step(client, sent, "motif", {"motif": "vol", "mention": "stationnement", "numero_carte": "CMI-99"},
                     files={"declaration_vol": PDF}).status_code == 303
    assert post_step(client, sent, "titulaire", {"nom": "Martin", "prenom": "Camille", "date_naissance": "1950-03-27",
                                                 **ADDRESS, "email": "camille@example.org"}).status_code == 303
    assert post_step(client, sent, "paiement", {"accord_tarif": "oui"}).status_code == 303
    reference = submit(client, sent)
    draft = start(client, "cmi")
    post_step(client, draft, "documents", {"justificatif_domicile-conserver": "1"},
              files={"justificatif_domicile": PDF})
    with app.app_context():
        keys = set(database.session.scalars(select(DossierFile.storage_key)))
        assert len(keys) == 2 and database.session.query(WalletDocument).count() == 1
    assert {p.name for p in uploads.iterdir()} >= keys and len(list(uploads.iterdir())) == 3

    response = post_form(client, "/compte/supprimer", {"current_password": PASSWORD})
    assert response.status_code == 303
    with app.app_context():
        assert database.session.scalar(select(Dossier).where(Dossier.reference == reference)) is None
        assert database.session.query(Dossier).count() == 0 and database.session.query(DossierFile).count() == 0
    assert list(uploads.iterdir()) == []
