"""The schedule's pages: the calendar, booking with refusals, an appointment's actions, the access rules."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.scheduling import services
from palpate.scheduling.models import Appointment, AppointmentStatus, CalendarFeed, OpeningHours

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_daily(world):  # noqa: ANN001, ANN201
    """Harbor (New York time) open 07:00-21:00 every day, no public holidays: tests run on any day."""
    settings = services.schedule_settings(world.harbor)
    settings.time_zone, settings.observe_public_holidays = "America/New_York", False
    settings.save()
    for weekday in range(7):
        OpeningHours.objects.create(clinic=world.harbor, weekday=weekday, opens=dt.time(7), closes=dt.time(21))
    return settings


def local_now(settings):  # noqa: ANN001, ANN201
    return timezone.now().astimezone(services.zone(settings))


def tomorrow(settings) -> dt.date:  # noqa: ANN001
    return local_now(settings).date() + dt.timedelta(days=1)


def make(world, start, minutes=45, status=AppointmentStatus.BOOKED, **kwargs):  # noqa: ANN001, ANN201
    """An appointment written directly (a past or current one the services would not book now)."""
    return Appointment.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                      therapist=kwargs.pop("therapist", world.alice), booked_by=world.fran,
                                      starts_at=start, ends_at=start + dt.timedelta(minutes=minutes), status=status,
                                      **kwargs)


def test_the_calendar_opens_on_the_therapists_own_day(world, open_daily, as_user):
    response = as_user(world.alice).get("/schedule/")
    assert response.status_code == 302 and f"therapist={world.alice.pk}" in response["Location"]


def test_the_clinic_day_has_a_column_per_therapist_with_free_slots(world, open_daily, as_user):
    day = tomorrow(open_daily)
    make(world, services.cal.instant(day, dt.time(10), services.zone(open_daily)))
    body = as_user(world.fran).get(f"/schedule/day/{day.isoformat()}/").content.decode()
    assert "Alice" in body and "Bob" in body  # the therapist and the assistant each have a column
    assert "Garcia, Maria" in body
    assert f"/schedule/book/?therapist={world.alice.pk}&amp;date={day.isoformat()}&amp;time=07%3A00" in body
    assert "Free" in body


def test_the_week_views_render_for_one_therapist_and_the_clinic(world, open_daily, as_user):
    day = tomorrow(open_daily)
    make(world, services.cal.instant(day, dt.time(10), services.zone(open_daily)))
    client = as_user(world.fran)
    assert "Garcia, Maria" in client.get(f"/schedule/week/{day.isoformat()}/?therapist={world.alice.pk}").content.decode()
    clinic = client.get(f"/schedule/week/{day.isoformat()}/").content.decode()
    assert "a column per therapist" in clinic and "Garcia" in clinic


def test_the_calendar_audits_which_patients_it_showed(world, open_daily, as_user):
    day = tomorrow(open_daily)
    make(world, services.cal.instant(day, dt.time(10), services.zone(open_daily)))
    as_user(world.fran).get(f"/schedule/day/{day.isoformat()}/")
    read = AuditEvent.objects.get(action="schedule.view")  # staged, then folded into the chain
    assert read.actor_id == world.fran.pk and read.new["patients_shown"] == [world.harbor_patient.pk]


def test_a_bad_day_or_another_clinics_therapist_is_a_404(world, open_daily, as_user):
    client = as_user(world.fran)
    assert client.get("/schedule/day/2027-02-30/").status_code == 404
    assert client.get(f"/schedule/day/2027-03-01/?therapist={world.charlie.pk}").status_code == 404


def _book_form(client, **values):  # noqa: ANN001, ANN003, ANN202
    return client.post("/schedule/book/", values)


def test_front_desk_books_from_the_calendar_form(world, open_daily, as_user):
    day = tomorrow(open_daily)
    response = _book_form(as_user(world.fran), episode=world.harbor_episode.pk, therapist=world.alice.pk,
                          date=day.isoformat(), time="10:00", kind="treatment", minutes="")
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.starts_at.astimezone(services.zone(open_daily)).strftime("%H:%M") == "10:00"
    assert appointment.minutes == open_daily.treatment_minutes


def test_an_overlapping_booking_keeps_what_was_typed_and_offers_the_next_free_slot(world, open_daily, as_user):
    day = tomorrow(open_daily)
    make(world, services.cal.instant(day, dt.time(10), services.zone(open_daily)))
    response = _book_form(as_user(world.fran), episode=world.harbor_episode.pk, therapist=world.alice.pk,
                          date=day.isoformat(), time="10:15", kind="evaluation", minutes="30", q="garcia")
    assert response.status_code == 409
    body = response.content.decode()
    assert "already has an appointment" in body and "Nothing you typed has been lost" in body
    assert 'value="garcia"' in body and 'value="30"' in body
    assert f"{day:%Y-%m-%d} 10:45" in body  # the next free slot, in words
    offer = re.search(r'href="(/schedule/book/\?[^"]+)"', body).group(1).replace("&amp;", "&")
    assert "time=10%3A45" in offer and "kind=evaluation" in offer and f"episode={world.harbor_episode.pk}" in offer
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("case", ["past", "outside_hours", "closure"])
def test_each_refused_booking_says_what_and_offers_the_next_free_slot(world, open_daily, as_user, case):
    from palpate.scheduling.models import Closure

    day = tomorrow(open_daily)
    values = {"episode": world.harbor_episode.pk, "therapist": world.alice.pk, "date": day.isoformat(),
              "time": "10:00", "kind": "treatment"}
    if case == "past":
        values["date"] = (day - dt.timedelta(days=3)).isoformat()
        expected = "is in the past"
    elif case == "outside_hours":
        values["time"] = "21:30"
        expected = "outside opening hours"
    else:
        Closure.objects.create(clinic=world.harbor, starts_on=day, ends_on=day, reason="Inventory day")
        expected = "closed on"
    response = _book_form(as_user(world.fran), **values)
    body = response.content.decode()
    assert response.status_code == 409 and expected in body
    assert "Use the next free slot" in body
    assert Appointment.objects.count() == 0


def test_booking_past_the_authorisation_asks_for_confirmation(world, open_daily, as_user):
    from palpate.scheduling.models import Authorization

    day = tomorrow(open_daily)
    Authorization.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                 reference="BCBS-55", visits=1, starts_on=day - dt.timedelta(days=30),
                                 ends_on=day + dt.timedelta(days=30), created_by=world.olivia)
    make(world, services.cal.instant(day, dt.time(8), services.zone(open_daily)))
    client = as_user(world.fran)
    values = {"episode": world.harbor_episode.pk, "therapist": world.alice.pk, "date": day.isoformat(),
              "time": "12:00", "kind": "treatment"}
    response = _book_form(client, **values)
    assert response.status_code == 409 and "BCBS-55 allows 1 visits" in response.content.decode()
    assert "Book anyway" in response.content.decode()
    assert _book_form(client, **values, confirm_over_authorization="on").status_code == 302
    assert Appointment.objects.count() == 2


def test_the_find_box_lists_matching_patients_episodes(world, open_daily, as_user):
    body = as_user(world.fran).get("/schedule/find/?q=garc").content.decode()
    assert f'value="{world.harbor_episode.pk}"' in body and "Low back pain" in body
    assert "Rossi" not in as_user(world.fran).get("/schedule/find/?q=rossi").content.decode()


def test_check_in_no_show_cancel_and_move_through_the_pages(world, open_daily, as_user):
    tz = services.zone(open_daily)
    now = local_now(open_daily)
    client = as_user(world.fran)
    here = make(world, now + dt.timedelta(minutes=20))
    assert client.post(f"/schedule/appointments/{here.pk}/check-in/").status_code == 302
    here.refresh_from_db()
    assert here.status == AppointmentStatus.ARRIVED and here.status_changed_by == world.fran
    missed = make(world, now - dt.timedelta(hours=2), minutes=30, therapist=world.bob)
    refused = client.post(f"/schedule/appointments/{missed.pk}/no-show/", {"reason": ""})
    assert refused.status_code == 400
    assert client.post(f"/schedule/appointments/{missed.pk}/no-show/", {"reason": "No answer by phone"}).status_code == 302
    missed.refresh_from_db()
    assert missed.status == AppointmentStatus.NO_SHOW and missed.reason == "No answer by phone"
    day = tomorrow(open_daily)
    later = make(world, services.cal.instant(day, dt.time(9), tz))
    moved = client.post(f"/schedule/appointments/{later.pk}/move/", {
        "therapist": world.alice.pk, "date": day.isoformat(), "time": "11:00", "minutes": "45", "kind": "treatment"})
    assert moved.status_code == 302
    later.refresh_from_db()
    assert later.starts_at.astimezone(tz).strftime("%H:%M") == "11:00"
    assert client.post(f"/schedule/appointments/{later.pk}/cancel/", {"reason": "Going on holiday", "by": "clinic"}
                       ).status_code == 302
    later.refresh_from_db()
    assert later.status == AppointmentStatus.CANCELLED
    chart = client.get(f"/patients/{world.harbor_patient.pk}/").content.decode()
    assert "No-show rate" in chart and "1 no-show" in chart


def test_start_visit_opens_the_linked_note_and_signing_completes_it(world, open_daily, as_user):
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.visits.services import do_sign_visit

    appointment = make(world, local_now(open_daily) + dt.timedelta(minutes=5), status=AppointmentStatus.ARRIVED)
    response = as_user(world.alice).post(f"/schedule/appointments/{appointment.pk}/start/")
    assert response.status_code == 302 and "/visits/" in response["Location"]
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.IN_SESSION and appointment.visit is not None
    appointment.visit.assessment, appointment.visit.plan_text = "Tolerated well.", "Continue."  # signing asks for both
    appointment.visit.save(update_fields=["assessment", "plan_text"])
    do_sign_visit(Actor.of(Membership.objects.get(user=world.alice)), appointment.visit)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED
    assert AuditEvent.objects.filter(action="appointment.complete", patient_id=world.harbor_patient.pk).exists()


def test_today_lists_the_therapists_appointments_with_who_is_waiting(world, open_daily, as_user):
    now = local_now(open_daily)
    start = max(now - dt.timedelta(minutes=10), now.replace(hour=0, minute=1))
    make(world, start, minutes=5, status=AppointmentStatus.ARRIVED, status_changed_at=timezone.now())
    body = as_user(world.alice).get("/").content.decode()
    assert "Your appointments today" in body and "Waiting:" in body and "Start visit" in body
    desk = as_user(world.fran).get("/").content.decode()
    assert "Today's appointments" in desk and "Garcia, Maria" in desk


def test_today_lists_authorisations_about_to_run_out(world, open_daily, as_user):
    from palpate.scheduling.models import Authorization

    today = local_now(open_daily).date()
    Authorization.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                 reference="AETNA-1", visits=12, starts_on=today - dt.timedelta(days=10),
                                 ends_on=today + dt.timedelta(days=5), created_by=world.olivia)
    Authorization.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                 reference="AETNA-2", visits=30, starts_on=today - dt.timedelta(days=10),
                                 ends_on=today + dt.timedelta(days=60), created_by=world.olivia)
    body = as_user(world.fran).get("/").content.decode()
    assert "Authorisations running out" in body and "AETNA-1" in body and "AETNA-2" not in body


# -- the appointment pages' own access matrix (not patient URLs: the appointment id is the key) --------

APPOINTMENT_PAGES = {  # path, is it a write
    "detail": ("/schedule/appointments/{a}/", False),
    "move": ("/schedule/appointments/{a}/move/", True),
    "cancel": ("/schedule/appointments/{a}/cancel/", True),
    "no_show": ("/schedule/appointments/{a}/no-show/", True),
    "check_in": ("/schedule/appointments/{a}/check-in/", True),
    "void": ("/schedule/appointments/{a}/void/", True),
}


@pytest.mark.parametrize("name", sorted(APPOINTMENT_PAGES))
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_clinics_appointment_is_a_404(world, open_daily, as_user, name, method):
    appointment = make(world, local_now(open_daily) + dt.timedelta(days=1))
    response = getattr(as_user(world.charlie), method)(APPOINTMENT_PAGES[name][0].format(a=appointment.pk))
    assert response.status_code == 404


@pytest.mark.parametrize("name", sorted(n for n, (_, write) in APPOINTMENT_PAGES.items() if write))
def test_the_auditor_cannot_change_an_appointment(world, open_daily, as_user, name):
    appointment = make(world, local_now(open_daily) + dt.timedelta(days=1))
    assert as_user(world.aubrey).post(APPOINTMENT_PAGES[name][0].format(a=appointment.pk), {"reason": "x" * 5}
                                      ).status_code == 403
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


def test_signed_out_visitors_are_sent_to_sign_in(world, open_daily, client):
    appointment = make(world, local_now(open_daily) + dt.timedelta(days=1))
    for path in ["/schedule/", "/schedule/book/", "/schedule/settings/", "/schedule/feed/",
                 *(p.format(a=appointment.pk) for p, _ in APPOINTMENT_PAGES.values())]:
        assert client.get(path)["Location"].startswith("/accounts/login/"), path


def test_front_desk_cannot_start_a_visit_and_only_owners_change_settings(world, open_daily, as_user):
    appointment = make(world, local_now(open_daily) + dt.timedelta(minutes=5))
    assert as_user(world.fran).post(f"/schedule/appointments/{appointment.pk}/start/").status_code == 403
    assert as_user(world.alice).get("/schedule/settings/").status_code == 403
    assert as_user(world.olivia).get("/schedule/settings/").status_code == 200


def test_the_owner_sets_hours_closures_rooms_and_time_off(world, open_daily, as_user):
    from palpate.scheduling.models import Closure, Room, TimeOff, WorkingHours

    client = as_user(world.olivia)
    day = tomorrow(open_daily)
    assert client.post("/schedule/settings/", {"section": "room", "room-name": "Room 2"}).status_code == 302
    assert Room.objects.filter(clinic=world.harbor, name="Room 2").exists()
    assert client.post("/schedule/settings/", {"section": "closure", "closure-starts_on": day.isoformat(),
                                               "closure-ends_on": day.isoformat(), "closure-reason": "Move"}
                       ).status_code == 302
    assert Closure.objects.filter(clinic=world.harbor, reason="Move").exists()
    hours = {"section": "working", "therapist": world.alice.pk, "working-from_0": "09:00", "working-to_0": "17:00"}
    assert client.post("/schedule/settings/", hours).status_code == 302
    assert list(WorkingHours.objects.filter(therapist=world.alice).values_list("weekday", flat=True)) == [0]
    bad = client.post("/schedule/settings/", {**hours, "working-to_0": "08:00"})
    assert bad.status_code == 400 and "the end comes after the start" in bad.content.decode()
    off = {"section": "time_off", "off-therapist": world.alice.pk, "off-starts_on": day.isoformat(), "off-starts": "00:00",
           "off-ends_on": day.isoformat(), "off-ends": "23:59", "off-reason": "Course"}
    assert client.post("/schedule/settings/", off).status_code == 302
    assert TimeOff.objects.filter(therapist=world.alice).exists()
    general = client.post("/schedule/settings/", {"section": "general", "time_zone": "Mars/Olympus", "country": "US",
                                                  "reminder_hours": 24, "late_cancel_hours": 24, "slot_minutes": 15,
                                                  "evaluation_minutes": 60, "treatment_minutes": 45,
                                                  "reevaluation_minutes": 45, "discharge_minutes": 30})
    assert general.status_code == 400 and "Enter a time zone name" in general.content.decode()
    assert 'value="Mars/Olympus"' in general.content.decode()


def test_a_calendar_feed_is_private_revocable_and_stored_hashed(world, open_daily, as_user, client):
    day = tomorrow(open_daily)
    make(world, services.cal.instant(day, dt.time(10), services.zone(open_daily)))
    page = as_user(world.alice).post("/schedule/feed/", {"action": "create"}).content.decode()
    url = re.search(r'value="(http[^"]+\.ics)"', page).group(1)
    token = url.rsplit("/", 1)[-1].removesuffix(".ics")
    feed = CalendarFeed.objects.get()
    assert token not in feed.token_hash and feed.token_hash == services.feed_token_hash(token)
    client.logout()
    answer = client.get(f"/schedule/feed/{token}.ics")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/calendar")
    from palpate.scheduling.feed import parse

    events = [c for c in parse(answer.content).walk() if c.name == "VEVENT"]
    assert len(events) == 1 and str(events[0]["summary"]) == "Treatment: M.G."  # initials only
    assert "Garcia" not in answer.content.decode()
    as_user(world.alice).post("/schedule/feed/", {"action": "revoke"})
    client.logout()
    assert client.get(f"/schedule/feed/{token}.ics").status_code == 404
    assert client.get("/schedule/feed/not-a-token.ics").status_code == 404


def test_the_series_page_proposes_then_books_and_the_chart_counts_them(world, open_daily, as_user):
    from tests.scheduling.conftest import signed_plan

    first = tomorrow(open_daily)
    plan = signed_plan(world, first, per_week=2, weeks=2)
    client = as_user(world.fran)
    url = f"/patients/{world.harbor_patient.pk}/schedule/plans/{plan.pk}/book/"
    values = {"therapist": world.alice.pk, "first_day": first.isoformat(), "minutes": 45,
              f"at_{first.weekday()}": "09:00", f"at_{(first.weekday() + 3) % 7}": "16:00"}
    proposal = client.post(url, values)
    assert proposal.status_code == 200 and "Proposed: 4 appointments" in proposal.content.decode()
    assert Appointment.objects.count() == 0
    assert client.post(url, {**values, "confirm": "1"}).status_code == 302
    assert Appointment.objects.filter(plan=plan).count() == 4
    chart = client.get(f"/patients/{world.harbor_patient.pk}/").content.decode()
    assert re.search(r"Booked <strong>4</strong> · attended <strong>0</strong> · remaining <strong>0</strong>", chart)
    page = as_user(world.alice).get(f"/patients/{world.harbor_patient.pk}/plans/{plan.pk}/").content.decode()
    assert re.search(r"booked <strong>4</strong> · attended <strong>0</strong> · remaining <strong>0</strong>", page)
    empty = client.post(url, {"therapist": world.alice.pk, "first_day": first.isoformat(), "minutes": 45})
    assert empty.status_code == 400 and "at least one weekday" in empty.content.decode()


def test_an_impossible_year_is_a_clear_error_not_a_crash(world, open_daily, as_user):
    client = as_user(world.fran)
    response = _book_form(client, episode=world.harbor_episode.pk, therapist=world.alice.pk, date="0001-01-01",
                          time="10:00", kind="treatment")
    assert response.status_code == 400 and "Enter a date between 2000 and 2199" in response.content.decode()
    assert client.get("/schedule/week/0001-01-01/").status_code == 404
    api = client.get("/api/appointments?start=0001-01-01&end=9999-12-31")
    assert api.status_code == 200 and api.json()["items"] == []
    booked = client.post("/api/appointments", {"episode_id": world.harbor_episode.pk, "therapist_id": world.alice.pk,
                                                "starts_at": "0001-01-01T10:00:00"}, content_type="application/json")
    assert booked.status_code == 409 and booked.json()["code"] == "bad_time"


def test_a_discharged_episodes_open_bookings_leave_the_day_board(world, open_daily):
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.scheduling.today import day_board

    now = local_now(open_daily)
    booked = make(world, now.replace(hour=0, minute=1, second=0, microsecond=0), minutes=5)  # today, still booked
    desk = Actor.of(Membership.objects.get(user=world.fran, clinic=world.harbor))
    assert [row.appointment.pk for row in day_board(desk).rows] == [booked.pk]
    world.harbor_episode.status, world.harbor_episode.discharged_on = "discharged", timezone.localdate()
    world.harbor_episode.save()
    assert day_board(desk).rows == []
