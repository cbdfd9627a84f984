"""What the calendar page draws, computed once in Python so the template only prints it.

A day or week of one therapist, or of the whole clinic (a column per therapist), in a fixed
number of queries whatever the number of appointments: the staff, the appointments of the period
with their patients, and the facts of :func:`services.load_calendar` (hours, closures, time off).
Appointments and free time are placed on a CSS grid of ``step``-minute rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from palpate.clinics.models import Membership
from palpate.scheduling import calendar as cal
from palpate.scheduling import services
from palpate.scheduling.models import HOLDS_TIME, Appointment, ScheduleSettings

DEFAULT_DAY = (dt.time(8), dt.time(18))


@dataclass
class Block:
    """An appointment or a stretch of free time in a column."""

    row: int  # first grid row (1-based)
    span: int
    kind: str  # appointment | free
    label: str
    detail: str
    url: str
    css: str = ""
    time: str = ""


@dataclass
class Column:
    title: str
    subtitle: str
    day: dt.date
    therapist_id: int
    blocks: list[Block] = field(default_factory=list)
    closed: str = ""
    others: list[Appointment] = field(default_factory=list)  # cancelled and missed (not in the grid)


@dataclass
class Page:
    view: str  # day | week
    first: dt.date
    last: dt.date
    therapist: Membership | None
    staff: list[Membership]
    columns: list[Column]
    hours: list[tuple[int, str]]  # (grid row, "09:00") for each full hour
    rows: int
    step: int
    appointments: list[Appointment]
    table: list[tuple[dt.date, str, list[Column]]] = field(default_factory=list)  # clinic week: day -> cells

    @property
    def patient_ids(self) -> list[int]:
        return sorted({a.patient_id for a in self.appointments})


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def _span_of_days(settings: ScheduleSettings, opening: dict[int, list[tuple[dt.time, dt.time]]],
                  days: list[dt.date]) -> tuple[dt.time, dt.time]:
    hours = [h for d in days for h in opening.get(d.weekday(), [])]
    if not hours:
        return DEFAULT_DAY
    return min(h[0] for h in hours), max(h[1] for h in hours)


def _minutes(at: dt.time) -> int:
    return at.hour * 60 + at.minute


def book_url(therapist_id: int, start: dt.datetime, tz: dt.tzinfo) -> str:
    at = start.astimezone(tz)
    return reverse("scheduling:book") + "?" + urlencode(
        {"therapist": therapist_id, "date": at.date().isoformat(), "time": at.strftime("%H:%M")})


def build(settings: ScheduleSettings, view: str, day: dt.date, therapist_id: int | None,
          now: dt.datetime | None = None) -> Page:
    tz = services.zone(settings)
    staff = services.treating_staff(settings.clinic_id)
    therapist = next((m for m in staff if m.user_id == therapist_id), None)
    if view == "week":
        first, last = week_of(day)
        opening_days = [first + dt.timedelta(days=i) for i in range(7)]
    else:
        first = last = day
        opening_days = [day]
    shown = [therapist] if therapist else staff
    ids = [m.user_id for m in shown]
    starts = cal.instant(first, dt.time(0), tz)
    ends = cal.instant(last + dt.timedelta(days=1), dt.time(0), tz)
    appointments = list(
        Appointment.objects.filter(clinic_id=settings.clinic_id, therapist_id__in=ids, starts_at__lt=ends,
                                   ends_at__gt=starts)
        .select_related("patient", "room")
        .only("id", "patient_id", "therapist_id", "room_id", "starts_at", "ends_at", "kind", "status", "reason",
              "patient__given_name", "patient__family_name", "patient__record_number", "room__name")
        .order_by("starts_at"))
    names = {m.user_id: m.user.display_name() for m in staff}
    calendar = services.load_calendar(settings, first, last, therapists=ids, names=names, appointments=appointments)
    # Weekends with no opening hours are left out of a week.
    days = [d for d in opening_days if calendar.opening.get(d.weekday()) or view == "day"] or opening_days[:5]
    opens, closes = _span_of_days(settings, calendar.opening, days)
    step = settings.slot_minutes or 15
    bookable_from = cal.ClinicCalendar(tz=tz, opening={}, step_minutes=step).on_grid(now or timezone.now())
    top = _minutes(opens) // step * step
    bottom = -(-_minutes(closes) // step) * step
    rows = max(1, (bottom - top) // step)
    hours = [((m - top) // step + 1, f"{m // 60:02d}:00") for m in range(top, bottom, 60 if step <= 60 else step)
             if m % 60 == 0]

    by_key: dict[tuple[int, dt.date], list[Appointment]] = {}
    for a in appointments:
        by_key.setdefault((a.therapist_id, a.starts_at.astimezone(tz).date()), []).append(a)

    def place(start: dt.datetime, end: dt.datetime, day: dt.date) -> tuple[int, int] | None:
        midnight = cal.instant(day, dt.time(0), tz)
        if midnight is None:
            return None
        begin = int((start - midnight).total_seconds() // 60)
        finish = int((end - midnight).total_seconds() // 60)
        begin, finish = max(begin, top), min(finish, bottom)
        if finish <= begin:
            return None
        return (begin - top) // step + 1, max(1, -(-(finish - begin) // step))

    def column(member: Membership, day: dt.date, title: str, subtitle: str) -> Column:
        col = Column(title, subtitle, day, member.user_id, closed=calendar.closed_days.get(day, ""))
        for start, end in calendar.free_intervals(member.user_id, day):
            start = max(start, bookable_from)  # free time in the past cannot be booked: not shown
            if (end - start) < dt.timedelta(minutes=cal.MIN_MINUTES):
                continue
            spot = place(start, end, day)
            if spot:
                when = f"{cal.words(start, tz, False)}-{cal.words(end, tz, False)}"
                col.blocks.append(Block(spot[0], spot[1], "free", "Free", when, book_url(member.user_id, start, tz),
                                        "free", cal.words(start, tz, False)))
        for a in by_key.get((member.user_id, day), []):
            if a.status not in HOLDS_TIME:
                col.others.append(a)
                continue
            spot = place(a.starts_at, a.ends_at, day)
            if spot:
                when = f"{cal.words(a.starts_at, tz, False)}-{cal.words(a.ends_at, tz, False)}"
                room = f" · {a.room.name}" if a.room_id else ""
                col.blocks.append(Block(spot[0], spot[1], "appointment",
                                        f"{a.patient.family_name}, {a.patient.given_name}",
                                        f"{when} · {a.get_kind_display()}{room} · {a.get_status_display()}",
                                        reverse("scheduling:appointment", args=[a.pk]), f"appt {a.status} {a.kind}",
                                        cal.words(a.starts_at, tz, False)))
        col.blocks.sort(key=lambda b: b.row)
        return col

    columns: list[Column] = []
    table: list[tuple[dt.date, str, list[Column]]] = []
    if therapist is not None:
        columns = [column(therapist, d, f"{d:%a %d %b}", "") for d in days]
    elif view == "day":
        columns = [column(m, day, m.user.display_name(), m.get_role_display()) for m in staff]
    else:
        table = [(d, calendar.closed_days.get(d, ""), [column(m, d, m.user.display_name(), "") for m in staff])
                 for d in days]
    return Page(view, first, last, therapist, staff, columns, hours, rows, step, appointments, table)
