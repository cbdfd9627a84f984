"""What the start page (``palpate.today``) shows of the clinic's day, in a fixed number of queries.

A therapist sees their own appointments of the day in order, with who is waiting (checked in)
and for how long; the front desk and owners see the whole clinic's day, to check patients in.
Everyone who schedules sees the payer authorisations about to run out (visits or dates).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from palpate.clinics.actor import Actor
from palpate.clinics.roles import CLINICAL_WRITE, PATIENT_VIEW
from palpate.lib.models_common import RecordStatus
from palpate.patients.models import EpisodeStatus
from palpate.scheduling import calendar as cal
from palpate.scheduling.models import OPEN, Appointment, AppointmentStatus, Authorization
from palpate.scheduling.services import is_treating, schedule_settings, zone
from palpate.visits.models import Visit

# POLICY (product default): an authorisation is "running out" with this many visits left or
# within this many days of its end, early enough to ask the payer for more before the last visit.
RUNNING_OUT_VISITS = 2
RUNNING_OUT_DAYS = 14
LIST_LIMIT = 40


@dataclass
class DayRow:
    appointment: Appointment
    time: str
    waiting_minutes: int | None  # checked in and waiting since, in minutes


@dataclass
class DayBoard:
    rows: list[DayRow] = field(default_factory=list)
    mine: bool = False
    running_out: list[Any] = field(default_factory=list)  # authorisations annotated with used, booked, left
    tz: str = ""

    @property
    def waiting(self) -> list[DayRow]:
        return [r for r in self.rows if r.appointment.status == AppointmentStatus.ARRIVED]

    @property
    def patients(self) -> list[Any]:
        return [r.appointment.patient for r in self.rows] + [a.patient for a in self.running_out]


def with_use(authorizations: QuerySet[Authorization]) -> QuerySet[Authorization]:
    """Annotate ``used`` (signed notes in the dates) and ``booked`` (open appointments in them): one query."""
    used = (Visit.objects.filter(clinic_id=OuterRef("clinic_id"), episode_id=OuterRef("episode_id"),
                                 status=RecordStatus.SIGNED, visit_date__gte=OuterRef("starts_on"),
                                 visit_date__lte=OuterRef("ends_on"))
            .order_by().values("episode_id").annotate(n=Count("id")).values("n"))
    # Booked: open appointments inside the dates (their UTC day: the clinic is closed around midnight).
    booked = (Appointment.objects.filter(clinic_id=OuterRef("clinic_id"), episode_id=OuterRef("episode_id"),
                                         status__in=OPEN, starts_at__date__gte=OuterRef("starts_on"),
                                         starts_at__date__lte=OuterRef("ends_on"))
              .exclude(visit__status=RecordStatus.SIGNED)
              .order_by().values("episode_id").annotate(n=Count("id")).values("n"))
    zero = Value(0, output_field=IntegerField())
    return authorizations.annotate(used=Coalesce(Subquery(used, output_field=IntegerField()), zero),
                                   booked=Coalesce(Subquery(booked, output_field=IntegerField()), zero))


def running_out(clinic_id: int, today: dt.date) -> list[Any]:
    """Authorisations in force whose visits (used or booked) or dates are nearly gone: one query."""
    found = list(with_use(Authorization.objects.filter(clinic_id=clinic_id, ends_on__gte=today, starts_on__lte=today,
                                                       episode__status="active"))
                 .filter(Q(ends_on__lte=today + dt.timedelta(days=RUNNING_OUT_DAYS))
                         | Q(visits__lte=RUNNING_OUT_VISITS + F("used") + F("booked")))
                 .select_related("patient").only("id", "patient_id", "episode_id", "clinic_id", "reference", "visits",
                                                 "starts_on", "ends_on", "patient__given_name", "patient__family_name")
                 .order_by("ends_on")[:LIST_LIMIT])
    for authorization in found:
        authorization.left = authorization.visits - authorization.used - authorization.booked
    return found


def day_board(actor: Actor, now: dt.datetime | None = None) -> DayBoard:
    if not actor.can(PATIENT_VIEW):
        return DayBoard()
    now = now or timezone.now()
    tz = zone(schedule_settings(actor.clinic))
    today = now.astimezone(tz).date()
    starts = cal.instant(today, dt.time(0), tz)
    ends = cal.instant(today + dt.timedelta(days=1), dt.time(0), tz)
    mine = actor.can(CLINICAL_WRITE) and is_treating(actor)
    query = (Appointment.objects.filter(clinic=actor.clinic, starts_at__gte=starts, starts_at__lt=ends)
             .exclude(status__in=(AppointmentStatus.CANCELLED,))
             # Still-open bookings of a discharged episode leave the day (no visit can start on it).
             .exclude(status__in=OPEN, episode__status=EpisodeStatus.DISCHARGED)
             .select_related("patient", "therapist", "room")
             .only("id", "patient_id", "therapist_id", "room_id", "visit_id", "starts_at", "ends_at", "kind", "status",
                   "status_changed_at", "patient__given_name", "patient__family_name", "patient__record_number",
                   "therapist__first_name", "therapist__last_name", "therapist__username", "room__name")
             .order_by("starts_at", "id"))
    if mine:
        query = query.filter(therapist=actor.user)
    rows = []
    for a in query[:LIST_LIMIT * 3]:
        waiting = None
        if a.status == AppointmentStatus.ARRIVED and a.status_changed_at:
            waiting = max(0, int((now - a.status_changed_at).total_seconds() // 60))
        rows.append(DayRow(a, cal.words(a.starts_at, tz, False), waiting))
    board = DayBoard(rows=rows, mine=mine, tz=tz.key)
    board.running_out = running_out(actor.clinic.pk, today)
    return board
