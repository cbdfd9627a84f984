"""An appointment booked by mistake is voided with a reason: gone from the calendar, its time free."""

from __future__ import annotations

import datetime as dt

import pytest

from palpate.audit.models import AuditEvent
from palpate.scheduling.models import Appointment, AppointmentStatus
from tests.scheduling.test_pages import local_now, make, open_daily  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


def test_it_voids_an_appointment_with_a_reason_and_frees_its_time(world, open_daily, as_user):  # noqa: F811
    start = (local_now(open_daily) + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    appointment = make(world, start)
    client = as_user(world.fran)
    day = f"/schedule/day/{start.date().isoformat()}/?therapist={world.alice.pk}"
    assert f"/schedule/appointments/{appointment.pk}/" in client.get(day).content.decode()

    short = client.post(f"/schedule/appointments/{appointment.pk}/void/", {"reason": "oops"})
    assert short.status_code == 400 and "at least 10 characters" in short.content.decode()
    assert "oops" in short.content.decode()  # what was typed is kept

    done = client.post(f"/schedule/appointments/{appointment.pk}/void/", {"reason": "Booked for the wrong patient"})
    assert done.status_code == 302
    assert f"/schedule/appointments/{appointment.pk}/" not in client.get(day).content.decode()
    assert client.get(f"/schedule/appointments/{appointment.pk}/").status_code == 404
    assert not Appointment.objects.filter(pk=appointment.pk).exists()
    kept = Appointment.all_with_voided.get(pk=appointment.pk)
    assert kept.status == AppointmentStatus.ENTERED_IN_ERROR and kept.void_reason == "Booked for the wrong patient"
    event = AuditEvent.objects.get(action="appointment.void")
    assert event.new["reason"] == "Booked for the wrong patient" and event.object_id == str(appointment.pk)
    # The time is free again: the database's no-double-booking rule lets another booking in.
    make(world, start)
    page = client.get(f"/schedule/appointments/{appointment.pk}/void/").content.decode()
    assert "was marked entered in error" in page and "Booked for the wrong patient" in page


def test_an_appointment_with_a_visit_note_on_it_is_not_voided(world, clinical_world, open_daily, as_user):  # noqa: F811
    appointment = make(world, local_now(open_daily), status=AppointmentStatus.IN_SESSION, visit=clinical_world.visit)
    refused = as_user(world.alice).post(f"/schedule/appointments/{appointment.pk}/void/",
                                        {"reason": "Booked for the wrong patient"})
    assert refused.status_code == 409 and "void the draft note first" in refused.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.IN_SESSION


def test_voiding_the_draft_note_frees_the_appointment_it_was_started_from(world, clinical_world, open_daily, as_user):  # noqa: F811
    appointment = make(world, local_now(open_daily), status=AppointmentStatus.IN_SESSION, visit=clinical_world.visit)
    pk, visit = world.harbor_patient.pk, clinical_world.visit
    assert as_user(world.alice).post(f"/patients/{pk}/visits/{visit.pk}/void/",
                                     {"reason": "Started on the wrong episode"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.visit_id is None and appointment.status == AppointmentStatus.ARRIVED
    assert AuditEvent.objects.filter(action="appointment.visit_voided").exists()
