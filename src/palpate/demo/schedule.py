"""Demo appointments: two weeks of a clinic's calendar, written through the scheduling services.

What it writes for each demo clinic (deterministic for a given day):
- the clinic's scheduling settings (time zone, US public holidays), opening hours Monday to
  Friday 08:00-18:00 and Saturday 09:00-13:00, three rooms, and a second therapist and a front
  desk member with their working hours;
- the past: every signed visit note of the demo history in the last two weeks gets the appointment
  it was seen at, completed and linked to its note; a few no-shows and late cancellations, with
  their reasons;
- today: the note being written today is in session from its appointment, one patient has checked
  in and others are booked for later;
- the future: each patient with a signed plan of care in force has the series booked from the plan
  ("Book the series"), and new patients have their evaluation booked with the second therapist.

Past appointments are booked "as of" a moment before them (the services take ``now``), so they pass
the same checks as any booking: a history visit on a public holiday, say, is left without one.
A clinic that already has appointments is left alone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from palpate.accounts.models import User
from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic, Membership
from palpate.clinics.roles import Role
from palpate.lib.models_common import RecordStatus
from palpate.patients.models import Episode, EpisodeStatus
from palpate.plans.models import PlanOfCare
from palpate.scheduling import services
from palpate.scheduling.calendar import instant
from palpate.scheduling.models import Appointment, AppointmentKind, OpeningHours, Room, WorkingHours
from palpate.visits.models import Visit

PAST_DAYS = 14


@dataclass(frozen=True)
class ClinicStaff:
    time_zone: str
    second_therapist: tuple[str, str, str]  # username, first and last name
    front_desk: tuple[str, str, str]


STAFF = {
    "harbor": ClinicStaff("America/New_York", ("harbor-pt2", "Priya", "Shah"), ("harbor-desk", "Dana", "Lee")),
    "summit": ClinicStaff("America/Denver", ("summit-pt2", "Marcus", "Webb"), ("summit-desk", "Rosa", "Diaz")),
}
EXTRA_USERNAMES = [name for staff in STAFF.values() for name in (staff.second_therapist[0], staff.front_desk[0])]

# Weekly hours: (weekday, opens, closes).
OPENING = [(d, dt.time(8), dt.time(18)) for d in range(5)] + [(5, dt.time(9), dt.time(13))]
EARLY = [(d, dt.time(8), dt.time(16)) for d in range(5)]
LATE = [(d, dt.time(10), dt.time(18)) for d in range(5)] + [(5, dt.time(9), dt.time(13))]
ROOMS = ["Room 1", "Room 2", "Gym"]
# Series from plans: (weekday, time) pairs, taken in turn by the patients.
SERIES_SLOTS = [((0, "09:00"), (3, "09:00")), ((1, "10:00"), (4, "10:00")), ((0, "13:00"), (2, "13:00")),
                ((1, "14:00"), (3, "14:00")), ((2, "08:00"), (4, "08:00")), ((0, "15:00"), (3, "15:00")),
                ((1, "08:00"), (4, "13:00")), ((2, "15:00"), (4, "15:00"))]
NO_SHOW_REASONS = ["No answer by phone; message left.", "Forgot the appointment, rebooking next week.",
                   "Did not come; car trouble reported the next day."]
LATE_CANCEL_REASONS = ["Called in the morning: child ill at home.", "Cancelled an hour before: stuck at work."]


def _member(clinic: Clinic, person: tuple[str, str, str], role: str, password: str) -> User:
    username, first, last = person
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
    if created:
        user.set_password(password)
        user.save()
    Membership.objects.get_or_create(clinic=clinic, user=user, defaults={"role": role})
    return user


def _at(settings: object, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    moment = instant(day, dt.time(hour, minute), services.zone(settings))  # type: ignore[arg-type]
    assert moment is not None
    return moment


def _book(actor: Actor, episode: Episode, therapist: User, start: dt.datetime, *, minutes: int = 45,
          kind: str = AppointmentKind.TREATMENT, room: Room | None = None, now: dt.datetime) -> Appointment | None:
    booking = services.Booking(episode=episode, therapist_id=therapist.pk, starts_at=start, minutes=minutes, kind=kind,
                               room_id=room.pk if room else None, confirm_over_authorization=True)
    try:
        return services.do_book(actor, booking, now=now)
    except services.SchedulingRefused:
        return None  # a closure, a holiday or a full hour: a real front desk would pick another time


def seed_schedule(clinic: Clinic, therapist_actor: Actor, today: dt.date, password: str) -> int:
    """Write the demo calendar of ``clinic``; the number of appointments written (0 if it has some)."""
    if Appointment.objects.filter(clinic=clinic).exists():
        return 0
    staff = STAFF.get(clinic.slug, STAFF["harbor"])
    with transaction.atomic():
        settings = services.schedule_settings(clinic)
        settings.time_zone, settings.country = staff.time_zone, "US"
        settings.save()
        if not OpeningHours.objects.filter(clinic=clinic).exists():
            OpeningHours.objects.bulk_create([OpeningHours(clinic=clinic, weekday=d, opens=a, closes=b)
                                              for d, a, b in OPENING])
        rooms = [Room.objects.get_or_create(clinic=clinic, name=name)[0] for name in ROOMS]
        therapist = therapist_actor.user
        second = _member(clinic, staff.second_therapist, Role.THERAPIST, password)
        desk_user = _member(clinic, staff.front_desk, Role.FRONT_DESK, password)
        for user, hours in ((therapist, EARLY), (second, LATE)):
            if not WorkingHours.objects.filter(clinic=clinic, therapist=user).exists():
                WorkingHours.objects.bulk_create([WorkingHours(clinic=clinic, therapist=user, weekday=d, starts=a, ends=b)
                                                  for d, a, b in hours])
    desk = Actor.of(Membership.objects.select_related("user", "clinic").get(clinic=clinic, user=desk_user))
    written = 0
    written += _past(clinic, settings, desk, therapist_actor, therapist, second, rooms, today)
    written += _today(clinic, settings, desk, therapist_actor, therapist, second, rooms, today)
    written += _future(clinic, settings, desk, therapist, second, rooms, today)
    return written


def _past(clinic: Clinic, settings: object, desk: Actor, therapist_actor: Actor, therapist: User, second: User,
          rooms: list[Room], today: dt.date) -> int:
    """Completed appointments for the signed notes of the last two weeks; some no-shows and late cancellations."""
    written = 0
    slot_of_day: dict[dt.date, int] = defaultdict(int)
    visits = (Visit.objects.filter(clinic=clinic, status=RecordStatus.SIGNED, visit_date__lt=today,
                                   visit_date__gte=today - dt.timedelta(days=PAST_DAYS))
              .select_related("episode", "patient").order_by("visit_date", "patient_id"))
    for visit in visits:
        index = slot_of_day[visit.visit_date]
        slot_of_day[visit.visit_date] += 1
        start = _at(settings, visit.visit_date, (9 if visit.visit_date.weekday() == 5 else 8) + index, 0)
        booked_as_of = start - dt.timedelta(days=3)
        with transaction.atomic():
            appointment = _book(desk, visit.episode, therapist, start, room=rooms[index % 2], now=booked_as_of)
            if appointment is None:
                continue
            services.complete_for_signed_visit(therapist_actor, visit)
        written += 1
    # No-shows and late cancellations with the second therapist, on weekdays of the past week.
    episodes = list(Episode.objects.filter(clinic=clinic, status=EpisodeStatus.ACTIVE).order_by("-patient_id")[:5])
    missed_days = [d for d in (today - dt.timedelta(days=n) for n in range(1, 8)) if d.weekday() < 5][:5]
    for number, (episode, day) in enumerate(zip(episodes, missed_days, strict=False)):
        start = _at(settings, day, 11 + number % 3, 0)
        appointment = _book(desk, episode, second, start, minutes=60, kind=AppointmentKind.EVALUATION,
                            now=start - dt.timedelta(days=4))
        if appointment is None:
            continue
        if number % 2 == 0:
            services.do_no_show(desk, appointment, NO_SHOW_REASONS[number // 2 % len(NO_SHOW_REASONS)],
                                now=start + dt.timedelta(minutes=20))
        else:
            services.do_cancel(desk, appointment, LATE_CANCEL_REASONS[number // 2 % len(LATE_CANCEL_REASONS)],
                               by_patient=True, now=start - dt.timedelta(hours=3))
        written += 1
    return written


def _today(clinic: Clinic, settings: object, desk: Actor, therapist_actor: Actor, therapist: User, second: User,
           rooms: list[Room], today: dt.date) -> int:
    """The day in progress: the draft note's appointment in session, one patient checked in, others booked."""
    written = 0
    opening = _at(settings, today, 7, 0)
    drafts = list(Visit.objects.filter(clinic=clinic, status=RecordStatus.DRAFT, visit_date=today)
                  .select_related("episode"))
    for index, draft in enumerate(drafts):
        start = _at(settings, today, 8 + index, 0)
        appointment = _book(desk, draft.episode, therapist, start, room=rooms[0], now=opening)
        if appointment is None:
            continue
        services.do_check_in(desk, appointment, now=start - dt.timedelta(minutes=5))
        services.do_start(therapist_actor, appointment, now=start + dt.timedelta(minutes=1))
        written += 1
    busy = {d.episode_id for d in drafts}
    planned = (PlanOfCare.objects.filter(clinic=clinic, status=RecordStatus.SIGNED, superseded_by__isnull=True,
                                         episode__status=EpisodeStatus.ACTIVE)
               .exclude(episode_id__in=busy).select_related("episode").order_by("patient_id")[:3])
    for index, plan in enumerate(planned):
        start = _at(settings, today, 10 + 2 * index, 0)
        appointment = _book(desk, plan.episode, therapist, start, room=rooms[1], now=opening)
        if appointment is None:
            continue
        if index == 0:
            services.do_check_in(desk, appointment, now=start - dt.timedelta(minutes=10))
        written += 1
    return written


