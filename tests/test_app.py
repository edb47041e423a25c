"""The application shell: configuration, headers, error pages, migrations."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from portal import create_app
from portal.config import ConfigError
from portal.db import Base, make_engine
from tests.conftest import page as page_of


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_bad_numeric_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("SMTP_PORT", "vingt-cinq")
    with pytest.raises(ConfigError, match="SMTP_PORT"):
        create_app()


def test_security_headers_and_vary(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "HX-Request" in response.headers["Vary"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_home_page_has_connection_space_and_footer(client):
    page = page_of(client.get("/"))
    assert '<html lang="fr">' in page
    assert "Vous avez déjà un compte ?" in page and "Vous n'avez pas de compte ?" in page
    assert "Se connecter" in page and 'href="/inscription"' in page
    for label in ("Mentions légales", "CGU", "Plan du site", "Accessibilité", "Cookies", "Données personnelles"):
        assert label in page
    assert 'class="skip-link" href="#contenu"' in page and page.count("<h1") == 1


@pytest.mark.parametrize("url", ["/mentions-legales", "/cgu", "/plan-du-site", "/accessibilite",
                                 "/cookies", "/donnees-personnelles"])
def test_footer_pages_render_with_one_h1(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<h1") == 1


def test_404_is_french(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_500_is_french_and_rolls_back(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Erreur du service" in response.get_data(as_text=True)


def test_theme_colours_come_from_configuration(tmp_path, smtp_server):
    from tests.conftest import make_app

    app = make_app("sqlite", tmp_path, smtp_server[1], PORTAL_PRIMARY_COLOUR="#005f73",
                   PORTAL_NAME="Mairie de Pontlieu")
    client = app.test_client()
    assert "--primary:#005f73" in client.get("/theme.css").get_data(as_text=True)
    assert "Mairie de Pontlieu" in client.get("/").get_data(as_text=True)


def test_english_catalogue_can_be_chosen(client):
    from tests.conftest import post_form

    post_form(client, "/langue", {"lang": "en", "next": "/connexion"})
    page = client.get("/connexion").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Log in" in page


def test_account_messages_and_email_subjects_are_translated(app, client, create_user, mailbox):
    from tests.conftest import deliver, emails_to, post_form

    create_user(email="camille@example.org")
    post_form(client, "/langue", {"lang": "en", "next": "/connexion"})
    wrong = post_form(client, "/connexion", {"login": "camille@example.org", "password": "Mauvais-1!"})
    assert "Incorrect identifier or password." in wrong.get_data(as_text=True)
    post_form(client, "/identifiant-oublie", {"email": "camille@example.org"})
    assert "an email with your identifier" in client.get("/connexion").get_data(as_text=True)
    deliver(app)
    assert [m["Subject"] for m in emails_to(mailbox, "camille@example.org")] == ["[Guichet] Your identifier"]


def test_migrations_build_the_same_schema_as_the_models(app, backend):
    """Alembic is the only way the schema is made: migrations must match the models."""
    from portal.cli import upgrade_database

    engine = app.extensions["sqlalchemy_engine"]
    if backend == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        import tests.conftest as conftest

        conftest._pg_schema_ready = False
    else:
        Base.metadata.drop_all(engine)
    with app.app_context():
        upgrade_database()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


@pytest.mark.parametrize("name, value", [("PORTAL_PRIMARY_COLOUR", "#ffcc00"), ("PORTAL_ACCENT_COLOUR", "#eeeeee"),
                                         ("PORTAL_PRIMARY_COLOUR", "bleu")])
def test_a_theme_colour_without_contrast_refuses_to_start(tmp_path, smtp_server, name, value):
    from portal.config import ConfigError
    from tests.conftest import make_app

    with pytest.raises(ConfigError, match=name):
        make_app("sqlite", tmp_path, smtp_server[1], **{name: value})


def test_contrast_with_white_follows_wcag():
    from portal.config import contrast_with_white

    assert round(contrast_with_white("#000"), 1) == 21.0
    assert round(contrast_with_white("#767676"), 2) == 4.54  # the usual 4.5:1 grey
    assert contrast_with_white("#1d4f91") >= 4.5 and contrast_with_white("#b3261e") >= 3


def test_the_accessibility_statement_says_non_conforme_until_an_audit(client):
    text = client.get("/accessibilite").get_data(as_text=True)
    assert "est non conforme avec le référentiel général d'amélioration de l'accessibilité" in text
    for section in ("Contenus non accessibles", "Cette déclaration a été établie le", "Environnement de test",
                    "Défenseur des droits", "Libre réponse 71120"):
        assert section in text, section
    assert "Accessibilité : non conforme" in client.get("/").get_data(as_text=True)
