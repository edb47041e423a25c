"""The national pré-demande API (ANTS « api-coordination »): is a number usable, and does it
already hold an appointment elsewhere?

``GET {PREDEMANDE_API_URL}/status?application_ids=A&application_ids=B`` with the header
``x-rdv-opt-auth-token`` answers, per number, ``{"status": "validated" | "consumed" |
"declared" | "unknown" | "expired", "appointments": [{"meeting_point", "appointment_date",
"management_url"}]}``. Without PREDEMANDE_API_URL the check is the format alone.
A failure or a timeout refuses the booking (fail closed), as the national service asks.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from flask import current_app

log = logging.getLogger(__name__)

REFUSALS = {
    "consumed": "Le numéro {n} a déjà servi à déposer une demande : faites une nouvelle pré-demande.",
    "declared": "Le numéro {n} ne peut pas être utilisé pour un rendez-vous : vérifiez votre pré-demande.",
    "unknown": "Le numéro de pré-demande {n} est inconnu : vérifiez les 10 lettres ou chiffres.",
    "expired": "La pré-demande {n} a expiré : faites une nouvelle pré-demande en ligne.",
}
UNAVAILABLE = ("Le service national de vérification des pré-demandes ne répond pas : réessayez dans "
               "quelques minutes.")


@dataclass
class NumberCheck:
    refusals: dict[str, str] = field(default_factory=dict)  # number -> French message
    elsewhere: dict[str, list[dict]] = field(default_factory=dict)  # number -> appointments elsewhere
    unavailable: bool = False


def configured() -> bool:
    return bool(current_app.config.get("PREDEMANDE_API_URL"))


def check(numbers: list[str]) -> NumberCheck:
    result = NumberCheck()
    if not numbers or not configured():
        return result
    cfg = current_app.config
    query = urllib.parse.urlencode([("application_ids", n) for n in numbers])
    request = urllib.request.Request(f"{cfg['PREDEMANDE_API_URL'].rstrip('/')}/status?{query}",
                                     headers={"x-rdv-opt-auth-token": cfg.get("PREDEMANDE_API_TOKEN", ""),
                                              "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=cfg.get("PREDEMANDE_API_TIMEOUT", 4)) as response:
            answer = json.loads(response.read().decode())
    except (OSError, urllib.error.URLError, ValueError) as exc:
        log.warning("pré-demande API unavailable: %s", exc)
        result.unavailable = True
        return result
    for number in numbers:
        item = answer.get(number) if isinstance(answer, dict) else None
        status = item.get("status") if isinstance(item, dict) else "unknown"
        if status != "validated":
            result.refusals[number] = REFUSALS.get(status, REFUSALS["unknown"]).format(n=number)
        elif item.get("appointments"):
            result.elsewhere[number] = list(item["appointments"])
    return result
