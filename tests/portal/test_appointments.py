"""The patient's home page lists their upcoming appointments from the clinic's calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

NEW_YORK = ZoneInfo("America/New_York")


def book(world, patient, episode, starts_at: dt.datetime, status: str = "booked"):  # noqa: ANN001, ANN201
    from palpate.scheduling.models import Appointment

    return Appointment.objects.create(clinic=patient.clinic, patient=patient, episode=episode,
                                      therapist=world.alice, starts_at=starts_at,
                                      ends_at=starts_at + dt.timedelta(minutes=45), status=status,
                                      booked_by=world.alice)


def another_harbor_patient(world):  # noqa: ANN001, ANN201
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.patients import services
    from palpate.patients.models import Episode, Patient

    actor = Actor.of(Membership.objects.get(clinic=world.harbor, user=world.alice))
    patient = services.do_create_patient(actor, Patient(given_name="Ana", family_name="Lopez",
                                                        date_of_birth=dt.date(1980, 2, 3), sex="female"))
    services.do_create_episode(actor, patient, Episode(condition="low_back_pain", body_region="lower_back", side="",
                                                       diagnosis="Low back pain", icd10_code="M54.50",
                                                       onset_date=dt.date(2026, 10, 1), payer="commercial"))
    return patient


def test_the_home_page_shows_the_patients_coming_appointments_in_the_clinics_time(patient_client, portal):
    from palpate.scheduling.services import schedule_settings

    world = portal.world
    settings = schedule_settings(world.harbor)
    settings.time_zone = "America/New_York"
    settings.save()
    world.alice.first_name, world.alice.last_name = "Alice", "Moreno"
    world.alice.save()
    tomorrow = timezone.now().astimezone(NEW_YORK).date() + dt.timedelta(days=1)
    coming = dt.datetime.combine(tomorrow, dt.time(9, 30), tzinfo=NEW_YORK)
    book(world, portal.patient, world.harbor_episode, coming)
    book(world, portal.patient, world.harbor_episode, coming + dt.timedelta(days=1), status="cancelled")
    book(world, portal.patient, world.harbor_episode, coming - dt.timedelta(days=9), status="completed")
    other = another_harbor_patient(world)
    book(world, other, other.episodes.get(), coming + dt.timedelta(days=2))

    body = patient_client.get("/portal/").content.decode()

    section = body[body.index("Your appointments"):body.index("Your handouts")]
    assert f"{coming:%A} {coming.day} {coming:%B}, 09:30 with Alice Moreno" in section
    assert section.count("<li>") == 1  # not the cancelled one, the past one, or another patient's


def test_a_patient_with_no_appointment_is_told_how_to_book(patient_client, portal):
    body = patient_client.get("/portal/").content.decode()
    section = body[body.index("Your appointments"):body.index("Your handouts")]
    assert "You have no appointment booked." in section and "call us" in section
