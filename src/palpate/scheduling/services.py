"""Every write to the schedule: ``check_*`` validates, ``do_*`` changes, audits and queues side effects.

The web pages, the JSON API and the FHIR API (interop, Appointment) all end here: book, move, cancel, check in,
record a no-show, start the visit, complete. A refusal is a typed exception
(:class:`SchedulingRefused` and its subclasses) that says what is wrong in words, carries a stable
``code`` and, where a time was the problem, the next free slot.

No double booking: the check here runs inside the write transaction (on SQLite, whose IMMEDIATE
transactions serialise writers, that alone is enough); the database refuses an overlap whatever
the code does (an exclusion constraint on PostgreSQL, triggers on SQLite: migration 0002). When
two bookings race on PostgreSQL the second fails on the constraint and is reported exactly like a
slot found taken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_calendars
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic, Membership
from palpate.clinics.roles import CLINIC_MANAGE, CLINICAL_WRITE, PATIENT_WRITE, Role
from palpate.lib.models_common import RecordStatus
from palpate.lib.voiding import check_void_reason, check_voidable, mark_voided
from palpate.patients.models import Episode, EpisodeStatus, Patient
from palpate.plans.models import PlanOfCare
from palpate.scheduling import calendar as cal
from palpate.scheduling.models import (
    HOLDS_TIME,
    OPEN,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Authorization,
    CalendarFeed,
    Closure,
    OpeningHours,
    Room,
    ScheduleSettings,
    Series,
    TimeOff,
    WorkingHours,
)
from palpate.visits.models import Visit

# Roles whose members are booked with patients (owners too, once they have working hours).
TREATING_ROLES = (Role.THERAPIST, Role.ASSISTANT)


# -- refusals -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A bookable time: the next free slot offered with a refusal."""

    therapist_id: int
    therapist_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    room_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"therapist_id": self.therapist_id, "therapist": self.therapist_name,
                "starts_at": self.starts_at.isoformat(), "ends_at": self.ends_at.isoformat(),
                "room_id": self.room_id}


