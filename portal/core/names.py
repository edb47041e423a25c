"""People's names: letters (accents included), spaces, hyphens and apostrophes, nothing else.

A first name is written into « Bonjour … » of emails sent to any address: refusing digits,
URLs, newlines and symbols keeps the portal from relaying a phishing message.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

NAME_MAX_LENGTH = 60
# A letter is [^\W\d_] (any script, accents included); words joined by one space, hyphen or
# apostrophe (' or ’): « Jean-Pierre », « N’Diaye », « d'Alembert », « Marie Claire ».
NAME_PATTERN = r"[^\W\d_]+(?:(?: |-|'|’|' | '|’ | ’)[^\W\d_]+)*"
NAME_RE = re.compile(NAME_PATTERN)
NAME_MESSAGE = _l("Un nom ne contient que des lettres, des espaces, des traits d'union et des "
                  "apostrophes (%(max)s caractères au plus).", max=NAME_MAX_LENGTH)


def clean_name(value: str) -> str:
    """Composed accents (NFC) and single spaces, as it will be stored."""
    return re.sub(" {2,}", " ", unicodedata.normalize("NFC", value)).strip(" ")


def is_name(value: str) -> bool:
    return len(value) <= NAME_MAX_LENGTH and NAME_RE.fullmatch(value) is not None


class PersonName:
    """WTForms validator: an optional or required name, normalised, or a French error."""

    def __call__(self, form, field):
        if not field.data:
            return
        value = clean_name(field.data)
        if not is_name(value):
            raise ValidationError(str(NAME_MESSAGE))
        field.data = value
