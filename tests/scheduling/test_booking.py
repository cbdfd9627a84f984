"""Booking one appointment: what is refused, why, and which free slot is offered instead."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from palpate.audit.models import AuditEvent
from palpate.scheduling import services
from palpate.scheduling.models import Appointment, AppointmentStatus, Authorization, Closure, TimeOff
from tests.scheduling.conftest import NEW_YORK, NOW, at


def test_it_books_a_free_slot_stores_it_in_utc_and_audits_it(sched):
    appointment = services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:00")), now=NOW)
    assert appointment.starts_at == dt.datetime(2027, 3, 2, 15, 0, tzinfo=dt.UTC)
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(minutes=45)
    assert appointment.status == AppointmentStatus.BOOKED and appointment.booked_by == sched.world.fran
    event = AuditEvent.objects.get(action="appointment.book")
    assert event.patient_id == sched.world.harbor_patient.pk and event.actor_id == sched.world.fran.pk


def test_it_refuses_a_booking_in_the_past_and_offers_the_next_free_slot(sched):
    with pytest.raises(services.InThePast) as refused:
        services.do_book(sched.fran, sched.booking(at("2027-02-26", "10:00")), now=NOW)
    assert "in the past" in refused.value.message
    assert refused.value.next_free.starts_at == at("2027-03-01", "08:00")
    assert Appointment.objects.count() == 0


def test_it_refuses_a_time_outside_opening_hours_and_says_the_hours(sched):
    with pytest.raises(services.OutsideOpeningHours) as refused:
        services.do_book(sched.fran, sched.booking(at("2027-03-06", "12:30")), now=NOW)  # Saturday, closes 13:00
    assert "outside opening hours (09:00-13:00 on Saturdays)" in refused.value.message
    assert refused.value.next_free.starts_at == at("2027-03-06", "12:30") + dt.timedelta(days=2) - dt.timedelta(
        hours=4, minutes=30)  # Monday 08:00


def test_it_refuses_a_public_holiday_by_its_name(sched):
    with pytest.raises(services.ClinicClosed) as refused:
        services.do_book(sched.fran, sched.booking(at("2027-05-31", "10:00")), now=NOW)
    assert "Memorial Day" in refused.value.message
    assert refused.value.next_free.starts_at == at("2027-06-01", "08:00")


def test_it_refuses_the_clinics_own_closure(sched):
    Closure.objects.create(clinic=sched.world.harbor, starts_on=dt.date(2027, 3, 3), ends_on=dt.date(2027, 3, 4),
                           reason="Staff training")
    with pytest.raises(services.ClinicClosed) as refused:
        services.do_book(sched.fran, sched.booking(at("2027-03-04", "09:00")), now=NOW)
    assert "Staff training" in refused.value.message
    assert refused.value.next_free.starts_at == at("2027-03-05", "08:00")


def test_it_refuses_an_overlap_and_offers_the_end_of_the_other_appointment(sched):
    services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:00")), now=NOW)
    with pytest.raises(services.SlotTaken) as refused:
        services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:30")), now=NOW)
    assert "already has an appointment" in refused.value.message
    assert refused.value.next_free.starts_at == at("2027-03-02", "10:45")
    assert refused.value.as_json()["code"] == "therapist_busy"


def test_back_to_back_appointments_do_not_overlap(sched):
    services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:00")), now=NOW)
    services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:45")), now=NOW)
    assert Appointment.objects.count() == 2


def test_a_cancelled_appointment_frees_its_time(sched):
    first = services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:00")), now=NOW)
    services.do_cancel(sched.fran, first, "Patient has the flu", now=NOW)
    services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:00")), now=NOW)
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1


def test_time_off_makes_the_therapist_unavailable(sched):
    TimeOff.objects.create(clinic=sched.world.harbor, therapist=sched.world.alice, starts_at=at("2027-03-02", "08:00"),
                           ends_at=at("2027-03-02", "12:00"), reason="Course")
    with pytest.raises(services.TherapistUnavailable) as refused:
        services.do_book(sched.fran, sched.booking(at("2027-03-02", "09:00")), now=NOW)
    assert refused.value.next_free.starts_at == at("2027-03-02", "12:00")


def test_booking_past_the_authorised_visits_warns_and_books_only_when_confirmed(sched):
    Authorization.objects.create(clinic=sched.world.harbor, patient=sched.world.harbor_patient, episode=sched.episode,
                                 reference="AUTH-77", visits=1, starts_on=dt.date(2027, 3, 1),
                                 ends_on=dt.date(2027, 3, 31), created_by=sched.world.olivia)
    services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:00")), now=NOW)
    with pytest.raises(services.OverAuthorization) as refused:
        services.do_book(sched.fran, sched.booking(at("2027-03-03", "10:00")), now=NOW)
    assert "AUTH-77 allows 1 visits: 0 used and 1 booked" in refused.value.message
    assert Appointment.objects.count() == 1
    services.do_book(sched.fran, sched.booking(at("2027-03-03", "10:00"), confirm_over_authorization=True), now=NOW)
    assert Appointment.objects.count() == 2


def test_booking_after_the_authorisation_ends_offers_a_slot_inside_it(sched):
    Authorization.objects.create(clinic=sched.world.harbor, patient=sched.world.harbor_patient, episode=sched.episode,
                                 reference="AUTH-9", visits=10, starts_on=dt.date(2027, 3, 1),
                                 ends_on=dt.date(2027, 3, 10), created_by=sched.world.olivia)
    with pytest.raises(services.OverAuthorization) as refused:
        services.do_book(sched.fran, sched.booking(at("2027-03-15", "10:00")), now=NOW)
    assert "No payer authorisation covers 2027-03-15" in refused.value.message
    assert refused.value.next_free.starts_at == at("2027-03-01", "08:00")


def test_the_database_itself_refuses_an_overlap_written_around_the_services(sched):
    services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:00")), now=NOW)
    with pytest.raises(IntegrityError, match="appointment_no_therapist_overlap"), transaction.atomic():
        Appointment.objects.create(clinic=sched.world.harbor, patient=sched.world.harbor_patient,
                                   episode=sched.episode, therapist=sched.world.alice, booked_by=sched.world.fran,
                                   starts_at=at("2027-03-02", "10:15"), ends_at=at("2027-03-02", "11:00"))


def test_the_database_refuses_moving_an_appointment_onto_another(sched):
    services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:00")), now=NOW)
    second = services.do_book(sched.fran, sched.booking(at("2027-03-02", "11:00")), now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=second.pk).update(starts_at=at("2027-03-02", "10:30"))


def test_a_room_cannot_hold_two_appointments_at_once(sched):
    from palpate.accounts.models import User
    from palpate.clinics.models import Membership
    from palpate.scheduling.models import Room

    room = Room.objects.create(clinic=sched.world.harbor, name="Room 1")
    second = User.objects.create_user("second-therapist", password="x" * 12)
    Membership.objects.create(clinic=sched.world.harbor, user=second, role="therapist")
    services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:00"), room_id=room.pk), now=NOW)
    other = sched.booking(at("2027-03-02", "10:00"), room_id=room.pk)
    other.therapist_id = second.pk
    with pytest.raises(services.RoomTaken) as refused:
        services.do_book(sched.fran, other, now=NOW)
    assert refused.value.next_free.starts_at == at("2027-03-02", "10:45")


def test_moving_keeps_the_appointment_and_checks_the_new_time(sched):
    appointment = services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:00")), now=NOW)
    services.do_book(sched.fran, sched.booking(at("2027-03-02", "14:00")), now=NOW)
    with pytest.raises(services.SlotTaken):
        services.do_move(sched.fran, appointment, sched.booking(at("2027-03-02", "14:15")), now=NOW)
    moved = services.do_move(sched.fran, appointment, sched.booking(at("2027-03-02", "10:30")), now=NOW)
    assert moved.pk == appointment.pk and moved.starts_at == at("2027-03-02", "10:30")
    assert AuditEvent.objects.filter(action="appointment.move").count() == 1


def test_a_late_cancellation_is_one_inside_the_clinics_window(sched):
    soon = services.do_book(sched.fran, sched.booking(at("2027-03-01", "15:00")), now=NOW)
    later = services.do_book(sched.fran, sched.booking(at("2027-03-04", "15:00")), now=NOW)
    assert services.do_cancel(sched.fran, soon, "Car broke down", now=NOW).status == AppointmentStatus.LATE_CANCELLED
    assert services.do_cancel(sched.fran, later, "Travelling", now=NOW).status == AppointmentStatus.CANCELLED
    with pytest.raises(services.InvalidRequest):
        services.do_cancel(sched.fran, later, "", now=NOW)


def test_a_no_show_needs_a_reason_and_the_appointment_to_have_begun(sched):
    appointment = services.do_book(sched.fran, sched.booking(at("2027-03-01", "09:00")), now=NOW)
    with pytest.raises(services.NotNow):
        services.do_no_show(sched.fran, appointment, "Did not come", now=NOW)
    with pytest.raises(services.InvalidRequest):
        services.do_no_show(sched.fran, appointment, " ", now=at("2027-03-01", "09:20"))
    missed = services.do_no_show(sched.fran, appointment, "Did not come, no answer by phone", now=at("2027-03-01", "09:20"))
    assert missed.status == AppointmentStatus.NO_SHOW and missed.status_changed_by == sched.world.fran
    assert missed.reason == "Did not come, no answer by phone"


def test_check_in_start_and_signing_complete_the_appointment(sched):
    from palpate.visits.services import do_sign_visit

    appointment = services.do_book(sched.fran, sched.booking(at("2027-03-01", "09:00")), now=NOW)
    arrived = services.do_check_in(sched.fran, appointment, now=at("2027-03-01", "08:55"))
    assert arrived.status == AppointmentStatus.ARRIVED and arrived.status_changed_by == sched.world.fran
    visit = services.do_start(sched.alice, appointment, now=at("2027-03-01", "09:01"))
    assert visit.visit_date == dt.date(2027, 3, 1)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.IN_SESSION and appointment.visit_id == visit.pk
    assert services.do_start(sched.alice, appointment, now=at("2027-03-01", "09:02")).pk == visit.pk  # idempotent
    visit.assessment, visit.plan_text = "Tolerated well.", "Continue."  # signing asks for both
    visit.save(update_fields=["assessment", "plan_text"])
    do_sign_visit(sched.alice, visit)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED and appointment.status_changed_by == sched.world.alice


def test_front_desk_cannot_start_a_visit_and_the_auditor_cannot_book(sched, world):
    from django.core.exceptions import PermissionDenied

    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership

    appointment = services.do_book(sched.fran, sched.booking(at("2027-03-01", "09:00")), now=NOW)
    with pytest.raises(PermissionDenied):
        services.do_start(sched.fran, appointment, now=at("2027-03-01", "09:00"))
    aubrey = Actor.of(Membership.objects.get(user=world.aubrey))
    with pytest.raises(PermissionDenied):
        services.do_book(aubrey, sched.booking(at("2027-03-02", "09:00")), now=NOW)


def test_another_clinics_episode_cannot_be_booked(sched):
    with pytest.raises(services.InvalidRequest):
        services.do_book(sched.charlie, sched.booking(at("2027-03-02", "09:00")), now=NOW)


def test_the_no_show_rate_counts_missed_among_attended_missed_and_late_cancelled(sched):
    for time, status in (("09:00", "completed"), ("10:00", "completed"), ("11:00", "no_show"), ("12:00", "cancelled")):
        Appointment.objects.create(clinic=sched.world.harbor, patient=sched.world.harbor_patient, episode=sched.episode,
                                   therapist=sched.world.alice, booked_by=sched.world.fran, status=status,
                                   starts_at=at("2027-02-01", time), ends_at=at("2027-02-01", time) + dt.timedelta(minutes=30))
    counts = services.patient_no_shows(sched.world.harbor_patient, now=NOW)
    assert counts == {"attended": 2, "no_shows": 1, "late_cancellations": 0, "counted": 3, "rate": 33}


def test_times_are_shown_in_the_clinics_time_zone(sched):
    from palpate.scheduling.calendar import words

    appointment = services.do_book(sched.fran, sched.booking(at("2027-03-02", "10:00")), now=NOW)
    assert words(appointment.starts_at, NEW_YORK) == "Tue 2027-03-02 10:00"