class SchedulingRefused(Exception):
    """The schedule cannot change as asked: ``message`` says why, ``next_free`` offers another time."""

    code = "refused"

    def __init__(self, message: str, next_free: Slot | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.next_free = next_free
        if code:
            self.code = code

    def as_json(self) -> dict[str, Any]:
        return {"detail": self.message, "code": self.code,
                "next_free": self.next_free.as_json() if self.next_free else None}


class InThePast(SchedulingRefused):
    code = "in_the_past"


class ClinicClosed(SchedulingRefused):
    code = "clinic_closed"


class OutsideOpeningHours(SchedulingRefused):
    code = "outside_opening_hours"


class TherapistUnavailable(SchedulingRefused):
    code = "therapist_unavailable"


class SlotTaken(SchedulingRefused):
    """The therapist already has an appointment then (found by the check or by the database)."""

    code = "therapist_busy"


class RoomTaken(SchedulingRefused):
    code = "room_busy"


class BadTime(SchedulingRefused):
    code = "bad_time"


class OverAuthorization(SchedulingRefused):
    """Past the payer's authorisation (visits or dates): booked only when the person confirms it."""

    code = "over_authorization"


class InvalidRequest(SchedulingRefused):
    """The request names something that cannot be booked (a discharged episode, a non-member...)."""

    code = "invalid"


class NotNow(SchedulingRefused):
    """The appointment's status does not allow this (checking in a cancelled appointment...)."""

    code = "invalid_status"


REFUSALS: dict[str, type[SchedulingRefused]] = {
    "in_the_past": InThePast, "clinic_closed": ClinicClosed, "outside_opening_hours": OutsideOpeningHours,
    "therapist_unavailable": TherapistUnavailable, "therapist_busy": SlotTaken, "room_busy": RoomTaken,
    "bad_length": BadTime, "no_such_time": BadTime,
}


# -- settings and the facts of a calendar ------------------------------------------------------------


def schedule_settings(clinic: Clinic | int) -> ScheduleSettings:
    """The clinic's scheduling settings (created with the defaults on first use).

    Kept on the clinic object once read, so the pages and panels of one request read them once
    (the actor's clinic is one object for the whole request).
    """
    if isinstance(clinic, int):
        return ScheduleSettings.objects.get_or_create(clinic_id=clinic)[0]
    cached = getattr(clinic, "_palpate_schedule_settings", None)
    if cached is None:
        cached = ScheduleSettings.objects.get_or_create(clinic_id=clinic.pk)[0]
        clinic._palpate_schedule_settings = cached  # type: ignore[attr-defined]
    return cached


def zone(settings: ScheduleSettings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str, year: int) -> dict[dt.date, str]:
    try:
        found = holiday_calendars.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        return {}
    return {day: str(name) for day, name in found.items()}


def public_holidays(settings: ScheduleSettings, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    if not settings.observe_public_holidays:
        return {}
    out: dict[dt.date, str] = {}
    for year in range(first.year, last.year + 1):
        out.update({d: n for d, n in _public_holidays(settings.country, settings.subdivision, year).items()
                    if first <= d <= last})
    return out


def closed_days(settings: ScheduleSettings, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """Public holidays and the clinic's own closures between two days (inclusive), with why."""
    days = public_holidays(settings, first, last)
    for closure in Closure.objects.filter(clinic_id=settings.clinic_id, ends_on__gte=first, starts_on__lte=last):
        day = max(first, closure.starts_on)
        while day <= min(last, closure.ends_on):
            days[day] = closure.reason
            day += dt.timedelta(days=1)
    return days


def treating_staff(clinic: Clinic | int) -> list[Membership]:
    """Who the calendar has a column for: therapists and assistants, and anyone with working hours."""
    clinic_id = clinic if isinstance(clinic, int) else clinic.pk
    with_hours = WorkingHours.objects.filter(clinic_id=clinic_id).values("therapist_id")
    return list(Membership.objects.filter(clinic_id=clinic_id, is_active=True)
                .filter(Q(role__in=TREATING_ROLES) | Q(user_id__in=with_hours))
                .select_related("user").order_by("user__last_name", "user__first_name", "user__username"))


def is_treating_member(clinic_id: int, user_id: int) -> bool:
    return any(m.user_id == user_id for m in treating_staff(clinic_id))


def is_treating(actor: Actor) -> bool:
    """Whether the actor has a column in the calendar (no query for therapists and assistants)."""
    if actor.role in TREATING_ROLES:
        return True
    return WorkingHours.objects.filter(clinic_id=actor.clinic.pk, therapist_id=actor.user.pk).exists()


def load_calendar(settings: ScheduleSettings, first: dt.date, last: dt.date, *,
                  therapists: Iterable[int] | None = None, rooms: Iterable[int] | None = None,
                  names: dict[int, str] | None = None, appointments: Sequence[Appointment] | None = None
                  ) -> cal.ClinicCalendar:
    """The facts of ``first``..``last`` (local days) in a fixed number of queries.

    ``therapists``/``rooms`` limit what is read (None: everyone); ``appointments`` may be passed
    when the caller already read them (the calendar page), so they are not read twice.
    """
    tz = zone(settings)
    clinic_id = settings.clinic_id
    starts = cal.instant(first, dt.time(0), tz) or dt.datetime.combine(first, dt.time(0), tz)
    ends = cal.instant(last + dt.timedelta(days=1), dt.time(0), tz) or dt.datetime.combine(last, dt.time(23, 59), tz)
    opening: dict[int, list[tuple[dt.time, dt.time]]] = defaultdict(list)
    for row in OpeningHours.objects.filter(clinic_id=clinic_id):
        opening[row.weekday].append((row.opens, row.closes))
    hours = WorkingHours.objects.filter(clinic_id=clinic_id)
    time_off = TimeOff.objects.filter(clinic_id=clinic_id, ends_at__gt=starts, starts_at__lt=ends)
    if therapists is not None:
        therapists = list(therapists)
        hours, time_off = hours.filter(therapist_id__in=therapists), time_off.filter(therapist_id__in=therapists)
    working: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = defaultdict(lambda: defaultdict(list))
    for row in hours:
        working[row.therapist_id][row.weekday].append((row.starts, row.ends))
    off: dict[int, list[cal.Interval]] = defaultdict(list)
    for row in time_off:
        off[row.therapist_id].append((row.starts_at, row.ends_at))
    if appointments is None:
        query = Appointment.objects.filter(clinic_id=clinic_id, status__in=HOLDS_TIME, ends_at__gt=starts,
                                           starts_at__lt=ends)
        room_list = [r for r in (rooms or []) if r is not None]
        if therapists is not None:
            query = query.filter(Q(therapist_id__in=therapists) | Q(room_id__in=room_list))
        appointments = list(query.only("id", "therapist_id", "room_id", "starts_at", "ends_at"))
    busy: dict[int, list[tuple[dt.datetime, dt.datetime, int]]] = defaultdict(list)
    room_busy: dict[int, list[tuple[dt.datetime, dt.datetime, int]]] = defaultdict(list)
    for a in appointments:
        if a.status not in HOLDS_TIME:
            continue
        busy[a.therapist_id].append((a.starts_at, a.ends_at, a.pk))
        if a.room_id is not None:
            room_busy[a.room_id].append((a.starts_at, a.ends_at, a.pk))
    return cal.ClinicCalendar(tz=tz, opening=dict(opening), closed_days=closed_days(settings, first, last),
                              working={k: dict(v) for k, v in working.items()}, time_off=dict(off),
                              busy=dict(busy), room_busy=dict(room_busy), step_minutes=settings.slot_minutes or 15,
                              names=names or {})


def _names(user_ids: Iterable[int]) -> dict[int, str]:
    from palpate.accounts.models import User

    return {u.pk: u.display_name() for u in User.objects.filter(pk__in=set(user_ids))}


def next_free_slot(settings: ScheduleSettings, therapist_id: int, minutes: int, after: dt.datetime, *,
                   room_id: int | None = None, ignore: int | None = None, until: dt.date | None = None) -> Slot | None:
    """The first free ``minutes`` with the therapist (and room) from ``after`` on (within six weeks)."""
    tz = zone(settings)
    first = after.astimezone(tz).date()
    last = first + dt.timedelta(days=cal.SEARCH_DAYS)
    if until is not None:
        last = min(last, until)
    if last < first:
        return None
    names = _names([therapist_id])
    calendar = load_calendar(settings, first, last, therapists=[therapist_id], rooms=[room_id], names=names)
    found = calendar.next_free(therapist_id, minutes, after, room=room_id, ignore=ignore, days=(last - first).days + 1)
    if found is None:
        return None
    return Slot(therapist_id, names.get(therapist_id, ""), found[0], found[1], room_id)


# -- authorisations ---------------------------------------------------------------------------------


def visits_used(authorization: Authorization) -> int:
    """Signed visit notes of the episode dated inside the authorisation."""
    return Visit.objects.filter(clinic_id=authorization.clinic_id, episode_id=authorization.episode_id,
                                status=RecordStatus.SIGNED,
                                visit_date__range=(authorization.starts_on, authorization.ends_on)).count()


def visits_booked(authorization: Authorization, tz: ZoneInfo, ignore: int | None = None) -> int:
    """Open appointments of the episode inside the authorisation that no signed note counts yet."""
    starts = cal.instant(authorization.starts_on, dt.time(0), tz)
    ends = cal.instant(authorization.ends_on + dt.timedelta(days=1), dt.time(0), tz)
    query = (Appointment.objects.filter(clinic_id=authorization.clinic_id, episode_id=authorization.episode_id,
                                        status__in=OPEN, starts_at__gte=starts, starts_at__lt=ends)
             .exclude(visit__status=RecordStatus.SIGNED))
    if ignore is not None:
        query = query.exclude(pk=ignore)
    return query.count()


@dataclass(frozen=True)
class AuthorizationUse:
    authorization: Authorization
    used: int
    booked: int

    @property
    def remaining(self) -> int:
        return self.authorization.visits - self.used - self.booked


def authorization_use(authorization: Authorization, tz: ZoneInfo, ignore: int | None = None) -> AuthorizationUse:
    return AuthorizationUse(authorization, visits_used(authorization), visits_booked(authorization, tz, ignore))


def authorization_problem(episode: Episode, day: dt.date, tz: ZoneInfo, ignore: int | None = None,
                          extra: int = 1) -> tuple[str, Authorization | None]:
    """Why ``extra`` more visit(s) on ``day`` would pass the episode's authorisation ("" when they do not).

    An episode without any authorisation on record has no limit (its payer needs none, or none
    was entered). The authorisation returned is the one whose dates could still be booked in.
    """
    authorizations = list(Authorization.objects.filter(clinic_id=episode.clinic_id, episode_id=episode.pk))
    if not authorizations:
        return "", None
    covering = [a for a in authorizations if a.starts_on <= day <= a.ends_on]
    if not covering:
        latest = max(authorizations, key=lambda a: a.ends_on)
        return (f"No payer authorisation covers {day:%Y-%m-%d}: authorisation {latest.reference} runs "
                f"{latest.starts_on:%Y-%m-%d} to {latest.ends_on:%Y-%m-%d}.", latest)
    best = max(covering, key=lambda a: (a.visits, a.pk))
    use = authorization_use(best, tz, ignore)
    if use.remaining < extra:
        return (f"Authorisation {best.reference} allows {best.visits} visits: {use.used} used and {use.booked} "
                f"booked.", best)
    return "", best


# -- booking -------------------------------------------------------------------------------------------


def check_can_schedule(actor: Actor) -> None:
    if not actor.can(PATIENT_WRITE):
        raise PermissionDenied("Your role in this clinic cannot change the schedule.")


def check_can_manage(actor: Actor) -> None:
    if not actor.can(CLINIC_MANAGE):
        raise PermissionDenied("Only the clinic's owner can change the scheduling settings.")


@dataclass
class Booking:
    """What a person asked to book, as plain values (forms and the API build one)."""

    episode: Episode
    therapist_id: int
    starts_at: dt.datetime
    minutes: int
    kind: str = AppointmentKind.TREATMENT
    room_id: int | None = None
    plan: PlanOfCare | None = None
    confirm_over_authorization: bool = False

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.minutes)


def _minute(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        raise InvalidRequest("A time needs its time zone (or is read in the clinic's).")
    return moment.astimezone(dt.UTC).replace(second=0, microsecond=0)


def _refuse(refusal: cal.Refusal, settings: ScheduleSettings, booking: Booking, now: dt.datetime,
            ignore: int | None = None) -> SchedulingRefused:
    after = max(booking.starts_at, now)
    minutes = booking.minutes if cal.MIN_MINUTES <= booking.minutes <= cal.MAX_MINUTES else \
        settings.minutes_for(booking.kind)
    offer = next_free_slot(settings, booking.therapist_id, minutes, after, room_id=booking.room_id, ignore=ignore)
    return REFUSALS.get(refusal.code, SchedulingRefused)(refusal.message, offer, refusal.code)


def check_booking(actor: Actor, booking: Booking, *, now: dt.datetime | None = None,
                  ignore: int | None = None) -> Booking:
    """Refuse what cannot be booked, saying why and offering the next free slot; changes nothing.

    ``ignore`` is the appointment being moved (it does not collide with itself).
    """
    check_can_schedule(actor)
    now = now or timezone.now()
    episode = booking.episode
    if episode.clinic_id != actor.clinic.pk:
        raise InvalidRequest("No such episode of care in this clinic.")
    if episode.status != EpisodeStatus.ACTIVE:
        raise InvalidRequest(episode.not_active_message("booking"))
    if booking.kind not in AppointmentKind.values:
        raise InvalidRequest(f"Choose the kind of appointment ({', '.join(AppointmentKind.labels)}).")
    if not is_treating_member(actor.clinic.pk, booking.therapist_id):
        raise InvalidRequest("Choose a therapist of this clinic.")
    if booking.room_id is not None and not Room.objects.filter(clinic_id=actor.clinic.pk, pk=booking.room_id,
                                                               is_active=True).exists():
        raise InvalidRequest("Choose one of the clinic's rooms.")
    if booking.plan is not None and (booking.plan.clinic_id != episode.clinic_id or booking.plan.episode_id != episode.pk):
        raise InvalidRequest("The plan of care belongs to another episode.")
    booking.starts_at = _minute(booking.starts_at)
    settings = schedule_settings(actor.clinic)
    day = booking.starts_at.astimezone(zone(settings)).date()
    if not cal.MIN_MINUTES <= booking.minutes <= cal.MAX_MINUTES:
        refusal = cal.Refusal("bad_length", f"An appointment lasts {cal.MIN_MINUTES} minutes to "
                                            f"{cal.MAX_MINUTES // 60} hours.")
        raise _refuse(refusal, settings, booking, now, ignore)
    calendar = load_calendar(settings, day, day, therapists=[booking.therapist_id], rooms=[booking.room_id],
                             names=_names([booking.therapist_id]))
    refusal = calendar.refusal(booking.therapist_id, booking.starts_at, booking.ends_at, room=booking.room_id,
                               now=now, ignore=ignore)
    if refusal is not None:
        raise _refuse(refusal, settings, booking, now, ignore)
    if not booking.confirm_over_authorization:
        problem, authorization = authorization_problem(episode, day, zone(settings), ignore)
        if problem:
            offer = None
            if authorization is not None and authorization.ends_on >= now.astimezone(zone(settings)).date() \
                    and "covers" in problem:
                start = max(now, cal.instant(authorization.starts_on, dt.time(0), zone(settings)) or now)
                offer = next_free_slot(settings, booking.therapist_id, booking.minutes, start,
                                       room_id=booking.room_id, ignore=ignore, until=authorization.ends_on)
            raise OverAuthorization(f"{problem} Book anyway only if the payer agreed.", offer)
    return booking


def _snapshot(appointment: Appointment) -> dict[str, Any]:
    return {"patient": appointment.patient_id, "episode": appointment.episode_id,
            "therapist": appointment.therapist_id, "room": appointment.room_id,
            "starts_at": appointment.starts_at, "ends_at": appointment.ends_at, "kind": appointment.kind,
            "status": appointment.status, "reason": appointment.reason, "plan": appointment.plan_id,
            "series": appointment.series_id}


def _overlap(error: IntegrityError) -> str | None:
    """Which no-double-booking rule of the database refused a write (None: another integrity error)."""
    text = str(error)
    if "appointment_no_room_overlap" in text or "room_overlap" in text:
        return "room_busy"
    if "appointment_no_therapist_overlap" in text or "therapist_overlap" in text:
        return "therapist_busy"
    return None


def _taken(error: IntegrityError, settings: ScheduleSettings, booking: Booking, now: dt.datetime,
           ignore: int | None = None) -> SchedulingRefused:
    code = _overlap(error)
    if code is None:
        raise error
    tz = zone(settings)
    who = "The room" if code == "room_busy" else _names([booking.therapist_id]).get(booking.therapist_id, "The therapist")
    message = (f"{who} was booked at {cal.words(booking.starts_at, tz)}-{cal.words(booking.ends_at, tz, False)} "
               "a moment ago by someone else.")
    return _refuse(cal.Refusal(code, message), settings, booking, now, ignore)


def do_book(actor: Actor, booking: Booking, *, now: dt.datetime | None = None, series: Series | None = None
            ) -> Appointment:
    """Book one appointment (checked again inside the write transaction), audited; refusals raise."""
    now = now or timezone.now()
    settings = schedule_settings(actor.clinic)
    try:
        with transaction.atomic():
            check_booking(actor, booking, now=now)
            appointment = Appointment.objects.create(
                clinic=actor.clinic, patient_id=booking.episode.patient_id, episode=booking.episode,
                therapist_id=booking.therapist_id, room_id=booking.room_id, starts_at=booking.starts_at,
                ends_at=booking.ends_at, kind=booking.kind, plan=booking.plan, series=series, booked_by=actor.user,
                status_changed_by=actor.user, status_changed_at=now)
            record_event(actor=actor, action="appointment.book", patient_id=appointment.patient_id, obj=appointment,
                         new=_snapshot(appointment))
    except IntegrityError as error:
        raise _taken(error, settings, booking, now) from None
    return appointment


def _locked(appointment: Appointment) -> Appointment:
    return (Appointment.objects.select_for_update(no_key=True, of=("self",))
            .select_related("episode", "patient").get(pk=appointment.pk, clinic_id=appointment.clinic_id))


def check_move(actor: Actor, appointment: Appointment, booking: Booking, *, now: dt.datetime | None = None) -> Booking:
    if appointment.status != AppointmentStatus.BOOKED:
        raise NotNow(f"Only a booked appointment can be moved; this one is {appointment.get_status_display().lower()}.")
    booking.episode = appointment.episode
    return check_booking(actor, booking, now=now, ignore=appointment.pk)


def do_move(actor: Actor, appointment: Appointment, booking: Booking, *, now: dt.datetime | None = None) -> Appointment:
    """Move a booked appointment to another time, therapist or room; refusals raise as for a booking."""
    now = now or timezone.now()
    settings = schedule_settings(actor.clinic)
    try:
        with transaction.atomic():
            current = _locked(appointment)
            check_move(actor, current, booking, now=now)
            before = _snapshot(current)
            current.therapist_id, current.room_id = booking.therapist_id, booking.room_id
            current.starts_at, current.ends_at = booking.starts_at, booking.ends_at
            current.kind = booking.kind
            current.save(update_fields=["therapist", "room", "starts_at", "ends_at", "kind", "updated_at"])
            after = _snapshot(current)
            record_event(actor=actor, action="appointment.move", patient_id=current.patient_id, obj=current,
                         old={k: v for k, v in before.items() if after[k] != v},
                         new={k: v for k, v in after.items() if before[k] != v})
    except IntegrityError as error:
        raise _taken(error, settings, booking, now, ignore=appointment.pk) from None
    return current


def _reason(text: str, what: str) -> str:
    reason = " ".join((text or "").split())
    if len(reason) < 3:
        raise InvalidRequest(f"Say why the appointment was {what} (a few words).", code="reason_required")
    return reason[:200]


def _change_status(actor: Actor, appointment: Appointment, status: str, action: str, *, now: dt.datetime,
                   reason: str = "", extra: dict[str, Any] | None = None) -> Appointment:
    old = {"status": appointment.status, "reason": appointment.reason}
    appointment.status = status
    appointment.reason = reason
    appointment.status_changed_by = actor.user
    appointment.status_changed_at = now
    appointment.save(update_fields=["status", "reason", "status_changed_by", "status_changed_at", "updated_at",
                                    *(extra or {})])
    record_event(actor=actor, action=action, patient_id=appointment.patient_id, obj=appointment, old=old,
                 new={"status": status, "reason": reason, **(extra or {})})
    return appointment


def cancellation_status(settings: ScheduleSettings, appointment: Appointment, by_patient: bool,
                        now: dt.datetime) -> str:
    """A patient's cancellation inside the clinic's window is late; the clinic's own never is."""
    window = dt.timedelta(hours=settings.late_cancel_hours)
    if by_patient and appointment.starts_at - now < window:
        return AppointmentStatus.LATE_CANCELLED
    return AppointmentStatus.CANCELLED


def do_cancel(actor: Actor, appointment: Appointment, reason: str, *, by_patient: bool = True,
              now: dt.datetime | None = None) -> Appointment:
    """Cancel (a late cancellation when the patient cancels inside the clinic's window), with the reason."""
    check_can_schedule(actor)
    now = now or timezone.now()
    reason = _reason(reason, "cancelled")
    with transaction.atomic():
        current = _locked(appointment)
        if current.status not in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED):
            raise NotNow(f"This appointment is {current.get_status_display().lower()}: it can no longer be cancelled.")
        status = cancellation_status(schedule_settings(actor.clinic), current, by_patient, now)
        return _change_status(actor, current, status, "appointment.cancel", now=now, reason=reason)


def do_check_in(actor: Actor, appointment: Appointment, *, now: dt.datetime | None = None) -> Appointment:
    """The patient is here (front desk): booked -> arrived, on the appointment's day."""
    check_can_schedule(actor)
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(appointment)
        if current.status == AppointmentStatus.ARRIVED:
            return current
        if current.status != AppointmentStatus.BOOKED:
            raise NotNow(f"This appointment is {current.get_status_display().lower()}: the patient cannot be checked in.")
        tz = zone(schedule_settings(actor.clinic))
        if current.starts_at.astimezone(tz).date() != now.astimezone(tz).date():
            raise NotNow(f"This appointment is on {cal.words(current.starts_at, tz)}: check patients in on the day.")
        return _change_status(actor, current, AppointmentStatus.ARRIVED, "appointment.check_in", now=now)


def do_no_show(actor: Actor, appointment: Appointment, reason: str, *, now: dt.datetime | None = None) -> Appointment:
    """The patient did not come: recorded with the reason once the appointment's time has begun."""
    check_can_schedule(actor)
    now = now or timezone.now()
    reason = _reason(reason, "missed")
    with transaction.atomic():
        current = _locked(appointment)
        if current.status not in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED):
            raise NotNow(f"This appointment is {current.get_status_display().lower()}: it cannot be a no-show.")
        if now < current.starts_at:
            tz = zone(schedule_settings(actor.clinic))
            raise NotNow(f"The appointment starts at {cal.words(current.starts_at, tz)}: a no-show is recorded "
                         "once it has begun (cancel it if the patient called).")
        return _change_status(actor, current, AppointmentStatus.NO_SHOW, "appointment.no_show", now=now, reason=reason)


def do_start(actor: Actor, appointment: Appointment, *, now: dt.datetime | None = None) -> Visit:
    """"Start visit": open the day's visit note for the appointment and link them; arrived -> in session.

    Starting twice opens the same note. The note is the visits app's (``do_start_visit``): the
    appointment only remembers it, and is completed when it is signed (:func:`complete_for_signed_visit`).
    """
    from palpate.visits.services import do_start_visit

    if not actor.can(CLINICAL_WRITE):
        raise PermissionDenied("Your role in this clinic cannot write clinical notes.")
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(appointment)
        if current.visit_id is not None and current.status == AppointmentStatus.IN_SESSION:
            return Visit.objects.get(pk=current.visit_id, clinic_id=current.clinic_id)
        if current.status not in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED):
            raise NotNow(f"This appointment is {current.get_status_display().lower()}: a visit cannot be started from it.")
        if current.episode.status != EpisodeStatus.ACTIVE:
            raise InvalidRequest(current.episode.not_active_message("documenting a visit"))
        tz = zone(schedule_settings(actor.clinic))
        day = current.starts_at.astimezone(tz).date()
        if day != now.astimezone(tz).date():
            raise NotNow(f"This appointment is on {cal.words(current.starts_at, tz)}: start the visit on the day.")
        visit, _ = do_start_visit(actor, current.patient, current.episode, today=day)
        other = Appointment.objects.filter(visit=visit).exclude(pk=current.pk).first()
        if other is not None:
            raise NotNow("Today's note for this episode belongs to another appointment; open it from there.")
        current.visit = visit
        _change_status(actor, current, AppointmentStatus.IN_SESSION, "appointment.start", now=now,
                       extra={"visit": visit.pk})
    return visit


