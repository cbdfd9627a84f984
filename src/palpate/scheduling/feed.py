"""iCalendar for appointments (``icalendar``): the reminder's attachment and a therapist's private feed.

The feed's URL carries a random token; only its SHA-256 is stored, so a leaked database does not
give anyone a working feed, and the therapist revokes it at any time. A phone's calendar app syncs
it through servers outside the clinic, so each event names the patient by initials only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings as django_settings
from django.utils import timezone
from icalendar import Calendar, Event

from palpate.audit.services import record_read
from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership
from palpate.scheduling.models import HOLDS_TIME, Appointment, CalendarFeed
from palpate.scheduling.services import feed_token_hash

FEED_PAST_DAYS = 14
FEED_FUTURE_DAYS = 90


def _host() -> str:
    return django_settings.PALPATE_BASE_URL.split("//", 1)[-1].split("/", 1)[0] or "palpate"


def uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.pk}@{_host()}"


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Palpate//Scheduling//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    return calendar


def appointment_ics(appointment: Appointment, clinic_name: str, therapist_name: str) -> bytes:
    """One event for the patient's reminder: when, where, with whom (no clinical detail)."""
    calendar = _calendar(clinic_name)
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid(appointment))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", f"Appointment at {clinic_name}")
    event.add("description", f"{appointment.get_kind_display()} with {therapist_name}.")
    event.add("location", clinic_name + (f", {appointment.room.name}" if appointment.room_id and appointment.room else ""))
    event.add("sequence", int(appointment.updated_at.timestamp()) if appointment.updated_at else 0)
    calendar.add_component(event)
    return calendar.to_ical()


def initials(given: str, family: str) -> str:
    return "".join(f"{part[:1].upper()}." for part in (given, family) if part)


def feed_for_token(token: str) -> tuple[Actor, CalendarFeed] | None:
    if not token or len(token) > 100:
        return None
    try:
        found = CalendarFeed.objects.select_related("user", "clinic").get(token_hash=feed_token_hash(token),
                                                                          revoked_at__isnull=True)
    except CalendarFeed.DoesNotExist:
        return None
    membership = Membership.objects.filter(clinic_id=found.clinic_id, user_id=found.user_id, is_active=True,
                                           user__is_active=True).select_related("user", "clinic").first()
    if membership is None:
        return None
    return Actor.of(membership), found


def active_feed(actor: Actor) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(clinic=actor.clinic, user=actor.user, revoked_at__isnull=True).first()


def feed_calendar(actor: Actor, feed: CalendarFeed, ip_address: str | None = None) -> bytes:
    now = timezone.now()
    appointments = list(Appointment.objects.filter(
        clinic_id=feed.clinic_id, therapist_id=feed.user_id, status__in=HOLDS_TIME,
        starts_at__gte=now - dt.timedelta(days=FEED_PAST_DAYS), starts_at__lt=now + dt.timedelta(days=FEED_FUTURE_DAYS))
        .select_related("patient", "room").order_by("starts_at"))
    calendar = _calendar(f"{actor.clinic.name}: {actor.user.display_name()}")
    for a in appointments:
        event = Event()
        event.add("uid", uid(a))
        event.add("dtstamp", now)
        event.add("dtstart", a.starts_at)
        event.add("dtend", a.ends_at)
        event.add("summary", f"{a.get_kind_display()}: {initials(a.patient.given_name, a.patient.family_name)}")
        if a.room_id:
            event.add("location", a.room.name)
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    record_read(actor, "schedule.feed", patient_id=None, obj=feed, ip_address=ip_address,
                detail={"patients_shown": sorted({a.patient_id for a in appointments})})
    return calendar.to_ical()


def parse(body: bytes) -> Any:
    return Calendar.from_ical(body)
