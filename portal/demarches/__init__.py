"""Démarches: procedures as data, drafts with autosave, submission and tracking."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, current_app

from portal.demarches.definitions import PROCEDURES_DIR, Procedure, load_all


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
    app.extensions["demarches"] = load_all(Path(app.config["DEMARCHES_DIR"]))

    from portal.demarches.cli import demarches_cli
    from portal.demarches.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(demarches_cli)
    from portal.demarches.services import delete_user_dossiers, register_file_holder

    app.extensions.setdefault("account_deletion_hooks", []).append(delete_user_dossiers)
    register_file_holder(app)


def procedures() -> dict[str, Procedure]:
    return current_app.extensions["demarches"]


def get_procedure(procedure_id: str) -> Procedure | None:
    return procedures().get(procedure_id)
