"""Date rules of the domain: reading a typed date, adding months, relative limits ("today-120y").

Pure functions (no request, no database), so that they are pinned by fast tests and by mutation
testing (``./scripts/mutation.sh``).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from typing import Any

# "today", "today+30d", "today - 1m", "today-120y" in a procedure definition.
RELATIVE_DATE = re.compile(r"^today(?:\s*([+-])\s*(\d+)\s*([dmy]))?$")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %m %Y")
# Spaces around a separator are dropped: " 27 / 03 / 1950 " is read as 27/03/1950.
SEPARATOR = re.compile(r"\s*([/.\- ])\s*")


def parse_date(raw: Any) -> date | None:
    """A date typed as the hint shows (JJ/MM/AAAA, also with - . or spaces) or sent as
    AAAA-MM-JJ; None when it is not a real date."""
    text = SEPARATOR.sub(r"\1", str(raw).strip())  # None gives "None", which is no date
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the month's end: 31/01 + 1 → 28/02."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def relative_date(spec: str, today: date) -> date:
    """The date a definition's ``today±N[dmy]`` names; ValueError for anything else."""
    match = RELATIVE_DATE.match(spec.strip())
    if not match:
        raise ValueError(spec)
    sign, amount, unit = match.groups()
    if not sign:
        return today
    n = int(amount) * (1 if sign == "+" else -1)
    if unit == "d":
        return today + timedelta(days=n)
    return add_months(today, n if unit == "m" else 12 * n)