def do_complete(actor: Actor, appointment: Appointment, *, now: dt.datetime | None = None) -> Appointment:
    """Completed: the patient was seen. A note started from it completes it when signed (the usual way)."""
    if not actor.can(CLINICAL_WRITE):
        raise PermissionDenied("Your role in this clinic cannot complete a visit.")
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(appointment)
        if current.status == AppointmentStatus.COMPLETED:
            return current
        if current.status not in (AppointmentStatus.ARRIVED, AppointmentStatus.IN_SESSION):
            raise NotNow(f"This appointment is {current.get_status_display().lower()}: only an arrived patient's "
                         "appointment can be completed.")
        if current.visit_id is not None and not Visit.objects.filter(pk=current.visit_id, status=RecordStatus.SIGNED).exists():
            raise NotNow("Sign the visit note started from this appointment: signing completes it.")
        return _change_status(actor, current, AppointmentStatus.COMPLETED, "appointment.complete", now=now)


def cancel_for_discharge(actor: Actor, discharge: Any) -> None:
    """The discharge's hook: a discharged episode keeps no future booking.

    Runs inside the signing transaction. Each booked appointment of the episode still to come is
    cancelled by the clinic (never a late cancellation: the patient did not cancel), with the
    discharge as its reason, audited like any cancellation; past and attended ones stay as they are.
    """
    now = timezone.now()
    reason = f"Discharged on {discharge.discharged_on:%Y-%m-%d} (discharge summary signed)"
    for appointment in (Appointment.objects.select_for_update(no_key=True)
                        .filter(clinic_id=discharge.clinic_id, episode_id=discharge.episode_id,
                                status=AppointmentStatus.BOOKED, starts_at__gt=now).order_by("starts_at")):
        _change_status(actor, appointment, AppointmentStatus.CANCELLED, "appointment.cancel", now=now, reason=reason)


