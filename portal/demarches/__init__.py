"""Démarches: procedures as data, drafts with autosave, submission and tracking."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from flask import Flask, current_app

from portal.demarches.definitions import PROCEDURES_DIR, DefinitionError, Procedure, load_all


def init_app(app: Flask) -> None:
    """Load and check every definition: a broken one stops start-up (DefinitionError)."""
    app.config.setdefault("DEMARCHES_DIR", os.environ.get("DEMARCHES_DIR") or str(PROCEDURES_DIR))
    app.config.setdefault("DEMARCHES_DEPARTEMENT", os.environ.get("DEMARCHES_DEPARTEMENT", "62"))
    app.config.setdefault("DEMARCHES_DEPARTEMENT_NAME",
                          os.environ.get("DEMARCHES_DEPARTEMENT_NAME", "du Pas-de-Calais"))
    app.config.setdefault("DEMARCHES_DRAFT_MONTHS", int(os.environ.get("DEMARCHES_DRAFT_MONTHS", 6)))
    app.config.setdefault("DEMARCHES_PURGE_WARNING_DAYS", 14)
    app.config.setdefault("DEMARCHES_PAGE_SIZE", 10)
    # Open drafts one person may keep per procedure (a new one is refused beyond it).
    app.config.setdefault("DEMARCHES_MAX_DRAFTS", int(os.environ.get("DEMARCHES_MAX_DRAFTS", 5)))
    app.config.setdefault("DEMARCHES_SETTINGS", _settings_file(os.environ.get("DEMARCHES_SETTINGS_FILE")))
    app.extensions["demarches"] = load_all(Path(app.config["DEMARCHES_DIR"]), app.config["DEMARCHES_SETTINGS"])

    from portal.demarches.cli import demarches_cli
    from portal.demarches.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(demarches_cli)
    from portal.demarches.services import delete_user_dossiers, register_file_holder

    app.extensions.setdefault("account_deletion_hooks", []).append(delete_user_dossiers)
    register_file_holder(app)


def _settings_file(path: str | None) -> dict:
    """A deployment's values for the procedures' ``settings`` (fees, ages): a YAML file
    ``{procedure_id: {setting: value}}``, checked against the definitions at start-up."""
    if not path:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError("DEMARCHES_SETTINGS_FILE", f"fichier illisible {path} ({exc})") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise DefinitionError("DEMARCHES_SETTINGS_FILE", "le fichier associe à chaque démarche ses réglages : "
                                                         "{cmi_duplicata: {cout_duplicata: …}}")
    return data


def procedures() -> dict[str, Procedure]:
    return current_app.extensions["demarches"]


def get_procedure(procedure_id: str) -> Procedure | None:
    return procedures().get(procedure_id)
