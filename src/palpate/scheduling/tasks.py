"""Appointment reminders, sent by the background worker (``palpate.ops``).

Every five minutes :func:`queue_reminders` finds the booked appointments starting within the
clinic's reminder window that have no reminder for their current time yet, records one (queued)
and queues :func:`send_reminder` for it. Sending is idempotent: a reminder already sent, or for an
appointment since cancelled or moved, is not sent (again). A failure is recorded with its reason
and retried with backoff by the worker; after the last try it stays failed, with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings as django_settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from palpate.ops.queue import cron, periodic_task, task
from palpate.scheduling import calendar as cal
from palpate.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderStatus,
    ScheduleSettings,
)

log = logging.getLogger("palpate.worker")

SEND_RETRIES = 3
# Appointments a reminder is still worth sending for: not once the appointment has begun.
LATEST = dt.timedelta(minutes=0)


def due_reminders(now: dt.datetime | None = None) -> list[int]:
    """Record a reminder for each booked appointment now inside its clinic's window; their ids."""
    now = now or timezone.now()
    created = []
    for settings in ScheduleSettings.objects.filter(reminder_hours__gt=0):
        window = now + dt.timedelta(hours=settings.reminder_hours)
        appointments = (Appointment.objects.filter(clinic_id=settings.clinic_id, status=AppointmentStatus.BOOKED,
                                                   starts_at__gt=now + LATEST, starts_at__lte=window)
                        .exclude(Exists(Reminder.objects.filter(appointment=OuterRef("pk"), starts_at=OuterRef("starts_at"))))
                        .only("id", "clinic_id", "starts_at"))
        for appointment in appointments:
            try:
                with transaction.atomic():
                    reminder = Reminder.objects.create(clinic_id=appointment.clinic_id, appointment=appointment,
                                                       starts_at=appointment.starts_at)
            except IntegrityError:
                continue  # another worker recorded it first
            created.append(reminder.pk)
    return created


@periodic_task(cron("*/5 * * * *"))
def queue_reminders() -> None:
    for pk in due_reminders():
        send_reminder(pk)


def _message(reminder: Reminder) -> EmailMessage | str:
    """The email, or why none can be sent."""
    from palpate.scheduling.feed import appointment_ics
    from palpate.scheduling.services import schedule_settings, zone

    # all_with_voided: an appointment entered in error since is skipped with that reason, not an error.
    appointment = (Appointment.all_with_voided.select_related("patient", "therapist", "room", "clinic")
                   .get(pk=reminder.appointment_id))
    if appointment.status != AppointmentStatus.BOOKED:
        return f"the appointment is {appointment.get_status_display().lower()}"
    if appointment.starts_at != reminder.starts_at:
        return "the appointment was moved (a reminder for its new time is sent instead)"
    if not appointment.patient.email:
        return "the patient has no email address"
    tz = zone(schedule_settings(appointment.clinic_id))
    clinic = appointment.clinic.name
    therapist = appointment.therapist.display_name()
    when = cal.words(appointment.starts_at, tz)
    body = (f"Dear {appointment.patient.given_name},\n\n"
            f"This is a reminder of your appointment at {clinic} on {when} ({tz.key} time) with {therapist}.\n"
            "The attached calendar file adds it to your calendar.\n\n"
            f"If you cannot come, please let {clinic} know as soon as possible.\n")
    message = EmailMessage(subject=f"Your appointment at {clinic}, {when}", body=body,
                           from_email=django_settings.DEFAULT_FROM_EMAIL, to=[appointment.patient.email])
    message.attach("appointment.ics", appointment_ics(appointment, clinic, therapist), "text/calendar")
    return message


@task(retries=SEND_RETRIES, retry_delay=60, backoff=2.0)
def send_reminder(reminder_id: int) -> None:
    """Send one reminder (idempotent) and record how it went; raise on failure so the worker retries."""
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update(no_key=True).filter(pk=reminder_id).first()
        if reminder is None or reminder.status in (ReminderStatus.SENT, ReminderStatus.SKIPPED):
            return
        Reminder.objects.filter(pk=reminder.pk).update(attempts=reminder.attempts + 1)
        reminder.attempts += 1
    message = _message(reminder)
    if isinstance(message, str):
        Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SKIPPED, error=f"Not sent: {message}.")
        return
    try:
        message.send(fail_silently=False)
    except Exception as error:
        final = reminder.attempts > SEND_RETRIES
        Reminder.objects.filter(pk=reminder.pk).update(
            status=ReminderStatus.FAILED if final else ReminderStatus.RETRYING,
            error=f"{type(error).__name__}: {str(error)[:250]}")
        log.warning("reminder %s failed (attempt %s): %s", reminder.pk, reminder.attempts, type(error).__name__)
        raise
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SENT, sent_at=timezone.now(), error="")
