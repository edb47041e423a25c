"""Free slots from the rules (pure, no database): opening hours, guichets in parallel,
closures, French public holidays, blocked periods, family durations, the booking window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.appointments.slots import (
    PARIS,
    Busy,
    OpeningRule,
    Schedule,
    booking_window,
    days_of,
    free_slots,
    is_public_holiday,
    slot_units,
    starts_by_day,
)

MONDAY = date(2027, 3, 1)  # a Monday with no public holiday that week
WEEKDAY_MORNINGS = [OpeningRule(d, time(9), time(12)) for d in range(5)]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), PARIS)


def day_slots(schedule: Schedule, day: date, minutes: int = 15, step: int | None = None):
    return free_slots(schedule, timedelta(minutes=minutes), at(day, 0), at(day + timedelta(days=1), 0),
                      step=timedelta(minutes=step) if step else None)


def hours(slots) -> list[str]:
    return [f"{s.start.astimezone(PARIS):%H:%M}/{s.guichet_id}" for s in slots]


@pytest.mark.parametrize("case, schedule, minutes, expected", [
    ("one guichet, 1 h, 20 min each",
     Schedule([1], [OpeningRule(0, time(9), time(10))]), 20, ["09:00/1", "09:20/1", "09:40/1"]),
    ("two guichets in parallel",
     Schedule([1, 2], [OpeningRule(0, time(9), time(9, 30))]), 15,
     ["09:00/1", "09:00/2", "09:15/1", "09:15/2"]),
    ("a slot never runs past closing",
     Schedule([1], [OpeningRule(0, time(9), time(9, 50))]), 20, ["09:00/1", "09:20/1"]),
    ("morning and afternoon",
     Schedule([1], [OpeningRule(0, time(14), time(14, 30)), OpeningRule(0, time(9), time(9, 30))]), 30,
     ["09:00/1", "14:00/1"]),
    ("closed on another weekday",
     Schedule([1], [OpeningRule(1, time(9), time(12))]), 15, []),
    ("exceptional closure",
     Schedule([1], WEEKDAY_MORNINGS, closed_days=[MONDAY]), 15, []),
    ("a booking takes its guichet only",
     Schedule([1, 2], [OpeningRule(0, time(9), time(9, 30))], busy=[Busy(at(MONDAY, 9), at(MONDAY, 9, 15), 1)]),
     15, ["09:00/2", "09:15/1", "09:15/2"]),
    ("a blocked period of the whole lieu",
     Schedule([1, 2], [OpeningRule(0, time(9), time(9, 30))], busy=[Busy(at(MONDAY, 9), at(MONDAY, 9, 20))]),
     15, []),
    ("a booking straddling two grid slots blocks both",
     Schedule([1], [OpeningRule(0, time(9), time(10))], busy=[Busy(at(MONDAY, 9, 10), at(MONDAY, 9, 20), 1)]),
     15, ["09:30/1", "09:45/1"]),
])
def test_free_slots_table(case, schedule, minutes, expected):
    assert hours(day_slots(schedule, MONDAY, minutes)) == expected, case


def test_a_family_needs_one_long_slot_on_the_per_person_grid():
    schedule = Schedule([1], [OpeningRule(0, time(9), time(10))])
    # Three people at 15 min each: 45 minutes, starting every 15 minutes.
    assert hours(day_slots(schedule, MONDAY, minutes=45, step=15)) == ["09:00/1", "09:15/1"]


@pytest.mark.parametrize("day, holiday", [
    (date(2027, 1, 1), True), (date(2027, 3, 29), True),   # Jour de l'an, lundi de Pâques 2027
    (date(2027, 5, 1), True), (date(2027, 5, 8), True), (date(2027, 5, 6), True),  # Ascension
    (date(2027, 5, 17), True), (date(2027, 7, 14), True), (date(2027, 8, 15), True),  # Pentecôte
    (date(2027, 11, 1), True), (date(2027, 11, 11), True), (date(2027, 12, 25), True),
    (date(2027, 3, 1), False), (date(2027, 12, 24), False),
])
def test_french_public_holidays_are_known(day, holiday):
    assert is_public_holiday(day) is holiday


def test_public_holidays_close_automatically():
    easter_monday = date(2027, 3, 29)
    schedule = Schedule([1], WEEKDAY_MORNINGS)
    assert day_slots(schedule, easter_monday) == []
    assert day_slots(Schedule([1], WEEKDAY_MORNINGS, public_holidays=False), easter_monday)


def test_booking_window_from_minimum_delay_to_three_weeks():
    now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    start, end = booking_window(now, timedelta(hours=24), 21)
    assert start == now + timedelta(hours=24)
    assert end == at(date(2027, 3, 23), 0)  # the whole 21st day is included
    slots = free_slots(Schedule([1], WEEKDAY_MORNINGS), timedelta(minutes=30), start, end)
    assert slots[0].start == at(date(2027, 3, 2), 9)  # tomorrow at opening, not today
    assert slots[-1].start.astimezone(PARIS).date() == date(2027, 3, 22)


def test_window_start_is_rounded_up_to_the_grid():
    schedule = Schedule([1], [OpeningRule(0, time(9), time(10))])
    slots = free_slots(schedule, timedelta(minutes=20), at(MONDAY, 9, 7), at(MONDAY, 23))
    assert hours(slots) == ["09:20/1", "09:40/1"]


def test_daylight_saving_keeps_local_hours():
    # 28 March 2027: France moves to summer time; Monday 29 is Easter Monday, so use Tuesday.
    tuesday = date(2027, 3, 30)
    slots = day_slots(Schedule([1], [OpeningRule(1, time(9), time(9, 30))], public_holidays=False), tuesday)
    assert [s.start.astimezone(UTC).hour for s in slots] == [7, 7]  # 09:00 CEST is 07:00 UTC


def test_starts_by_day_lists_each_time_once():
    schedule = Schedule([1, 2], [OpeningRule(0, time(9), time(9, 30)), OpeningRule(1, time(9), time(9, 15))])
    slots = free_slots(schedule, timedelta(minutes=15), at(MONDAY, 0), at(MONDAY + timedelta(days=2), 0))
    grouped = starts_by_day(slots)
    assert [(d, [f"{s.astimezone(PARIS):%H:%M}" for s in starts]) for d, starts in grouped] == [
        (MONDAY, ["09:00", "09:15"]), (MONDAY + timedelta(days=1), ["09:00"])]


def test_slot_units_cover_the_booking_in_five_minutes():
    units = slot_units(at(MONDAY, 9), at(MONDAY, 9, 20))
    assert [f"{u:%H:%M}" for u in units] == ["09:00", "09:05", "09:10", "09:15"]


# --- properties ---------------------------------------------------------------------------

minutes_of_day = st.integers(min_value=7 * 12, max_value=19 * 12).map(lambda u: u * 5)


@st.composite
def busy_periods(draw):
    guichet = draw(st.sampled_from([None, 1, 2, 3]))
    day = MONDAY + timedelta(days=draw(st.integers(0, 6)))
    start = draw(minutes_of_day)
    length = draw(st.integers(1, 36)) * 5
    begin = at(day, 0) + timedelta(minutes=start)
    return Busy(begin, begin + timedelta(minutes=length), guichet)


@settings(max_examples=150, deadline=None)
@given(busy=st.lists(busy_periods(), max_size=25),
       closed=st.lists(st.integers(0, 6).map(lambda d: MONDAY + timedelta(days=d)), max_size=2),
       minutes=st.sampled_from([10, 15, 20, 30, 45, 60]))
def test_no_free_slot_overlaps_a_booking_or_a_closure(busy, closed, minutes):
    schedule = Schedule([1, 2, 3], [OpeningRule(d, time(8, 30), time(12)) for d in range(6)]
                        + [OpeningRule(d, time(13, 30), time(17, 45)) for d in range(5)],
                        closed_days=closed, busy=busy)
    slots = free_slots(schedule, timedelta(minutes=minutes), at(MONDAY, 0), at(MONDAY + timedelta(days=7), 0))
    for slot in slots:
        assert slot.end - slot.start == timedelta(minutes=minutes)
        local_day = slot.start.astimezone(PARIS).date()
        assert local_day not in closed
        assert local_day.weekday() != 6
        for period in busy:
            if period.guichet_id in (None, slot.guichet_id):
                assert not (slot.start < period.end and period.start < slot.end), (slot, period)
    assert len(set(slots)) == len(slots)


@settings(max_examples=100, deadline=None)
@given(busy=st.lists(busy_periods(), max_size=15))
def test_a_slot_is_free_exactly_when_nothing_overlaps_it(busy):
    """Completeness: every grid slot inside opening hours that nothing overlaps is offered."""
    schedule = Schedule([1, 2], [OpeningRule(0, time(9), time(11))], busy=busy)
    offered = {(s.start, s.guichet_id) for s in day_slots(schedule, MONDAY, 20)}
    for guichet in (1, 2):
        start = at(MONDAY, 9)
        while start + timedelta(minutes=20) <= at(MONDAY, 11):
            end = start + timedelta(minutes=20)
            clash = any(p.guichet_id in (None, guichet) and p.start < end and start < p.end for p in busy)
            assert ((start, guichet) in offered) is not clash
            start = end


@pytest.mark.parametrize("window_start, first", [
    (at(MONDAY, 9, 7), "09:10"),  # rounded up to the 5-minute grid
    (at(MONDAY, 9, 5), "09:05"),  # already on the grid
    (at(MONDAY, 9, 5) + timedelta(microseconds=1), "09:10"),  # a moment past 09:05 is not 09:05
    (at(MONDAY, 9, 4) + timedelta(seconds=59), "09:05"),
    (datetime(2027, 3, 1, 8, 1, tzinfo=UTC), "09:05"),  # read in Paris time (UTC+1 in winter)
    (at(MONDAY, 8, 0), "09:00"),  # before opening: the opening
])
def test_the_first_slot_offered_after_the_window_start(window_start, first):
    schedule = Schedule([1], [OpeningRule(0, time(9), time(10))])
    slots = free_slots(schedule, timedelta(minutes=5), window_start, at(MONDAY, 23))
    assert hours(slots)[0] == f"{first}/1"


def test_days_of_groups_starts_by_paris_day_in_order():
    late = datetime(2027, 3, 1, 23, 30, tzinfo=UTC)  # 00:30 on Tuesday in Paris
    starts = [at(MONDAY, 10), late, at(MONDAY, 9), at(MONDAY, 10)]
    assert days_of(starts) == [(MONDAY, [at(MONDAY, 9), at(MONDAY, 10)]),
                               (date(2027, 3, 2), [late])]
    assert days_of([]) == []
