"""The clinic's day in a real browser, on the demo data (issue 14's walk).

The front desk (harbor-desk) books the series from a signed plan of care, checks a patient in from
Today; the therapist (harbor-pt) sees who is waiting on Today, starts the visit from the
appointment, signs the note, and the appointment shows completed; another patient's missed
appointment is recorded as a no-show with its reason, and the chart shows the no-show rate.

The demo's patients are chosen, not hard-coded, and the clinic is opened every day from 06:00 to
midnight without public holidays, so the walk runs on any day at any hour.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.e2e


def _prepare():  # noqa: ANN202
    """Harbor open daily; patient A's plan with visits left to book, B booked today, C missed yesterday."""
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Clinic, Membership
    from palpate.lib.models_common import RecordStatus
    from palpate.plans.models import PlanOfCare
    from palpate.scheduling import services
    from palpate.scheduling.calendar import instant
    from palpate.scheduling.models import OPEN, Appointment, OpeningHours, WorkingHours
    from palpate.visits.models import Visit

    harbor = Clinic.objects.get(slug="harbor")
    settings = services.schedule_settings(harbor)
    settings.observe_public_holidays = False
    settings.save()
    OpeningHours.objects.filter(clinic=harbor).delete()
    OpeningHours.objects.bulk_create([OpeningHours(clinic=harbor, weekday=d, opens=dt.time(6), closes=dt.time(23, 59))
                                      for d in range(7)])
    pt = Membership.objects.select_related("user", "clinic").get(clinic=harbor, user__username="harbor-pt")
    desk = Actor.of(Membership.objects.select_related("user", "clinic").get(clinic=harbor, user__username="harbor-desk"))
    WorkingHours.objects.filter(clinic=harbor, therapist=pt.user).delete()  # works whenever the clinic is open
    tz = services.zone(settings)
    now = timezone.now().astimezone(tz)
    drafts = set(Visit.objects.filter(clinic=harbor, status=RecordStatus.DRAFT).values_list("episode_id", flat=True))
    plans = list(PlanOfCare.objects.filter(clinic=harbor, status=RecordStatus.SIGNED, superseded_by__isnull=True,
                                           episode__status="active").exclude(episode_id__in=drafts)
                 .select_related("patient", "episode").order_by("-reevaluate_by", "patient_id"))
    series_plan, arriving = plans[0], plans[1]
    assert series_plan.reevaluate_by >= now.date() + dt.timedelta(days=4), "no demo plan has a week left to book"
    # Everything open of A and B is cancelled by the clinic, so A's series and B's day start clean.
    for appointment in Appointment.objects.filter(episode__in=[series_plan.episode, arriving.episode], status__in=OPEN):
        services.do_cancel(desk, appointment, "Rebooked for the browser walk", by_patient=False)
    def first_free(after: dt.datetime) -> dt.datetime:
        slot = services.next_free_slot(settings, pt.user_id, 30, after)
        assert slot is not None
        return slot.starts_at

    midnight = instant(now.date(), dt.time(0), tz)
    start = first_free(max(midnight + dt.timedelta(minutes=1), now - dt.timedelta(minutes=10)))
    assert start.astimezone(tz).date() == now.date(), "no free half hour left today"
    booked = services.do_book(desk, services.Booking(episode=arriving.episode, therapist_id=pt.user_id, starts_at=start,
                                                     minutes=30, confirm_over_authorization=True),
                              now=start - dt.timedelta(minutes=1))
    missed_plan = next(p for p in plans[2:] if p.patient_id not in (series_plan.patient_id, arriving.patient_id))
    yesterday = first_free(instant(now.date() - dt.timedelta(days=1), dt.time(6), tz))
    missed = services.do_book(desk, services.Booking(episode=missed_plan.episode, therapist_id=pt.user_id,
                                                     starts_at=yesterday, minutes=30, confirm_over_authorization=True),
                              now=yesterday - dt.timedelta(days=1))
    return series_plan, booked, missed


