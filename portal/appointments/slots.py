"""Free slots, computed (never stored) from the lieu's rules: a pure function of its inputs.

No request, no database session: the service loads the rules and the bookings into these
plain values, and the same code serves the citizen's list, the booking re-check inside the
transaction and the benchmark. Times are local (Europe/Paris) for the rules and aware
datetimes for everything that happens, so a daylight-saving change never shifts a slot.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
SLOT_UNIT_MINUTES = 5  # every duration and start is a multiple: one lock row per unit


@dataclass(frozen=True)
class OpeningRule:
    """The lieu opens on ``weekday`` (0 = Monday) from ``start`` to ``end`` (local times)."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Busy:
    """A period a guichet cannot take (a booking, an absence); ``guichet_id=None``: all of them."""

    start: datetime
    end: datetime
    guichet_id: int | None = None


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    guichet_id: int


@dataclass
class Schedule:
    """Everything that decides a lieu's free slots."""

    guichet_ids: Sequence[int]
    opening: Sequence[OpeningRule]
    closed_days: Iterable[date] = ()
    busy: Iterable[Busy] = ()
    public_holidays: bool = True
    _closed: frozenset[date] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._closed = frozenset(self.closed_days)


@lru_cache(maxsize=16)
def french_public_holidays(year: int) -> frozenset[date]:
    """Metropolitan France's public holidays, from the maintained ``holidays`` library."""
    import holidays

    return frozenset(holidays.France(years=year).keys())


def is_public_holiday(day: date) -> bool:
    return day in french_public_holidays(day.year)


def booking_window(now: datetime, min_delay: timedelta, max_days: int) -> tuple[datetime, datetime]:
    """From ``now + min_delay`` to the end of the ``max_days``-th local day from today."""
    earliest = now + min_delay
    last_day = now.astimezone(PARIS).date() + timedelta(days=max_days)
    latest = datetime.combine(last_day + timedelta(days=1), time(0), PARIS)
    return earliest, latest


def _round_up(moment: datetime, minutes: int) -> datetime:
    local = moment.astimezone(PARIS)
    base = local.replace(second=0, microsecond=0)
    if base < local:
        base += timedelta(minutes=1)
    extra = (-(base.hour * 60 + base.minute)) % minutes
    return base + timedelta(minutes=extra)


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


class _BusyIndex:
    """Per guichet, sorted busy periods in epoch seconds (comparing integers, not aware
    datetimes in two time zones): an overlap test is a binary search, not a scan."""

    def __init__(self, busy: Iterable[Busy], guichet_ids: Sequence[int]) -> None:
        everyone: list[tuple[int, int]] = []
        per: dict[int, list[tuple[int, int]]] = {g: [] for g in guichet_ids}
        for item in busy:
            period = (_seconds(item.start), _seconds(item.end))
            if item.guichet_id is None:
                everyone.append(period)
            elif item.guichet_id in per:
                per[item.guichet_id].append(period)
        self.periods: dict[int, list[tuple[int, int]]] = {}
        self.starts: dict[int, list[int]] = {}
        self.max_length: dict[int, int] = {}
        for guichet_id, own in per.items():
            periods = sorted(own + everyone)
            self.periods[guichet_id] = periods
            self.starts[guichet_id] = [start for start, _end in periods]
            self.max_length[guichet_id] = max((e - s for s, e in periods), default=0)

    def overlaps(self, guichet_id: int, start: int, end: int) -> bool:
        periods = self.periods[guichet_id]
        if not periods:
            return False
        # Only periods starting before ``end`` and after ``start - longest`` can overlap.
        starts = self.starts[guichet_id]
        high = bisect.bisect_left(starts, end)
        low = bisect.bisect_left(starts, start - self.max_length[guichet_id])
        return any(p_start < end and start < p_end for p_start, p_end in periods[low:high])


def free_slots(schedule: Schedule, duration: timedelta, window_start: datetime, window_end: datetime,
               step: timedelta | None = None) -> list[Slot]:
    """Every (start, guichet) where ``duration`` fits: inside opening hours, not on a closed
    day or a public holiday, overlapping no busy period of that guichet, within the window.

    Starts follow a grid of ``step`` (the duration per person by default) from each opening.
    Sorted by start, then guichet.
    """
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    step = step or duration
    index = _BusyIndex(schedule.busy, schedule.guichet_ids)
    rules_by_day: dict[int, list[OpeningRule]] = {}
    for rule in schedule.opening:
        rules_by_day.setdefault(rule.weekday, []).append(rule)
    earliest = _round_up(window_start, SLOT_UNIT_MINUTES)
    slots: list[Slot] = []
    day = earliest.astimezone(PARIS).date()
    last_day = window_end.astimezone(PARIS).date()
    while day <= last_day:
        if day not in schedule._closed and not (schedule.public_holidays and is_public_holiday(day)):
            for rule in sorted(rules_by_day.get(day.weekday(), ()), key=lambda r: r.start):
                opens = datetime.combine(day, rule.start, PARIS)
                closes = datetime.combine(day, rule.end, PARIS)
                start = opens
                while start + duration <= closes:
                    end = start + duration
                    if start >= earliest and end <= window_end:
                        start_s, end_s = _seconds(start), _seconds(end)
                        for guichet_id in schedule.guichet_ids:
                            if not index.overlaps(guichet_id, start_s, end_s):
                                slots.append(Slot(start, end, guichet_id))
                    start += step
        day += timedelta(days=1)
    slots.sort(key=lambda s: (s.start, s.guichet_id))
    return slots


def starts_by_day(slots: Iterable[Slot]) -> list[tuple[date, list[datetime]]]:
    """What a person chooses from: each day with free starts, each start once (any guichet)."""
    days: dict[date, list[datetime]] = {}
    for slot in slots:
        starts = days.setdefault(slot.start.astimezone(PARIS).date(), [])
        if not starts or starts[-1] != slot.start:
            starts.append(slot.start)
    return sorted(days.items())


def days_of(starts: Iterable[datetime]) -> list[tuple[date, list[datetime]]]:
    """Starts grouped by local day, in order (the next free slots after a refusal)."""
    days: dict[date, list[datetime]] = {}
    for start in sorted(set(starts)):
        days.setdefault(start.astimezone(PARIS).date(), []).append(start)
    return list(days.items())


def slot_units(start: datetime, end: datetime) -> list[datetime]:
    """The unit starts a booking covers: one database row each, unique per guichet."""
    units, moment = [], start
    while moment < end:
        units.append(moment)
        moment += timedelta(minutes=SLOT_UNIT_MINUTES)
    return units