def complete_for_signed_visit(actor: Actor, visit: Visit) -> None:
    """The visits app's hook: a signed note completes its appointment (or that day's for the episode).

    Runs inside the signing transaction. A note started from the chart, not from an appointment,
    completes the patient's open appointment of that day in the same episode, and is linked to it.
    """
    appointment = Appointment.objects.select_for_update(no_key=True).filter(clinic_id=visit.clinic_id, visit=visit).first()
    if appointment is None:
        tz = zone(schedule_settings(visit.clinic_id))
        starts = cal.instant(visit.visit_date, dt.time(0), tz)
        ends = cal.instant(visit.visit_date + dt.timedelta(days=1), dt.time(0), tz)
        appointment = (Appointment.objects.select_for_update(no_key=True)
                       .filter(clinic_id=visit.clinic_id, episode_id=visit.episode_id, visit__isnull=True,
                               status__in=OPEN, starts_at__gte=starts, starts_at__lt=ends).order_by("starts_at").first())
        if appointment is None:
            return
        appointment.visit = visit
    if appointment.status not in OPEN:
        return
    _change_status(actor, appointment, AppointmentStatus.COMPLETED, "appointment.complete",
                   now=visit.signed_at or timezone.now(), extra={"visit": visit.pk})


def release_for_voided_visit(actor: Actor, visit: Visit) -> None:
    """The visits app's hook: a draft note voided as entered in error frees the appointment it was
    started from (unlinked, back to arrived), so a visit can be started from it again."""
    appointment = Appointment.objects.select_for_update(no_key=True).filter(clinic_id=visit.clinic_id, visit=visit).first()
    if appointment is None:
        return
    appointment.visit = None
    status = AppointmentStatus.ARRIVED if appointment.status == AppointmentStatus.IN_SESSION else appointment.status
    _change_status(actor, appointment, status, "appointment.visit_voided", now=timezone.now(),
                   reason=appointment.reason, extra={"visit": None})


