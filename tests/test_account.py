"""Mon compte: personal information, password, login email, deletion."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal import db
from portal.accounts.models import AuthSession, Token, User
from portal.mail.models import OutboxEmail
from tests.conftest import PASSWORD, deliver, emails_to, link_in, page, post_form

NEW = "Nouveau-secret7!"


def test_account_requires_login(client):
    response = client.get("/compte")
    assert response.status_code == 302 and "/connexion?next=" in response.headers["Location"]


def test_profile_is_saved_for_prefilling(client, auth, create_user):
    user = create_user()
    auth.login()
    response = post_form(client, "/compte/informations", {
        "civilite": "Madame", "nom": "Martin", "prenom": "Camille", "date_naissance": "14/07/1985",
        "lieu_naissance": "Lyon", "adresse": "3 rue des Lilas", "code_postal": "69001",
        "commune": "Lyon", "telephone": "06 12 34 56 78"})
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(User, user.id)
    assert (saved.nom, saved.date_naissance, saved.code_postal) == ("Martin", date(1985, 7, 14), "69001")
    form = page(client.get("/compte/informations"))
    assert 'value="14/07/1985"' in form and 'value="3 rue des Lilas"' in form


def test_profile_errors_are_french_and_keep_input(client, auth, create_user):
    create_user()
    auth.login()
    response = post_form(client, "/compte/informations", {
        "nom": "Martin", "date_naissance": "31/02/1985", "code_postal": "6900", "telephone": "12"})
    text = page(response)
    assert response.status_code == 422
    assert "Cette date n'existe pas : vérifiez le jour et le mois (JJ/MM/AAAA)." in text
    assert "Le code postal doit comporter 5 chiffres" in text
    assert "Le numéro de téléphone doit être un numéro français" in text
    assert 'value="Martin"' in text and 'value="6900"' in text
    assert 'aria-describedby="code_postal-error"' in text
    future = post_form(client, "/compte/informations", {"date_naissance": "01/01/2999"})
    assert "La date de naissance doit être une date passée." in page(future)


def test_change_password_ends_other_sessions(app, client, auth, mailbox, create_user):
    create_user()
    other = app.test_client()
    post_form(other, "/connexion", {"login": "camille@example.org", "password": PASSWORD})
    auth.login()
    wrong = post_form(client, "/compte/mot-de-passe",
                      {"current_password": "faux", "password": NEW, "password_confirm": NEW})
    assert "Le mot de passe actuel est incorrect." in page(wrong)
    response = post_form(client, "/compte/mot-de-passe",
                         {"current_password": PASSWORD, "password": NEW, "password_confirm": NEW})
    assert response.status_code == 303
    assert client.get("/compte").status_code == 200  # this session goes on
    assert other.get("/compte").status_code == 302  # the other one is over
    assert db.session.scalar(select(func.count(AuthSession.id))) == 1
    deliver(app)
    assert any("mot de passe" in m["Subject"] for m in emails_to(mailbox, "camille@example.org"))


def test_change_email_waits_for_confirmation(app, client, auth, mailbox, create_user):
    user = create_user()
    auth.login()
    response = post_form(client, "/compte/email", {"email": "nouveau@example.org",
                                                   "email_confirm": "nouveau@example.org",
                                                   "current_password": PASSWORD})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "camille@example.org"
    deliver(app)
    assert emails_to(mailbox, "camille@example.org")  # the old address is told
    link = link_in(emails_to(mailbox, "nouveau@example.org")[0])
    assert "nouveau@example.org" in page(client.get(link))  # a GET changes nothing
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "camille@example.org"
    post_form(client, link, {})
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "nouveau@example.org"
    assert client.get(link).status_code == 410
    deliver(app)
    assert any("modifiée" in m["Subject"] for m in emails_to(mailbox, "camille@example.org"))


def test_change_email_to_a_taken_address_reveals_nothing(app, client, auth, mailbox, create_user):
    create_user()
    create_user(email="pris@example.org")
    auth.login()
    response = post_form(client, "/compte/email", {"email": "pris@example.org",
                                                   "email_confirm": "pris@example.org",
                                                   "current_password": PASSWORD}, follow_redirects=True)
    assert "Un message de confirmation a été envoyé" in page(response)
    deliver(app)
    [message] = emails_to(mailbox, "pris@example.org")
    assert "déjà un compte" in message["Subject"]


def test_delete_account_needs_password_and_removes_everything(app, client, auth, mailbox, create_user):
    user = create_user()
    other = app.test_client()
    post_form(other, "/connexion", {"login": "camille@example.org", "password": PASSWORD})
    auth.login()
    post_form(client, "/mot-de-passe-oublie", {"login": "camille@example.org"})
    wrong = post_form(client, "/compte/supprimer", {"current_password": "faux"})
    assert wrong.status_code == 422 and "Le mot de passe est incorrect." in page(wrong)
    response = post_form(client, "/compte/supprimer", {"current_password": PASSWORD})
    assert response.headers["Location"] == "/"
    assert db.session.get(User, user.id) is None
    assert db.session.scalar(select(func.count(AuthSession.id))) == 0
    assert db.session.scalar(select(func.count(Token.id))) == 0
    assert other.get("/compte").status_code == 302 and client.get("/compte").status_code == 302
    deliver(app)
    assert any("supprimé" in m["Subject"] for m in emails_to(mailbox, "camille@example.org"))
    assert db.session.scalar(select(func.count(OutboxEmail.id)).where(OutboxEmail.sent_at.is_(None))) == 0
