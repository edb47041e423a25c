"""Date rules: a deadline, an appeal window or a limit a definition names must be the right day."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.core.dates import add_months, parse_date, relative_date

TODAY = date(2026, 11, 23)
DECADE = st.dates(min_value=date(2020, 1, 1), max_value=date(2029, 12, 31))
PROPERTY = settings(max_examples=100, deadline=None, derandomize=True)


@pytest.mark.parametrize("day, months, expected", [
    (date(2026, 1, 15), 1, date(2026, 2, 15)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),     # clamped to the month's end
    (date(2024, 1, 31), 1, date(2024, 2, 29)),     # leap year
    (date(2026, 3, 31), 1, date(2026, 4, 30)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 11, 23), 2, date(2027, 1, 23)),    # over the year's end
    (date(2026, 12, 5), 1, date(2027, 1, 5)),
    (date(2026, 12, 5), 12, date(2027, 12, 5)),
    (date(2026, 12, 5), 13, date(2028, 1, 5)),
    (date(2026, 1, 5), 11, date(2026, 12, 5)),
    (date(2026, 1, 5), -1, date(2025, 12, 5)),
    (date(2026, 1, 5), -12, date(2025, 1, 5)),
    (date(2026, 1, 5), -13, date(2024, 12, 5)),
    (date(2026, 5, 5), 0, date(2026, 5, 5)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2026, 8, 31), 4, date(2026, 12, 31)),
    (date(2026, 7, 31), 2, date(2026, 9, 30)),
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


@PROPERTY
@given(day=DECADE, months=st.integers(min_value=-36, max_value=36))
def test_add_months_lands_in_the_right_month_never_past_its_end(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    last = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(day.day, last)


def test_add_months_over_every_date_of_a_decade():
    day = date(2020, 1, 1)
    while day.year < 2030:
        for months in (1, -1, 12, 13):
            result = add_months(day, months)
            last = calendar.monthrange(result.year, result.month)[1]
            assert result.day <= last
            if day.day <= last:
                assert result.day == day.day, (day, months)
        day += timedelta(days=1)


@pytest.mark.parametrize("spec, expected", [
    ("today", TODAY),
    ("  today ", TODAY),
    ("today+1d", date(2026, 11, 24)),
    ("today-1d", date(2026, 11, 22)),
    ("today+30d", date(2026, 12, 23)),
    ("today - 10 d", date(2026, 11, 13)),
    ("today+1m", date(2026, 12, 23)),
    ("today-1m", date(2026, 10, 23)),
    ("today+2m", date(2027, 1, 23)),
    ("today-11m", date(2025, 12, 23)),
    ("today+1y", date(2027, 11, 23)),
    ("today-120y", date(1906, 11, 23)),
    ("today+0d", TODAY),
])
def test_relative_date_each_unit_and_sign(spec, expected):
    assert relative_date(spec, TODAY) == expected


def test_relative_date_of_a_month_end_is_clamped():
    assert relative_date("today+1m", date(2027, 1, 31)) == date(2027, 2, 28)
    assert relative_date("today-1y", date(2028, 2, 29)) == date(2027, 2, 28)


@pytest.mark.parametrize("spec", ["demain", "today+1w", "today+d", "today+1", "yesterday", "", "today1d"])
def test_relative_date_refuses_anything_else(spec):
    with pytest.raises(ValueError, match=f"^{re.escape(spec)}$"):
        relative_date(spec, TODAY)


@pytest.mark.parametrize("typed, expected", [
    ("27/03/1950", date(1950, 3, 27)),
    ("1950-03-27", date(1950, 3, 27)),
    (" 01/12/2026 ", date(2026, 12, 1)),
    (date(2026, 1, 2).isoformat(), date(2026, 1, 2)),
    ("31/02/2020", None),
    ("2020-02-30", None),
    ("27-03-1950", date(1950, 3, 27)),
    ("27.03.1950", date(1950, 3, 27)),
    ("27 03 1950", date(1950, 3, 27)),
    (" 27 / 03 / 1950 ", date(1950, 3, 27)),
    ("27/03/50", None),
    ("1950/03/27", None),
    ("", None),
    (None, None),
    ("hier", None),
])
def test_parse_date(typed, expected):
    assert parse_date(typed) == expected


@PROPERTY
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_a_displayed_date_reads_back_as_the_same_date(day):
    assert parse_date(day.strftime("%d/%m/%Y")) == day
    assert parse_date(day.isoformat()) == day