def check_void_appointment(actor: Actor, appointment: Appointment, reason: str) -> str:
    """An appointment booked by mistake may be voided with a reason, unless a visit note hangs on it."""
    check_can_schedule(actor)
    check_voidable(appointment)
    if appointment.visit_id is not None:
        raise NotNow("A visit note was started from this appointment: void the draft note first, "
                     "or, when it is signed, keep the appointment (the note is corrected by an addendum).")
    return check_void_reason(reason)


def do_void_appointment(actor: Actor, appointment: Appointment, reason: str) -> Appointment:
    """Void: kept in the database and the trail, gone from the calendar, Today, free slots and counts."""
    reason = check_void_appointment(actor, appointment, reason)
    with transaction.atomic():
        current = (Appointment.all_with_voided.select_for_update(no_key=True, of=("self",))
                   .get(pk=appointment.pk, clinic_id=appointment.clinic_id))
        reason = check_void_appointment(actor, current, reason)
        old = {"status": current.status}
        fields = mark_voided(current, actor.user, reason)
        # Not a time-holding status: the database's no-double-booking rule frees the slot at once.
        current.status = AppointmentStatus.ENTERED_IN_ERROR
        current.save(update_fields=[*fields, "status", "updated_at"])
        record_event(actor=actor, action="appointment.void", patient_id=current.patient_id, obj=current, old=old,
                     new={"status": current.status, "reason": reason})
    return current


