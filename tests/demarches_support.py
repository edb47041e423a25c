"""Helpers for the démarches tests: log in, start a draft, post a step as a browser would."""

from __future__ import annotations

import io
import re
from datetime import date

from tests.conftest import csrf_token
from tests.wallet_samples import pdf_bytes, png_bytes, run_file_checks

PNG = png_bytes()  # real files: uploads are decoded and re-encoded, not just sniffed
PDF = pdf_bytes("Certificat")
PROFILE = dict(civilite="Madame", nom="Martin", prenom="Camille", date_naissance=date(1950, 3, 27),
               lieu_naissance="Arras", adresse="1 rue de la Paix", code_postal="62000",
               commune="Arras", telephone="0612345678")


def sign_in(client, auth, create_user, email="camille@example.org", **fields):
    user = create_user(email=email, **{**PROFILE, **fields})
    response = auth.login(email)
    assert response.status_code == 303, response.get_data(as_text=True)
    return user


def start(client, procedure_id: str, beneficiary: str | int = "moi") -> int:
    """"Commencer", then, when the procedure asks "Pour qui ?", ``beneficiary`` ("moi" or a
    relation id)."""
    response = client.post(f"/demarches/{procedure_id}/commencer",
                           data={"csrf_token": csrf_token(client, f"/demarches/{procedure_id}")})
    if response.status_code == 200 and "Vous avez déjà commencé cette démarche" in response.get_data(as_text=True):
        # A draft exists: « Commencer une nouvelle demande ».
        response = client.post(f"/demarches/{procedure_id}/commencer",
                               data={"csrf_token": csrf_token(client, f"/demarches/{procedure_id}"), "nouveau": "1"})
    assert response.status_code == 303, response.status_code
    if response.headers["Location"].endswith("/pour-qui"):
        url = response.headers["Location"]
        response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                          "beneficiaire": str(beneficiary)})
        assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"/brouillons/(\d+)/", response.headers["Location"]).group(1))


def post_step(client, dossier_id: int, step_id: str, data: dict, action: str = "continuer",
              files: dict | None = None, query: str = "", check_files: bool = True):
    """Post a step; with ``files``, the worker then checks them (unless ``check_files`` is
    False: they stay pending, as right after the request)."""
    url = f"/brouillons/{dossier_id}/etapes/{step_id}{query}"
    payload = {"csrf_token": csrf_token(client, url), "action": action, **data}
    for name, content in (files or {}).items():
        payload[name] = (io.BytesIO(content), f"{name}.png" if content.startswith(b"\x89PNG") else f"{name}.pdf")
    response = client.post(url, data=payload, content_type="multipart/form-data")
    if files and check_files:
        run_file_checks(client.application)
    return response


def autosave(client, dossier_id: int, step_id: str, data: dict, base: dict | None = None, token_from=None):
    import json

    payload = {"csrf_token": csrf_token(client, token_from or f"/brouillons/{dossier_id}/etapes/{step_id}"),
               "_step": step_id, **data}
    if base is not None:
        payload["_base"] = json.dumps(base)
    return client.post(f"/brouillons/{dossier_id}/enregistrer", data=payload, headers={"HX-Request": "true"})


def location(response) -> str:
    return response.headers.get("Location", "")
