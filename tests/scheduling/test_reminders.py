"""Reminders: an email with an .ics a clinic-set number of hours before, sent by the worker, outcome recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from palpate.scheduling import tasks
from palpate.scheduling.feed import parse
from palpate.scheduling.models import AppointmentStatus, Reminder, ReminderStatus
from tests.scheduling.test_pages import make, open_daily  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def emailed_patient(world):  # noqa: ANN001, ANN201
    world.harbor_patient.email = "maria@example.org"
    world.harbor_patient.save()
    return world.harbor_patient


def test_it_emails_the_patient_with_an_ics_inside_the_clinics_window(world, open_daily, emailed_patient, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    soon = make(world, timezone.now() + dt.timedelta(hours=20))
    make(world, timezone.now() + dt.timedelta(hours=30))  # outside the 24-hour window: not yet
    ids = tasks.due_reminders()
    assert len(ids) == 1 and tasks.due_reminders() == []  # recorded once
    tasks.send_reminder.call_local(ids[0])
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["maria@example.org"] and "Harbor Physical Therapy" in message.subject
    name, content, kind = message.attachments[0]
    assert name == "appointment.ics" and kind == "text/calendar"
    event = next(c for c in parse(content).walk() if c.name == "VEVENT")
    assert event.decoded("dtstart") == soon.starts_at.replace(microsecond=0) or event.decoded("dtstart") == soon.starts_at
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.SENT and reminder.attempts == 1 and reminder.sent_at is not None
    tasks.send_reminder.call_local(ids[0])  # idempotent: not sent twice
    assert len(mail.outbox) == 1


def test_a_failure_is_recorded_with_its_reason_and_retried(world, open_daily, emailed_patient, settings, monkeypatch,  # noqa: F811
                                                          as_user):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make(world, timezone.now() + dt.timedelta(hours=2))
    [pk] = tasks.due_reminders()

    def refuse(self, fail_silently=False):  # noqa: ANN001, ANN202
        raise ConnectionRefusedError("SMTP server refused the connection")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with pytest.raises(ConnectionRefusedError):
        tasks.send_reminder.call_local(pk)
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.RETRYING and "SMTP server refused" in reminder.error
    page = as_user(world.fran).get(f"/schedule/appointments/{reminder.appointment_id}/").content.decode()
    assert "Failed, will retry" in page and "SMTP server refused" in page
    monkeypatch.undo()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tasks.send_reminder.call_local(pk)  # the worker's retry
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT and reminder.attempts == 2 and reminder.error == ""


def test_no_reminder_is_sent_for_a_cancelled_appointment_or_without_an_email(world, open_daily, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    appointment = make(world, timezone.now() + dt.timedelta(hours=3))
    [pk] = tasks.due_reminders()
    tasks.send_reminder.call_local(pk)
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.SKIPPED and "no email address" in reminder.error
    world.harbor_patient.email = "maria@example.org"
    world.harbor_patient.save()
    appointment.status = AppointmentStatus.CANCELLED
    appointment.save()
    Reminder.objects.all().delete()
    assert tasks.due_reminders() == []  # only booked appointments get one
    assert mail.outbox == []


def test_the_default_backend_writes_the_reminder_as_a_file(world, open_daily, emailed_patient, settings, tmp_path):  # noqa: F811
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    make(world, timezone.now() + dt.timedelta(hours=5))
    [pk] = tasks.due_reminders()
    tasks.send_reminder.call_local(pk)
    written = list(tmp_path.iterdir())
    assert len(written) == 1 and "BEGIN:VCALENDAR" in written[0].read_text()


def test_the_task_is_registered_with_the_worker():
    from palpate.ops.queue import REGISTRY
    from palpate.ops.worker import import_task_modules

    assert "palpate.scheduling.tasks" in import_task_modules()
    assert "palpate.scheduling.tasks.send_reminder" in REGISTRY and "palpate.scheduling.tasks.queue_reminders" in REGISTRY