# -- a series from the plan of care ----------------------------------------------------------------


@dataclass(frozen=True)
class PlanCounts:
    """A plan's visits: planned (frequency x weeks), attended (signed notes under the plan), booked
    ahead (open appointments of the episode since the plan started), missed, and still to book."""

    planned: int
    booked: int
    attended: int
    missed: int

    @property
    def remaining(self) -> int:
        return max(0, self.planned - self.booked - self.attended)


def plan_counts(plan: PlanOfCare) -> PlanCounts:
    attended = Visit.objects.filter(clinic_id=plan.clinic_id, plan=plan, status=RecordStatus.SIGNED).count()
    appointments = Appointment.objects.filter(clinic_id=plan.clinic_id, episode_id=plan.episode_id)
    if plan.start_date is not None:
        # Since the plan's first day (its UTC date: the clinic is closed around local midnight).
        appointments = appointments.filter(starts_at__date__gte=plan.start_date)
    rows = dict(appointments.exclude(visit__status=RecordStatus.SIGNED).order_by().values_list("status")
                .annotate(n=Count("id")).values_list("status", "n"))
    return PlanCounts(planned=plan.frequency_per_week * plan.duration_weeks, attended=attended,
                      booked=sum(rows.get(s, 0) for s in OPEN),
                      missed=rows.get(AppointmentStatus.NO_SHOW, 0) + rows.get(AppointmentStatus.LATE_CANCELLED, 0))


@dataclass
class SeriesRequest:
    plan: PlanOfCare
    therapist_id: int
    slots: list[tuple[int, dt.time]]  # (weekday, local time)
    first_day: dt.date
    minutes: int
    room_id: int | None = None


@dataclass
class SeriesProposal:
    request: SeriesRequest
    placed: list[cal.Placed]
    unplaced: list[cal.Unplaced]
    counts: PlanCounts
    tz: ZoneInfo
    authorization: AuthorizationUse | None = None
    appointments: list[Appointment] = field(default_factory=list)
    series: Series | None = None


