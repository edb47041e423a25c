"""Numbers typed or sent by a browser: database ids and page numbers, within range.

``int(text)`` is not enough: "²".isdigit() is True but int("²") fails, int() accepts "١٢"
and refuses 4,301 digits with a ValueError, and an id beyond PostgreSQL's integer range makes
the query itself fail. These helpers answer None (the view then answers 404 or a form error).
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, ValidationError

MAX_ID = 2**31 - 1  # PostgreSQL's integer; SQLite's is larger, the same limit applies to both
MAX_PAGE = 10_000


def parse_id(value: Any) -> int | None:
    """A database id from user input (ASCII digits, 1 … MAX_ID), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def parse_page(value: Any) -> int:
    """A page number from a query string: 1 when missing or nonsense, at most MAX_PAGE."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 6:
        return min(max(int(value), 1), MAX_PAGE)
    return 1


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in routes: ASCII digits within MAX_ID, else the route does not match (404)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_url(self, value) -> str:
        return str(value)  # as Werkzeug's own converter builds URLs

    def to_python(self, value: str) -> int:
        if len(value) > 10:
            raise ValidationError()
        return super().to_python(value)
