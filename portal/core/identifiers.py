"""French identifiers: SIRET (Luhn key, La Poste's own rule) and postcodes.

Pure functions (no request, no database), shared by the démarches engine and the relations'
forms, and pinned by fast tests and by mutation testing (``./scripts/mutation.sh``).
"""

from __future__ import annotations

import re

LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE = "35600000000048"  # the one La Poste SIRET that follows the Luhn key


def normalise_siret(value: str | None) -> str:
    """The digits people type, without the spaces, dots or dashes they group them with."""
    return re.sub(r"[\s.\-]", "", value or "")


def _luhn_ok(digits: str) -> bool:
    doubled = (int(char) * (2 if index % 2 else 1) for index, char in enumerate(reversed(digits)))
    return sum(value - 9 if value > 9 else value for value in doubled) % 10 == 0


def siret_is_valid(value: str | None) -> bool:
    """14 digits whose Luhn key is right; La Poste's establishments (SIREN 356000000) use
    another rule instead: the sum of their digits is a multiple of 5."""
    digits = normalise_siret(value)
    if not re.fullmatch(r"\d{14}", digits):
        return False
    if digits.startswith(LA_POSTE_SIREN) and digits != LA_POSTE_HEAD_OFFICE:
        return sum(int(c) for c in digits) % 5 == 0
    return _luhn_ok(digits)


def postcode_is_valid(value: str | None) -> bool:
    """A French postcode: 5 digits, département 01 to 95 (Corsica is 20) or overseas 97/98."""
    return bool(re.fullmatch(r"(?:0[1-9]|[1-8]\d|9[0-8])\d{3}", str(value).strip()))