def check_series(actor: Actor, request: SeriesRequest, *, now: dt.datetime | None = None) -> SeriesProposal:
    """Where the plan's remaining visits go on the chosen weekdays and times, and what cannot be placed.

    Never past the plan's re-evaluation or re-certification date, nor past the episode's payer
    authorisation (its visits or its end); closures, hours, time off and other bookings are skipped
    and listed with the reason. Changes nothing.
    """
    check_can_schedule(actor)
    now = now or timezone.now()
    plan = request.plan
    if plan.clinic_id != actor.clinic.pk:
        raise InvalidRequest("No such plan of care in this clinic.")
    if not plan.is_signed or plan.superseded_by_id is not None:
        raise InvalidRequest("Only the signed plan of care in force can be booked as a series.")
    episode = plan.episode
    if episode.status != EpisodeStatus.ACTIVE:
        raise InvalidRequest(episode.not_active_message("booking"))
    if not request.slots:
        raise InvalidRequest("Choose at least one weekday and its time.", code="slots_required")
    if not is_treating_member(actor.clinic.pk, request.therapist_id):
        raise InvalidRequest("Choose a therapist of this clinic.")
    if not cal.MIN_MINUTES <= request.minutes <= cal.MAX_MINUTES:
        raise BadTime(f"An appointment lasts {cal.MIN_MINUTES} minutes to {cal.MAX_MINUTES // 60} hours.")
    settings = schedule_settings(actor.clinic)
    tz = zone(settings)
    counts = plan_counts(plan)
    limits = []
    for day, what in ((plan.reevaluate_by, "re-evaluation"), (plan.recertify_by, "re-certification")):
        if day is not None:
            limits.append(cal.Limit(last_day=day, last_day_reason=f"After the plan's {what} date ({day:%Y-%m-%d}): "
                                                                  f"re-evaluate before booking more."))
    use = None
    authorizations = list(Authorization.objects.filter(clinic_id=plan.clinic_id, episode_id=episode.pk))
    if authorizations:
        covering = [a for a in authorizations if a.starts_on <= request.first_day <= a.ends_on]
        if covering:
            use = authorization_use(max(covering, key=lambda a: (a.visits, a.pk)), tz)
            auth = use.authorization
            limits.append(cal.Limit(
                last_day=auth.ends_on, last_day_reason=f"After authorisation {auth.reference} ends "
                                                       f"({auth.ends_on:%Y-%m-%d}).",
                visits=max(0, use.remaining), visits_reason=f"Authorisation {auth.reference} allows {auth.visits} "
                                                            f"visits ({use.used} used, {use.booked} booked before this series)."))
        else:
            limits.append(cal.Limit(visits=0, visits_reason=f"No payer authorisation covers "
                                                            f"{request.first_day:%Y-%m-%d}."))
    last = request.first_day + dt.timedelta(weeks=plan.duration_weeks + 2)
    calendar = load_calendar(settings, request.first_day, last, therapists=[request.therapist_id],
                             rooms=[request.room_id], names=_names([request.therapist_id]))
    placed, unplaced = cal.plan_series(calendar, request.therapist_id, request.slots, request.minutes,
                                       request.first_day, counts.remaining, limits=limits, room=request.room_id, now=now)
    return SeriesProposal(request, placed, unplaced, counts, tz, use)


def _unplaced_rows(unplaced: Sequence[cal.Unplaced]) -> list[dict[str, str]]:
    return [{"date": u.day.isoformat(), "time": u.at.strftime("%H:%M"), "reason": u.reason, "code": u.code}
            for u in sorted(unplaced, key=lambda u: (u.day, u.at))]


def do_book_series(actor: Actor, request: SeriesRequest, *, now: dt.datetime | None = None) -> SeriesProposal:
    """Book what :func:`check_series` places, in one transaction, audited as one series.

    A slot another booking took between the check and the write (PostgreSQL only; SQLite's write
    lock rules that out) is listed as not placed rather than failing the series.
    """
    now = now or timezone.now()
    with transaction.atomic():
        proposal = check_series(actor, request, now=now)
        plan = request.plan
        series = Series.objects.create(
            clinic=actor.clinic, patient_id=plan.patient_id, episode_id=plan.episode_id, plan=plan,
            therapist_id=request.therapist_id, slots=[[w, t.strftime("%H:%M")] for w, t in request.slots],
            minutes=request.minutes, first_day=request.first_day, requested=proposal.counts.remaining,
            created_by=actor.user, unplaced=_unplaced_rows(proposal.unplaced))
        def row(visit: cal.Placed) -> Appointment:
            return Appointment(clinic=actor.clinic, patient_id=plan.patient_id, episode_id=plan.episode_id,
                               therapist_id=request.therapist_id, room_id=request.room_id, starts_at=visit.starts_at,
                               ends_at=visit.ends_at, kind=AppointmentKind.TREATMENT, plan=plan, series=series,
                               booked_by=actor.user, status_changed_by=actor.user, status_changed_at=now)

        booked: list[Appointment] = []
        try:  # all at once; only if another booking took one meanwhile, one by one
            with transaction.atomic():
                booked = Appointment.objects.bulk_create([row(v) for v in proposal.placed])
        except IntegrityError as error:
            if _overlap(error) is None:
                raise
            for visit in list(proposal.placed):
                try:
                    appointment = row(visit)
                    with transaction.atomic():
                        appointment.save()
                    booked.append(appointment)
                except IntegrityError as taken:
                    if _overlap(taken) is None:
                        raise
                    proposal.placed.remove(visit)
                    proposal.unplaced.append(cal.Unplaced(visit.day, visit.at, "Booked by someone else a moment ago.",
                                                          "therapist_busy"))
        proposal.unplaced.sort(key=lambda u: (u.day, u.at))
        if len(series.unplaced) != len(proposal.unplaced):  # some were taken meanwhile
            series.unplaced = _unplaced_rows(proposal.unplaced)
            series.save(update_fields=["unplaced"])
        record_event(actor=actor, action="appointment.book_series", patient_id=plan.patient_id, obj=series,
                     new={"plan": plan.pk, "therapist": request.therapist_id, "room": request.room_id,
                          "appointments": [{"id": a.pk, "starts_at": a.starts_at, "ends_at": a.ends_at} for a in booked],
                          "unplaced": series.unplaced})
        proposal.appointments, proposal.series = booked, series
    return proposal


# -- authorisations, settings, feeds ------------------------------------------------------------------


def check_authorization(actor: Actor, episode: Episode, reference: str, visits: int, starts_on: dt.date,
                        ends_on: dt.date) -> None:
    check_can_schedule(actor)
    if episode.clinic_id != actor.clinic.pk:
        raise InvalidRequest("No such episode of care in this clinic.")
    if not reference.strip():
        raise InvalidRequest("Enter the payer's authorisation number.", code="reference_required")
    if not 1 <= visits <= 365:
        raise InvalidRequest("An authorisation covers 1 to 365 visits.", code="bad_visits")
    if ends_on < starts_on:
        raise InvalidRequest("The authorisation ends before it starts.", code="bad_dates")


