"""Commands: ``flask demarches check`` and ``flask demarches set-status`` (until the back office)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal import db
from portal.demarches.definitions import DefinitionError, load_all

demarches_cli = AppGroup("demarches", help="Démarches : définitions et statuts.")


@demarches_cli.command("check")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Dossier des définitions (par défaut celui de la configuration).")
def check(folder: Path | None):
    """Validate every procedure definition; exit 1 on the first error."""
    folder = folder or Path(current_app.config["DEMARCHES_DIR"])
    try:
        found = load_all(folder, current_app.config.get("DEMARCHES_SETTINGS"))
    except DefinitionError as exc:
        click.echo(f"Erreur : {exc}", err=True)
        raise SystemExit(1) from exc
    for procedure in found.values():
        click.echo(f"{procedure.id} : {procedure.title} ({len(procedure.steps)} étape(s))")
    click.echo(f"{len(found)} démarche(s) valide(s).")


@demarches_cli.command("set-status")
@click.argument("reference")
@click.argument("status")
@click.option("--by", "by_email", required=True, help="Email de l'agent qui fait le changement.")
@click.option("--note", default="", help="Note jointe au changement (visible par la personne).")
@click.option("--data", "data", multiple=True, help="Donnée du statut, KEY=VALUE (répétable).")
def set_status(reference: str, status: str, by_email: str, note: str, data: tuple[str, ...]):
    """Move the request REFERENCE to STATUS, recorded with who and when."""
    from portal.accounts.services import find_by_email
    from portal.demarches import services

    agent = find_by_email(by_email)
    if agent is None or agent.role not in ("agent", "admin"):
        raise click.ClickException(f"Aucun agent avec l'adresse {by_email}.")
    dossier = services.find_by_reference(reference)
    if dossier is None:
        raise click.ClickException(f"Aucune demande {reference}.")
    values: dict[str, object] = {}
    for item in data:
        key, _, value = item.partition("=")
        values[key] = [v for v in value.split(",") if v] if "," in value else value
    try:
        services.change_status(dossier, status, by=agent, note=note, data=values)
    except services.WorkflowError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"{dossier.reference} : {status}")
