"""What the calendar page draws, computed once in Python so the template only prints it.

A day or week of one therapist, or of the whole clinic (a column per therapist), in a fixed
number of queries whatever the number of appointments: the staff, the appointments of the period
with their patients, and the facts of :func:`services.load_calendar` (hours, closures, time off).
Appointments and free time are placed on a CSS grid of ``step``-minute rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html import escape
from typing import NamedTuple

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from palpate.clinics.models import Membership
from palpate.scheduling import calendar as cal
from palpate.scheduling import services
from palpate.scheduling.models import (
    HOLDS_TIME,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    ScheduleSettings,
)

DEFAULT_DAY = (dt.time(8), dt.time(18))
KINDS = dict(AppointmentKind.choices)
STATUSES = dict(AppointmentStatus.choices)


class Row(NamedTuple):
    """What the calendar reads of an appointment."""

    pk: int
    patient_id: int
    therapist_id: int
    room_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str
    status: str
    family_name: str
    given_name: str
    room_name: str | None

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

ROW_FIELDS = ("id", "patient_id", "therapist_id", "room_id", "starts_at", "ends_at", "kind", "status",
              "patient__family_name", "patient__given_name", "room__name")


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


def _grid_block(b: Block) -> str:
    """An absolutely placed block of the day or week grid (label and detail are escaped already)."""
    aria = f"Free {b.detail}: book" if b.kind == "free" else f"{b.label}, {b.detail}"
    return (f'<a role="listitem" class="cal-block {b.css}" style="grid-row: {b.row} / span {b.span}" href="{b.url}" '
            f'aria-label="{aria}"><strong>{b.label}</strong>{b.detail}</a>')


def _list_block(b: Block) -> str:
    """A line of the clinic week's table."""
    text = f"Free {b.detail}" if b.kind == "free" else f"{b.time} {b.label}"
    return f'<li><a class="cal-block {b.css}" href="{b.url}">{text}</a></li>'


@dataclass
class Column:
    title: str
    subtitle: str
    day: dt.date
    therapist_id: int
    blocks: list[Block] = field(default_factory=list)
    closed: str = ""
    others: list[Row] = field(default_factory=list)  # cancelled and missed (not in the grid)
    html: str = ""  # the blocks, drawn once in Python


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
    appointments: list[Row]
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
    # Plain rows, not model instances: a full clinic week has hundreds, and the page only prints them.
    appointments = [Row(*values) for values in
                    Appointment.objects.filter(clinic_id=settings.clinic_id, therapist_id__in=ids, starts_at__lt=ends,
                                               ends_at__gt=starts)
                    .order_by("starts_at").values_list(*ROW_FIELDS)]
    names = {m.user_id: m.user.display_name() for m in staff}
    calendar = services.load_calendar(settings, first, last, therapists=ids, names=names,
                                      appointments=appointments)  # type: ignore[arg-type]
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

    by_key: dict[tuple[int, dt.date], list[Row]] = {}
    for a in appointments:
        by_key.setdefault((a.therapist_id, a.starts_at.astimezone(tz).date()), []).append(a)
    midnights = {d: cal.instant(d, dt.time(0), tz) for d in days}
    # URLs built once and completed per block (reverse() for each of hundreds of blocks is most of the time).
    appointment_url = reverse("scheduling:appointment", args=[1])[:-2]
    book_base = reverse("scheduling:book")
    grid_view = view == "day" or therapist is not None

    def clock(moment: dt.datetime) -> str:
        at = moment.astimezone(tz)
        return f"{at.hour:02d}:{at.minute:02d}"

    def place(start: dt.datetime, end: dt.datetime, day: dt.date) -> tuple[int, int] | None:
        midnight = midnights.get(day)
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
                begins = clock(start)
                url = (f"{book_base}?therapist={member.user_id}&amp;date={day.isoformat()}"
                       f"&amp;time={begins.replace(':', '%3A')}")
                col.blocks.append(Block(spot[0], spot[1], "free", "Free", f"{begins}-{clock(end)}", url, "free", begins))
        for a in by_key.get((member.user_id, day), []):
            if a.status not in HOLDS_TIME:
                col.others.append(a)
                continue
            spot = place(a.starts_at, a.ends_at, day)
            if spot:
                begins = clock(a.starts_at)
                room = f" · {escape(a.room_name)}" if a.room_id else ""
                col.blocks.append(Block(spot[0], spot[1], "appointment", escape(f"{a.family_name}, {a.given_name}"),
                                        f"{begins}-{clock(a.ends_at)} · {KINDS[a.kind]}{room} · {STATUSES[a.status]}",
                                        f"{appointment_url}{a.pk}/", f"appt {a.status} {a.kind}", begins))
        col.blocks.sort(key=lambda b: b.row)
        col.html = mark_safe("".join(_grid_block(b) if grid_view else _list_block(b) for b in col.blocks))  # noqa: S308
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