def do_add_authorization(actor: Actor, episode: Episode, reference: str, visits: int, starts_on: dt.date,
                         ends_on: dt.date) -> Authorization:
    check_authorization(actor, episode, reference, visits, starts_on, ends_on)
    with transaction.atomic():
        authorization = Authorization.objects.create(
            clinic=actor.clinic, patient_id=episode.patient_id, episode=episode, reference=reference.strip(),
            visits=visits, starts_on=starts_on, ends_on=ends_on, created_by=actor.user)
        record_event(actor=actor, action="authorization.create", patient_id=episode.patient_id, obj=authorization,
                     new={"episode": episode.pk, "reference": authorization.reference, "visits": visits,
                          "starts_on": starts_on, "ends_on": ends_on})
    return authorization


def do_save_settings(actor: Actor, settings: ScheduleSettings, changed: dict[str, Any]) -> ScheduleSettings:
    check_can_manage(actor)
    with transaction.atomic():
        before = {k: getattr(settings, k) for k in changed}
        for name, value in changed.items():
            setattr(settings, name, value)
        settings.save()
        record_event(actor=actor, action="schedule.settings", obj=settings, old=before, new=changed)
    return settings


def do_set_weekly_hours(actor: Actor, rows: Sequence[tuple[int, dt.time, dt.time]], therapist_id: int | None = None
                        ) -> None:
    """Replace the clinic's opening hours (``therapist_id`` None) or a therapist's working hours."""
    check_can_manage(actor)
    for weekday, start, end in rows:
        if not 0 <= weekday <= 6 or end <= start:
            raise InvalidRequest("Each day's hours end after they start.", code="bad_hours")
    with transaction.atomic():
        if therapist_id is None:
            OpeningHours.objects.filter(clinic=actor.clinic).delete()
            OpeningHours.objects.bulk_create([OpeningHours(clinic=actor.clinic, weekday=w, opens=s, closes=e)
                                              for w, s, e in rows])
        else:
            WorkingHours.objects.filter(clinic=actor.clinic, therapist_id=therapist_id).delete()
            WorkingHours.objects.bulk_create([WorkingHours(clinic=actor.clinic, therapist_id=therapist_id, weekday=w,
                                                           starts=s, ends=e) for w, s, e in rows])
        record_event(actor=actor, action="schedule.hours", new={
            "therapist": therapist_id, "hours": [[w, s.strftime("%H:%M"), e.strftime("%H:%M")] for w, s, e in rows]})


def do_add_closure(actor: Actor, starts_on: dt.date, ends_on: dt.date, reason: str) -> Closure:
    check_can_manage(actor)
    if ends_on < starts_on or not reason.strip():
        raise InvalidRequest("A closure needs its reason and ends on or after its first day.", code="bad_closure")
    with transaction.atomic():
        closure = Closure.objects.create(clinic=actor.clinic, starts_on=starts_on, ends_on=ends_on,
                                         reason=reason.strip()[:120], created_by=actor.user)
        record_event(actor=actor, action="schedule.closure", obj=closure,
                     new={"starts_on": starts_on, "ends_on": ends_on, "reason": closure.reason})
    return closure


def do_add_time_off(actor: Actor, therapist_id: int, starts_at: dt.datetime, ends_at: dt.datetime,
                    reason: str = "") -> TimeOff:
    if not (actor.can(CLINIC_MANAGE) or actor.user.pk == therapist_id):
        raise PermissionDenied("Only the owner, or the therapist themselves, records time off.")
    if ends_at <= starts_at:
        raise InvalidRequest("Time off ends after it starts.", code="bad_time_off")
    with transaction.atomic():
        off = TimeOff.objects.create(clinic=actor.clinic, therapist_id=therapist_id, starts_at=starts_at,
                                     ends_at=ends_at, reason=reason.strip()[:120])
        record_event(actor=actor, action="schedule.time_off", obj=off,
                     new={"therapist": therapist_id, "starts_at": starts_at, "ends_at": ends_at})
    return off


def do_add_room(actor: Actor, name: str) -> Room:
    check_can_manage(actor)
    name = " ".join(name.split())[:60]
    if not name:
        raise InvalidRequest("Name the room.", code="bad_room")
    with transaction.atomic():
        room, _ = Room.objects.get_or_create(clinic=actor.clinic, name=name)
        record_event(actor=actor, action="schedule.room", obj=room, new={"name": name})
    return room


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def do_create_feed(actor: Actor) -> str:
    """A new private calendar feed for the actor (earlier ones are revoked); the token is shown once."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.filter(clinic=actor.clinic, user=actor.user, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
        feed = CalendarFeed.objects.create(clinic=actor.clinic, user=actor.user, token_hash=feed_token_hash(token))
        record_event(actor=actor, action="schedule.feed_create", obj=feed, new={"user": actor.user.pk})
    return token


def do_revoke_feeds(actor: Actor) -> int:
    with transaction.atomic():
        revoked = CalendarFeed.objects.filter(clinic=actor.clinic, user=actor.user, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
        if revoked:
            record_event(actor=actor, action="schedule.feed_revoke", new={"user": actor.user.pk, "revoked": revoked})
    return revoked


def patient_no_shows(patient: Patient, now: dt.datetime | None = None) -> dict[str, int]:
    """The patient's past appointments: attended, no-shows, late cancellations, and the no-show rate (%)."""
    now = now or timezone.now()
    rows = dict(Appointment.objects.filter(clinic_id=patient.clinic_id, patient=patient, starts_at__lt=now)
                .values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    attended = rows.get(AppointmentStatus.COMPLETED, 0)
    missed = rows.get(AppointmentStatus.NO_SHOW, 0)
    late = rows.get(AppointmentStatus.LATE_CANCELLED, 0)
    counted = attended + missed + late
    return {"attended": attended, "no_shows": missed, "late_cancellations": late, "counted": counted,
            "rate": round(100 * missed / counted) if counted else 0}
