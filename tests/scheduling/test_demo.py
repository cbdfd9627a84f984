"""The demo's calendar: two weeks around today, through the services, plausible and repeatable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test.utils import override_settings

from palpate.demo.seed import seed_demo
from palpate.lib.models_common import RecordStatus
from palpate.scheduling import services
from palpate.scheduling.models import Appointment, AppointmentStatus


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    today = dt.date.today()
    with django_db_blocker.unblock(), override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        with transaction.atomic():
            seed_demo(today)
            yield today
            transaction.set_rollback(True)


@pytest.mark.parametrize("slug", ["harbor", "summit"])
def test_each_clinic_has_past_today_and_future_appointments(demo, db, slug):
    appointments = Appointment.objects.filter(clinic__slug=slug)
    past = appointments.filter(starts_at__date__lt=demo - dt.timedelta(days=1))
    future = appointments.filter(starts_at__date__gt=demo + dt.timedelta(days=1))
    assert past.filter(status=AppointmentStatus.COMPLETED).count() >= 8
    assert past.filter(status=AppointmentStatus.NO_SHOW).exists()
    assert past.filter(status=AppointmentStatus.LATE_CANCELLED).exclude(reason="").exists()
    assert future.filter(plan__isnull=False, series__isnull=False).count() >= 8
    assert future.filter(kind="evaluation").exists()


def test_past_completed_appointments_carry_their_signed_notes(demo, db):
    completed = Appointment.objects.filter(status=AppointmentStatus.COMPLETED).select_related("visit")
    assert completed and all(a.visit is not None and a.visit.status == RecordStatus.SIGNED for a in completed)
    assert all(a.visit.visit_date == a.starts_at.astimezone(services.zone(services.schedule_settings(a.clinic_id))).date()
               for a in completed)


def test_the_draft_note_of_today_is_in_session_from_its_appointment(demo, db):
    in_session = Appointment.objects.filter(clinic__slug="harbor", status=AppointmentStatus.IN_SESSION)
    if demo.weekday() == 6:  # the demo clinics are closed on Sundays: nothing can be booked today
        assert not in_session.exists()
        return
    assert in_session.count() == 1 and in_session.get().visit.status == RecordStatus.DRAFT


def test_no_one_is_double_booked_and_a_second_run_adds_nothing(demo, db):
    for a in Appointment.objects.filter(status__in=("booked", "arrived", "in_session", "completed")):
        assert not Appointment.objects.filter(therapist_id=a.therapist_id, status__in=("booked", "arrived", "in_session",
                                                                                       "completed"),
                                              starts_at__lt=a.ends_at, ends_at__gt=a.starts_at).exclude(pk=a.pk).exists()
    count = Appointment.objects.count()
    seed_demo(demo)
    assert Appointment.objects.count() == count
