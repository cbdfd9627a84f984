"""The appointments API: the same services, refusals as a documented 409 with the next free slot."""

from __future__ import annotations

import datetime as dt

import pytest

from palpate.scheduling.models import Appointment, AppointmentStatus
from tests.scheduling.test_pages import local_now, make, open_daily, tomorrow  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_it_books_through_the_api_in_the_clinics_time(world, open_daily, as_user):  # noqa: F811
    day = tomorrow(open_daily)
    response = as_user(world.fran).post("/api/appointments", {
        "episode_id": world.harbor_episode.pk, "therapist_id": world.alice.pk, "starts_at": f"{day}T10:00:00",
        "kind": "evaluation"}, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "booked" and data["patient_id"] == world.harbor_patient.pk
    appointment = Appointment.objects.get()
    assert appointment.minutes == open_daily.evaluation_minutes
    assert appointment.starts_at.astimezone(dt.UTC).hour in (14, 15)  # 10:00 New York


def test_a_refusal_is_a_409_with_its_code_and_the_next_free_slot(world, open_daily, as_user):  # noqa: F811
    day = tomorrow(open_daily)
    client = as_user(world.fran)
    body = {"episode_id": world.harbor_episode.pk, "therapist_id": world.alice.pk, "starts_at": f"{day}T10:00:00-05:00",
            "minutes": 45}
    assert client.post("/api/appointments", body, content_type="application/json").status_code == 201
    again = client.post("/api/appointments", body, content_type="application/json")
    assert again.status_code == 409
    data = again.json()
    assert data["code"] == "therapist_busy" and "already has an appointment" in data["detail"]
    assert dt.datetime.fromisoformat(data["next_free"]["starts_at"]) == dt.datetime.fromisoformat(
        f"{day}T10:45:00-05:00")


def test_another_clinics_episode_or_appointment_is_a_404(world, open_daily, as_user):  # noqa: F811
    appointment = make(world, local_now(open_daily) + dt.timedelta(days=1))
    client = as_user(world.charlie)
    assert client.get(f"/api/appointments/{appointment.pk}").status_code == 404
    assert client.post(f"/api/appointments/{appointment.pk}/cancel", {"reason": "Nope nope"},
                       content_type="application/json").status_code == 404
    assert client.post("/api/appointments", {"episode_id": world.harbor_episode.pk, "therapist_id": world.charlie.pk,
                                              "starts_at": "2030-01-07T10:00:00"},
                       content_type="application/json").status_code == 404
    assert client.get("/api/appointments").json()["items"] == []


def test_move_cancel_check_in_and_no_show_through_the_api(world, open_daily, as_user):  # noqa: F811
    client = as_user(world.fran)
    now = local_now(open_daily)
    later = make(world, now + dt.timedelta(days=1))
    moved = client.post(f"/api/appointments/{later.pk}/move",
                        {"starts_at": (now + dt.timedelta(days=1, hours=1)).replace(minute=0, second=0,
                                                                                     microsecond=0).isoformat()},
                        content_type="application/json")
    assert moved.status_code in (200, 409), moved.content  # 409 only if that hour is outside 07:00-21:00
    cancelled = client.post(f"/api/appointments/{later.pk}/cancel", {"reason": "Patient called", "by_patient": False},
                            content_type="application/json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/appointments/{later.pk}/cancel", {"reason": "Again"}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_status"
    soon = make(world, now + dt.timedelta(minutes=30), therapist=world.bob)
    assert client.post(f"/api/appointments/{soon.pk}/check-in").json()["status"] == "arrived"
    gone = make(world, now - dt.timedelta(hours=3), minutes=30)
    missed = client.post(f"/api/appointments/{gone.pk}/no-show", {"reason": "x"}, content_type="application/json")
    assert missed.status_code == 409 and missed.json()["code"] == "reason_required"
    missed = client.post(f"/api/appointments/{gone.pk}/no-show", {"reason": "Forgot"}, content_type="application/json")
    assert missed.json()["status"] == AppointmentStatus.NO_SHOW


def test_start_and_complete_through_the_api(world, open_daily, as_user):  # noqa: F811
    appointment = make(world, local_now(open_daily) + dt.timedelta(minutes=10), status=AppointmentStatus.ARRIVED)
    client = as_user(world.alice)
    started = client.post(f"/api/appointments/{appointment.pk}/start")
    assert started.status_code == 200 and started.json()["appointment"]["status"] == "in_session"
    refused = client.post(f"/api/appointments/{appointment.pk}/complete")
    assert refused.status_code == 409 and "Sign the visit note" in refused.json()["detail"]
    assert as_user(world.fran).post(f"/api/appointments/{appointment.pk}/start").status_code == 403


def test_the_next_free_slot_and_the_patients_appointments(world, open_daily, as_user):  # noqa: F811
    client = as_user(world.fran)
    slot = client.get(f"/api/schedule/next-free?therapist_id={world.alice.pk}&minutes=30")
    assert slot.status_code == 200 and slot.json()["therapist_id"] == world.alice.pk
    make(world, local_now(open_daily) + dt.timedelta(days=2))
    listed = client.get(f"/api/patients/{world.harbor_patient.pk}/appointments").json()
    assert len(listed) == 1
    assert client.get(f"/api/schedule/next-free?therapist_id={world.charlie.pk}").status_code == 404


def test_authorisations_through_the_api(world, open_daily, as_user):  # noqa: F811
    client = as_user(world.fran)
    created = client.post(f"/api/patients/{world.harbor_patient.pk}/authorizations", {
        "episode_id": world.harbor_episode.pk, "reference": "UHC-9", "visits": 8, "starts_on": "2027-01-01",
        "ends_on": "2027-03-31"}, content_type="application/json")
    assert created.status_code == 201 and created.json()["visits_used"] == 0
    listed = client.get(f"/api/patients/{world.harbor_patient.pk}/authorizations").json()
    assert [a["reference"] for a in listed] == ["UHC-9"]
    bad = client.post(f"/api/patients/{world.harbor_patient.pk}/authorizations", {
        "episode_id": world.harbor_episode.pk, "reference": "UHC-9", "visits": 8, "starts_on": "2027-03-01",
        "ends_on": "2027-01-31"}, content_type="application/json")
    assert bad.status_code == 409 and bad.json()["code"] == "bad_dates"