def _future(clinic: Clinic, settings: object, desk: Actor, therapist: User, second: User, rooms: list[Room],
            today: dt.date) -> int:
    """The series from each signed plan in force, and evaluations for new patients, from tomorrow on."""
    written = 0
    now = _at(settings, today, 7, 0)
    plans = (PlanOfCare.objects.filter(clinic=clinic, status=RecordStatus.SIGNED, superseded_by__isnull=True,
                                       episode__status=EpisodeStatus.ACTIVE)
             .select_related("episode").order_by("patient_id"))
    for index, plan in enumerate(plans):
        slots = [(w, dt.time.fromisoformat(t)) for w, t in SERIES_SLOTS[index % len(SERIES_SLOTS)]]
        request = services.SeriesRequest(plan=plan, therapist_id=therapist.pk, slots=slots,
                                         first_day=today + dt.timedelta(days=1), minutes=45, room_id=rooms[index % 2].pk)
        written += len(services.do_book_series(desk, request, now=now).appointments)
    with_history = PlanOfCare.objects.filter(clinic=clinic).values("episode_id")
    new_episodes = list(Episode.objects.filter(clinic=clinic, status=EpisodeStatus.ACTIVE)
                        .exclude(id__in=with_history).order_by("patient_id")[:8])
    day, hour = today, 10
    for episode in new_episodes:
        day += dt.timedelta(days=1)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        if _book(desk, episode, second, _at(settings, day, hour, 0), minutes=60, kind=AppointmentKind.EVALUATION,
                 room=rooms[2], now=now) is not None:
            written += 1
        hour = 10 if hour >= 15 else hour + 2
    return written