def test_front_desk_books_a_series_checks_in_and_the_therapist_completes_the_visit(demo_world, live_server, browser):
    from palpate.scheduling.models import Appointment, AppointmentStatus

    plan, booked, missed = _prepare()
    base = live_server.url
    ARTIFACTS.mkdir(exist_ok=True)
    desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    desk.set_default_timeout(15_000)
    sign_in(desk, base, "harbor-desk")

    # --- the series from the signed plan of care ------------------------------------------------------
    desk.goto(f"{base}/patients/{plan.patient_id}/")
    desk.get_by_role("link", name="Book the series").click()
    first = dt.date.fromisoformat(desk.get_by_label("From").input_value())
    desk.get_by_label(first.strftime("%A"), exact=True).fill("09:00")
    desk.get_by_label((first + dt.timedelta(days=2)).strftime("%A"), exact=True).fill("16:30")
    desk.get_by_role("button", name="Propose the appointments").click()
    expect(desk.get_by_text(re.compile(r"Proposed: \d+ appointments?"))).to_be_visible()
    proposed = int(re.search(r"Proposed: (\d+)", desk.content()).group(1))
    assert proposed >= 2
    desk.screenshot(path=str(ARTIFACTS / "clinic-day-1-series-proposed.png"), full_page=True)
    desk.get_by_role("button", name=re.compile(r"Book these \d+")).click()
    expect(desk.get_by_text(re.compile(rf"Booked {proposed} appointments? from the plan of care"))).to_be_visible()
    assert Appointment.objects.filter(plan=plan, status=AppointmentStatus.BOOKED).count() == proposed

    # --- the patient arrives: checked in from Today -------------------------------------------------------
    desk.goto(f"{base}/")
    row = desk.get_by_role("listitem").filter(has_text=booked.patient.family_name).filter(has_text="Booked")
    row.get_by_role("button", name="Check in").click()
    expect(desk.get_by_text(f"{booked.patient.full_name} has arrived.")).to_be_visible()
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.ARRIVED

    # --- the therapist sees who is waiting and starts the visit from Today --------------------------------
    ARTIFACTS.mkdir(exist_ok=True)
    therapist = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    therapist.set_default_timeout(15_000)
    sign_in(therapist, base, "harbor-pt")
    expect(therapist.get_by_text(re.compile(r"Waiting:.*" + re.escape(booked.patient.family_name)))).to_be_visible()
    mine = therapist.get_by_role("listitem").filter(has_text=booked.patient.family_name).filter(has_text="Arrived")
    mine.get_by_role("button", name="Start visit").click()
    therapist.wait_for_url(re.compile(r"/visits/\d+/$"))
    therapist.get_by_label("Pain before treatment, NPRS (0-10)").fill("5")
    therapist.get_by_label("Pain after treatment, NPRS (0-10)").fill("3")
    therapist.get_by_label("Subjective: what the patient reports").fill("Easier this week; slept through.")
    table = therapist.get_by_role("table", name="Complementary therapies delivered")
    for n in range(1, table.get_by_label(re.compile(r"Minutes, complementary therapy row \d+")).count() + 1):
        if table.get_by_label(f"Therapy, complementary therapy row {n}", exact=True).input_value():
            table.get_by_label(f"Minutes, complementary therapy row {n}", exact=True).fill("10")  # carried at 0
    therapist.get_by_label("Assessment", exact=True).fill("Improving as planned.")
    therapist.get_by_label("Plan", exact=True).fill("Continue the plan of care.")
    therapist.get_by_role("button", name="Save and sign").click()
    expect(therapist.get_by_text("Saved and signed.")).to_be_visible()
    therapist.goto(f"{base}/schedule/appointments/{booked.pk}/")
    expect(therapist.locator(".status-completed")).to_have_text("Completed")
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.COMPLETED and booked.visit.is_signed

    # --- another patient did not come: a no-show with its reason -------------------------------------------
    desk.goto(f"{base}/schedule/appointments/{missed.pk}/")
    desk.get_by_role("link", name="No-show").click()
    desk.get_by_role("button", name="Record the no-show").click()
    # The reason is required: the browser keeps the form (the server would refuse it too), nothing is recorded.
    assert desk.get_by_label("Reason").evaluate("el => el.validity.valueMissing")
    missed.refresh_from_db()
    assert missed.status == AppointmentStatus.BOOKED
    desk.get_by_label("Reason").fill("No answer by phone; message left")
    desk.get_by_role("button", name="Record the no-show").click()
    expect(desk.get_by_text("Recorded: no-show.")).to_be_visible()
    expect(desk.get_by_text("No answer by phone; message left")).to_be_visible()
    missed.refresh_from_db()
    assert missed.status == AppointmentStatus.NO_SHOW and missed.status_changed_by.username == "harbor-desk"
    desk.goto(f"{base}/patients/{missed.patient_id}/")
    expect(desk.get_by_text(re.compile(r"No-show rate: \d+%"))).to_be_visible()
    desk.screenshot(path=str(ARTIFACTS / "clinic-day-2-no-show-on-chart.png"), full_page=True)

    # --- the calendar with the day's appointments, usable from the keyboard ---------------------------------
    desk.goto(f"{base}/schedule/day/{timezone.now().date().isoformat()}/")
    first_block = desk.locator(".cal-block").first
    first_block.focus()
    desk.keyboard.press("ArrowDown")
    assert desk.evaluate("document.activeElement.classList.contains('cal-block')")
    desk.screenshot(path=str(ARTIFACTS / "clinic-day-3-calendar.png"), full_page=True)
