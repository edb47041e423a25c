"""Provisioned organisation accounts (seed 000): CSV, PDF letter, temporary password, first connection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import db
from portal.accounts import services
from portal.accounts.models import User
from portal.cli import ProvisioningError, provision_from_csv
from tests.conftest import PASSWORD, deliver, emails_to, page, post_form

CSV = "nom,prénom,email,organisation\nDurand,Claire,claire.durand@asso.example,Association Les Amis\n" \
      "Lefèvre,Hugo,hugo@ccas.example,CCAS de Démoville\n"


@pytest.fixture
def provisioned(app):
    """A provisioned account and its temporary password."""
    with app.app_context():
        item = services.provision_account("Durand", "Claire", "claire.durand@asso.example", "Association Les Amis")
        db.session.commit()
        return item.user, item.temporary_password


def first_connection_data(temporary, email="claire.durand@asso.example", password=PASSWORD):
    return {"temporary_password": temporary, "password": password, "password_confirm": password,
            "email": email, "email_confirm": email}


def test_csv_creates_accounts_and_pdf_letters(app, tmp_path):
    source = tmp_path / "comptes.csv"
    source.write_text(CSV, encoding="utf-8")
    with app.app_context():
        letters = provision_from_csv(source, tmp_path / "courriers")
    assert len(letters) == 2
    users = db.session.scalars(select(User).order_by(User.id)).all()
    assert [u.status for u in users] == ["provisioned", "provisioned"]
    assert all(len(u.identifier) == 15 and u.identifier.isdigit() for u in users)
    assert users[0].organisation == "Association Les Amis" and users[0].role == "organisation"
    pdf = letters[0].read_bytes()
    assert pdf.startswith(b"%PDF-") and users[0].identifier in letters[0].name


def test_cli_command_reports_bad_lines_and_creates_nothing(app, tmp_path):
    source = tmp_path / "comptes.csv"
    source.write_text("nom;prénom;email;organisation\nDurand;Claire;pas-une-adresse;Asso\n;Hugo;h@x.example;CCAS\n",
                      encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["accounts", "provision", str(source), "--letters", str(tmp_path)])
    assert result.exit_code != 0
    assert "ligne 2 : adresse email invalide" in result.output
    assert "ligne 3 : nom manquant" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0
    with app.app_context(), pytest.raises(ProvisioningError):
        provision_from_csv(source, tmp_path)


def test_first_connection_flow(app, client, auth, mailbox, provisioned):
    user, temporary = provisioned
    response = auth.login(user.identifier, temporary)
    assert response.headers["Location"] == "/premiere-connexion"
    # Nothing else is reachable until the account is created.
    assert client.get("/compte").headers["Location"] == "/premiere-connexion"
    form = page(client.get("/premiere-connexion"))
    for label in ("Créer votre compte", "Nom", "Prénom", "Identifiant", "Confirmation de votre adresse email"):
        assert label in form
    assert f'value="{user.identifier}" readonly' in form and 'value="Durand" readonly' in form
    assert 'value="claire.durand@asso.example"' in form
    response = post_form(client, "/premiere-connexion", first_connection_data(temporary))
    assert response.headers["Location"] == "/compte"
    assert client.get("/compte").status_code == 200
    auth.logout()
    # The temporary password worked once; the new one works from now on.
    assert auth.login(user.identifier, temporary).status_code == 422
    assert auth.login(user.identifier, PASSWORD).status_code == 303
    deliver(app)
    assert any("activé" in m["Subject"] for m in emails_to(mailbox, "claire.durand@asso.example"))


def test_first_connection_errors_keep_answers(client, auth, provisioned):
    user, temporary = provisioned
    auth.login(user.identifier, temporary)
    data = first_connection_data("faux-mot-de-passe")
    data["email_confirm"] = "autre@asso.example"
    response = post_form(client, "/premiere-connexion", data)
    text = page(response)
    assert response.status_code == 422 and "<title>Erreur : " in text
    assert "Les deux adresses email doivent être identiques." in text
    data["email_confirm"] = data["email"]
    response = post_form(client, "/premiere-connexion", data)
    assert "Le mot de passe temporaire est incorrect." in page(response)
    data = first_connection_data(temporary, password="faible")
    assert "ne respecte pas les règles" in page(post_form(client, "/premiere-connexion", data))


def test_changed_email_needs_confirmation(app, client, auth, mailbox, provisioned):
    user, temporary = provisioned
    auth.login(user.identifier, temporary)
    post_form(client, "/premiere-connexion", first_connection_data(temporary, email="claire@perso.example"))
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "claire.durand@asso.example"
    deliver(app)
    assert emails_to(mailbox, "claire@perso.example")


def test_temporary_password_expires(app, auth, provisioned):
    user, temporary = provisioned
    row = db.session.get(User, user.id)
    row.temp_password_expires_at = row.temp_password_expires_at - timedelta(days=31)
    db.session.commit()
    response = auth.login(user.identifier, temporary)
    assert response.status_code == 422
    assert "Identifiant ou mot de passe incorrect." in page(response)


def test_temporary_password_lasts_30_days_by_default(app, provisioned):
    user, _ = provisioned
    lifetime = user.temp_password_expires_at - user.created_at
    assert timedelta(days=29, hours=23) < lifetime <= timedelta(days=30, seconds=5)


def test_temporary_password_expiring_during_the_first_connection_is_refused(app, client, auth, provisioned):
    user, temporary = provisioned
    auth.login(user.identifier, temporary)
    row = db.session.get(User, user.id)
    row.temp_password_expires_at = services.utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = post_form(client, "/premiere-connexion", first_connection_data(temporary))
    assert response.status_code == 422 and "Le mot de passe temporaire est incorrect." in page(response)
    db.session.expire_all()
    assert db.session.get(User, user.id).status == "provisioned"


def test_a_second_login_with_the_temporary_password_ends_the_first(app, client, auth, provisioned):
    from tests.conftest import AuthActions

    user, temporary = provisioned
    auth.login(user.identifier, temporary)
    other = app.test_client()
    AuthActions(other).login(user.identifier, temporary)
    assert client.get("/premiere-connexion").status_code == 302  # the first session is over
    assert other.get("/premiere-connexion").status_code == 200


def test_provisioning_refuses_what_is_not_a_name(app, tmp_path):
    """Names go into letters and emails: no URL, digit or newline, as in every form."""
    source = tmp_path / "comptes.csv"
    source.write_text("nom;prénom;email;organisation\nDurand;www.evil.example;a@x.example;Asso\n"
                      "N’Diaye;Aïssa-Marie;b@x.example;CCAS\n", encoding="utf-8")
    with app.app_context(), pytest.raises(ProvisioningError, match="ligne 2 : prénom invalide"):
        provision_from_csv(source, tmp_path)
