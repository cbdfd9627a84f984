"""The arithmetic of a clinic's calendar, pure (no Django, no database): testable on its own.

Everything here works on aware datetimes and the clinic's time zone. A day's bookable time for a
therapist is the clinic's opening hours that day (none on a closure or a public holiday), within
the therapist's working hours (a therapist with none set works whenever the clinic is open), less
their time off and the appointments that hold time. :class:`ClinicCalendar` answers three
questions over the facts the services load once: why a booking cannot be (:meth:`refusal`), the
next free slot (:meth:`next_free`), and where the visits of a series go (:func:`plan_series`).

Local times are turned into instants one day at a time (:func:`instant`), so an appointment at
09:00 stays at 09:00 on the wall clock after a daylight-saving change; a local time that does not
exist that day (clocks jump forward over it) is refused, never silently shifted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
Interval = tuple[dt.datetime, dt.datetime]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# The longest and shortest appointment a person may book (form limits, product policy).
MIN_MINUTES = 5
MAX_MINUTES = 8 * 60
# The years a person can book in (anything else is a typing mistake, refused in words).
FIRST_YEAR, LAST_YEAR = 2000, 2199
# How far ahead the next free slot is looked for.
SEARCH_DAYS = 42


def instant(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime | None:
    """The UTC instant of ``at`` on ``day`` in ``tz``; None when that wall-clock time does not exist.

    A time that happens twice (clocks go back) is its first occurrence.
    """
    wall = dt.datetime.combine(day, at.replace(tzinfo=None))
    aware = wall.replace(tzinfo=tz, fold=0)
    try:
        if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
            return None
        return aware.astimezone(UTC)
    except OverflowError:  # the first or last days a datetime can hold: no calendar there
        return None


def local(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return moment.astimezone(tz)


def words(moment: dt.datetime, tz: ZoneInfo, with_day: bool = True) -> str:
    """``Tue 2026-12-01 10:30`` in the clinic's time."""
    at = moment.astimezone(tz)
    return f"{at:%a %Y-%m-%d %H:%M}" if with_day else f"{at:%H:%M}"


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def subtract(free: Sequence[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """``free`` less every busy interval (half-open: back-to-back intervals do not overlap)."""
    result = list(free)
    for b_start, b_end in sorted(busy):
        out: list[Interval] = []
        for start, end in result:
            if b_end <= start or b_start >= end:
                out.append((start, end))
                continue
            if start < b_start:
                out.append((start, b_start))
            if b_end < end:
                out.append((b_end, end))
        result = out
    return result


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    out = []
    for a_start, a_end in a:
        for b_start, b_end in b:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                out.append((start, end))
    return sorted(out)


@dataclass(frozen=True)
class Refusal:
    """Why a time cannot be booked: a stable ``code`` for programs and a sentence for people."""

    code: str  # in_the_past | clinic_closed | outside_opening_hours | therapist_unavailable | no_such_time
    #            | therapist_busy | room_busy | bad_length
    message: str


@dataclass
class ClinicCalendar:
    """The facts one question needs, loaded once: hours, closures, time off, busy times.

    ``working`` holds, per therapist id, their weekly hours (weekday -> [(start, end)]); a therapist
    absent from it works the clinic's hours. ``busy``/``room_busy`` hold the intervals of the
    appointments that hold time, per therapist and per room, with their appointment id (so that
    moving an appointment does not collide with itself).
    """

    tz: ZoneInfo
    opening: Mapping[int, Sequence[tuple[dt.time, dt.time]]]
    closed_days: Mapping[dt.date, str] = field(default_factory=dict)
    working: Mapping[int, Mapping[int, Sequence[tuple[dt.time, dt.time]]]] = field(default_factory=dict)
    time_off: Mapping[int, Sequence[Interval]] = field(default_factory=dict)
    busy: dict[int, list[tuple[dt.datetime, dt.datetime, int]]] = field(default_factory=dict)
    room_busy: dict[int, list[tuple[dt.datetime, dt.datetime, int]]] = field(default_factory=dict)
    step_minutes: int = 15
    names: Mapping[int, str] = field(default_factory=dict)  # therapist id -> name, for messages

    # -- a day's time --------------------------------------------------------------------------------

    def _intervals(self, day: dt.date, pattern: Sequence[tuple[dt.time, dt.time]]) -> list[Interval]:
        out = []
        for start, end in pattern:
            a, b = instant(day, start, self.tz), instant(day, end, self.tz)
            if a is not None and b is not None and a < b:
                out.append((a, b))
        return sorted(out)

    def open_intervals(self, day: dt.date) -> list[Interval]:
        if day in self.closed_days:
            return []
        return self._intervals(day, self.opening.get(day.weekday(), ()))

    def working_intervals(self, therapist: int, day: dt.date) -> list[Interval]:
        """When the therapist can see patients that day: open hours, their hours, less time off."""
        opened = self.open_intervals(day)
        pattern = self.working.get(therapist)
        hours = opened if pattern is None else intersect(opened, self._intervals(day, pattern.get(day.weekday(), ())))
        return subtract(hours, self.time_off.get(therapist, ()))

    def busy_intervals(self, therapist: int, ignore: int | None = None) -> list[Interval]:
        return [(s, e) for s, e, pk in self.busy.get(therapist, ()) if pk != ignore]

    def room_intervals(self, room: int, ignore: int | None = None) -> list[Interval]:
        return [(s, e) for s, e, pk in self.room_busy.get(room, ()) if pk != ignore]

    def free_intervals(self, therapist: int, day: dt.date, room: int | None = None,
                       ignore: int | None = None) -> list[Interval]:
        free = subtract(self.working_intervals(therapist, day), self.busy_intervals(therapist, ignore))
        if room is not None:
            free = subtract(free, self.room_intervals(room, ignore))
        return free

    def hold(self, therapist: int, room: int | None, start: dt.datetime, end: dt.datetime, pk: int = 0) -> None:
        """Count a newly placed appointment as busy (series planning places one after another)."""
        self.busy.setdefault(therapist, []).append((start, end, pk))
        if room is not None:
            self.room_busy.setdefault(room, []).append((start, end, pk))

    # -- the questions -------------------------------------------------------------------------------

    def name(self, therapist: int) -> str:
        return self.names.get(therapist, "The therapist")

    def refusal(self, therapist: int, start: dt.datetime, end: dt.datetime, *, room: int | None = None,
                now: dt.datetime | None = None, ignore: int | None = None) -> Refusal | None:
        """The first reason the time cannot be booked, or None when it can."""
        minutes = (end - start).total_seconds() / 60
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            return Refusal("bad_length", f"An appointment lasts {MIN_MINUTES} minutes to {MAX_MINUTES // 60} hours.")
        if now is not None and start < now:
            return Refusal("in_the_past", f"{words(start, self.tz)} is in the past.")
        day = start.astimezone(self.tz).date()
        if end.astimezone(self.tz).date() != day and end.astimezone(self.tz).time() != dt.time(0):
            return Refusal("outside_opening_hours", "An appointment starts and ends on the same day.")
        if day in self.closed_days:
            return Refusal("clinic_closed", f"The clinic is closed on {day:%a %Y-%m-%d} ({self.closed_days[day]}).")
        opened = self.open_intervals(day)
        if not any(a <= start and end <= b for a, b in opened):
            hours = ", ".join(f"{words(a, self.tz, False)}-{words(b, self.tz, False)}" for a, b in opened)
            when = f"{words(start, self.tz)}-{words(end, self.tz, False)}"
            return Refusal("outside_opening_hours", f"{when} is outside opening hours "
                                                    f"({hours or 'closed all day'} on {WEEKDAYS[day.weekday()]}s).")
        if not any(a <= start and end <= b for a, b in self.working_intervals(therapist, day)):
            return Refusal("therapist_unavailable", f"{self.name(therapist)} is not working at "
                                                    f"{words(start, self.tz)}-{words(end, self.tz, False)} "
                                                    "(working hours or time off).")
        if any(overlaps((start, end), b) for b in self.busy_intervals(therapist, ignore)):
            return Refusal("therapist_busy", f"{self.name(therapist)} already has an appointment at "
                                             f"{words(start, self.tz)}-{words(end, self.tz, False)}.")
        if room is not None and any(overlaps((start, end), b) for b in self.room_intervals(room, ignore)):
            return Refusal("room_busy", f"The room is taken at {words(start, self.tz)}-{words(end, self.tz, False)}.")
        return None

    def on_grid(self, moment: dt.datetime) -> dt.datetime:
        """The first step of the calendar grid (local time) at or after ``moment``."""
        at = moment.astimezone(self.tz)
        midnight = instant(at.date(), dt.time(0), self.tz) or at
        since = (moment - midnight).total_seconds() / 60
        steps = -(-since // self.step_minutes)
        return midnight + dt.timedelta(minutes=steps * self.step_minutes)

    def next_free(self, therapist: int, minutes: int, after: dt.datetime, *, room: int | None = None,
                  days: int = SEARCH_DAYS, ignore: int | None = None, until: dt.date | None = None) -> Interval | None:
        """The first bookable ``minutes`` for the therapist (and room) at or after ``after``."""
        length = dt.timedelta(minutes=minutes)
        first = after.astimezone(self.tz).date()
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            if until is not None and day > until:
                return None
            for start, end in self.free_intervals(therapist, day, room, ignore):
                begin = self.on_grid(max(start, after))
                if begin + length <= end:
                    return begin, begin + length
        return None


@dataclass(frozen=True)
class Placed:
    day: dt.date
    at: dt.time
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class Unplaced:
    day: dt.date
    at: dt.time
    reason: str
    code: str
    alternative: Interval | None = None  # the next free time that day, when one exists


@dataclass(frozen=True)
class Limit:
    """A date or a count a series may not pass, and the words for it."""

    last_day: dt.date | None = None
    last_day_reason: str = ""
    visits: int | None = None
    visits_reason: str = ""


def series_dates(slots: Sequence[tuple[int, dt.time]], first_day: dt.date, count: int) -> list[tuple[dt.date, dt.time]]:
    """The first ``count`` (day, time) on the weekly ``slots`` from ``first_day`` on, in date order."""
    if not slots or count <= 0:
        return []
    ordered = sorted(set(slots))
    monday = first_day - dt.timedelta(days=first_day.weekday())
    out: list[tuple[dt.date, dt.time]] = []
    week = 0
    while len(out) < count:
        for weekday, at in ordered:
            day = monday + dt.timedelta(weeks=week, days=weekday)
            if day >= first_day and len(out) < count:
                out.append((day, at))
        week += 1
    return out


def plan_series(calendar: ClinicCalendar, therapist: int, slots: Sequence[tuple[int, dt.time]], minutes: int,
                first_day: dt.date, count: int, *, limits: Sequence[Limit] = (), room: int | None = None,
                now: dt.datetime | None = None) -> tuple[list[Placed], list[Unplaced]]:
    """Place ``count`` visits on the weekly slots from ``first_day``: what fits, and what does not and why.

    A visit is not placed past any limit's last day (the plan's re-evaluation or re-certification
    date, the authorisation's end) or once a limit's visits are used up (the authorisation), nor
    where :meth:`ClinicCalendar.refusal` says no; each placed visit then counts as busy for the next.
    """
    placed: list[Placed] = []
    unplaced: list[Unplaced] = []
    for day, at in series_dates(slots, first_day, count):
        start = instant(day, at, calendar.tz)
        if start is None:
            unplaced.append(Unplaced(day, at, f"{at:%H:%M} does not exist on {day:%Y-%m-%d} (the clocks change).",
                                     "no_such_time"))
            continue
        end = start + dt.timedelta(minutes=minutes)
        past = next((lim for lim in limits if lim.last_day is not None and day > lim.last_day), None)
        if past is not None:
            unplaced.append(Unplaced(day, at, past.last_day_reason, "past_limit"))
            continue
        used_up = next((lim for lim in limits if lim.visits is not None and len(placed) >= lim.visits), None)
        if used_up is not None:
            unplaced.append(Unplaced(day, at, used_up.visits_reason, "authorization_used"))
            continue
        refused = calendar.refusal(therapist, start, end, room=room, now=now)
        if refused is not None:
            alternative = None
            if refused.code in ("therapist_busy", "room_busy"):
                # The first free time that day after the one asked for, else the first that day.
                midnight = instant(day, dt.time(0), calendar.tz) or start
                for after in (start, midnight):
                    alternative = calendar.next_free(therapist, minutes, max(after, now or after), room=room, days=1)
                    if alternative is not None and alternative[0].astimezone(calendar.tz).date() == day:
                        break
                    alternative = None
            unplaced.append(Unplaced(day, at, refused.message, refused.code, alternative))
            continue
        placed.append(Placed(day, at, start, end))
        calendar.hold(therapist, room, start, end)
    return placed, unplaced
