"""Commands: ``flask --app wsgi <command>``. Each one commits its own unit of work."""

from __future__ import annotations

import csv
from pathlib import Path

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app

from portal import ROOT, db

DEMO_PASSWORD = "Guichet-demo2026!"
DEMO_ACCOUNTS = [
    ("citoyen@demo.guichet.example", "citizen", "Camille", "Martin"),
    ("agent@demo.guichet.example", "agent", "Dominique", "Bernard"),
    ("admin@demo.guichet.example", "admin", "Alex", "Petit"),
]


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return cfg


def upgrade_database(revision: str = "head") -> None:
    alembic_command.upgrade(alembic_config(), revision)


def register_cli(app: Flask) -> None:
    @app.cli.group("db")
    def db_group():
        """Schema migrations (Alembic)."""

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision):
        """Apply migrations up to REVISION (head by default)."""
        upgrade_database(revision)

    @db_group.command("downgrade")
    @click.argument("revision", default="-1")
    def db_downgrade(revision):
        alembic_command.downgrade(alembic_config(), revision)

    @db_group.command("revision")
    @click.option("-m", "--message", required=True)
    @click.option("--autogenerate/--empty", default=True)
    def db_revision(message, autogenerate):
        """Create a date-prefixed migration file."""
        alembic_command.revision(alembic_config(), message=message, autogenerate=autogenerate)

    @db_group.command("current")
    def db_current():
        alembic_command.current(alembic_config())

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="One pass, then exit.")
    @click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
    def worker(once, interval):
        """Deliver emails and run periodic tasks, with retries."""
        from portal.worker import run_forever, run_once

        if once:
            click.echo(run_once())
        else:
            click.echo(f"Worker démarré (toutes les {interval} s). Ctrl+C pour arrêter.")
            run_forever(interval)

    @app.cli.command("demo")
    def demo():
        """Create the demo accounts (idempotent) and print them."""
        create_demo_accounts()
        from portal.appointments.demo import create_demo_data as create_demo_appointments

        create_demo_appointments()
        click.echo(f"Comptes de démonstration (mot de passe pour tous : {DEMO_PASSWORD})")
        for email, role, *_ in DEMO_ACCOUNTS:
            click.echo(f"  {role:<10} {email}")

    @app.cli.group("accounts")
    def accounts_group():
        """Account administration."""

    @accounts_group.command("provision")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--letters", "letters_dir", default="letters", show_default=True,
                  type=click.Path(file_okay=False, path_type=Path),
                  help="Folder for the PDF identification letters.")
    def provision(csv_file: Path, letters_dir: Path):
        """Create organisation accounts from a CSV (nom, prénom, email, organisation)."""
        try:
            letters = provision_from_csv(csv_file, letters_dir)
        except ProvisioningError as exc:
            raise click.ClickException(str(exc)) from exc
        for path in letters:
            click.echo(f"courrier écrit : {path}")
        click.echo(f"{len(letters)} compte(s) créé(s).")


class ProvisioningError(Exception):
    pass


def _column(row: dict[str, str], *names: str) -> str:
    for name in names:
        if row.get(name) is not None:
            return row[name].strip()
    return ""


def provision_from_csv(csv_file: Path, letters_dir: Path) -> list[Path]:
    """All rows or none: every line is checked before any account is created."""
    from email_validator import EmailNotValidError, validate_email

    from portal.accounts import services
    from portal.accounts.letters import write_letter
    from portal.core.names import clean_name, is_name

    text = csv_file.read_text(encoding="utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t") if text.strip() else "excel"
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames or []]
    rows, errors, seen = [], [], set()
    for line, row in enumerate(reader, start=2):
        nom = _column(row, "nom")
        prenom = _column(row, "prénom", "prenom")
        email = _column(row, "email", "e-mail", "courriel").lower()
        organisation = _column(row, "organisation", "organisme")
        missing = [label for label, value in (("nom", nom), ("prénom", prenom), ("email", email),
                                                 ("organisation", organisation)) if not value]
        if missing:
            errors.append(f"ligne {line} : {', '.join(missing)} manquant(s)")
            continue
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            errors.append(f"ligne {line} : adresse email invalide ({email})")
            continue
        nom, prenom = clean_name(nom), clean_name(prenom)
        not_names = [label for label, value in (("nom", nom), ("prénom", prenom)) if not is_name(value)]
        if not_names:
            errors.append(f"ligne {line} : {', '.join(not_names)} invalide(s) (des lettres, espaces, "
                          "traits d'union et apostrophes seulement)")
            continue
        if email in seen or services.find_by_email(email) is not None:
            errors.append(f"ligne {line} : un compte existe déjà pour {email}")
            continue
        seen.add(email)
        rows.append((nom, prenom, email, organisation))
    if errors:
        raise ProvisioningError("Aucun compte créé :\n" + "\n".join(errors))
    if not rows:
        raise ProvisioningError("Aucun compte créé : le fichier ne contient aucune ligne.")
    created = [services.provision_account(*row) for row in rows]
    paths = [write_letter(item.user, item.temporary_password, letters_dir) for item in created]
    db.session.commit()
    return paths


def create_demo_accounts() -> None:
    from portal.accounts import services
    from portal.accounts.models import User
    from portal.accounts.passwords import hash_password

    for email, role, prenom, nom in DEMO_ACCOUNTS:
        if services.find_by_email(email) is None:
            db.session.add(User(identifier=services.new_identifier(), email=email, role=role,
                                prenom=prenom, nom=nom, password_hash=hash_password(DEMO_PASSWORD),
                                status="active"))
    db.session.flush()
    _demo_association(services.find_by_email(DEMO_ACCOUNTS[0][0]))
    db.session.commit()
    current_app.logger.info("demo accounts ready")


DEMO_ASSOCIATION = {"raison_sociale": "Les Amis du Beffroi (association de démonstration)",
                    "siret": "73282932000074", "adresse": "2 place des Héros", "code_postal": "62000",
                    "commune": "Arras"}


def _demo_association(user) -> None:
    """The demo citizen manages an association: the example procedure « exemple_association »
    is made on its behalf (a legal person of « Mes relations »)."""
    from portal.relations import services as relations

    if not any(r.is_legal for r in relations.relations_for(user)):
        relations.create_relation(user, "association", DEMO_ASSOCIATION)
