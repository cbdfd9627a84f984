"""A full clinic week for the scheduling benchmark and its query-budget test.

``build_week`` gives a clinic ``therapists`` therapists, each with ``per_day`` appointments a day
for five weekdays from ``monday``, patients and episodes to match. The rows are written in bulk
(what is measured is reading and drawing the week, not writing it); the times never overlap, so the
database's no-double-booking rules accept them. ``series_plan`` makes a signed plan of care for a
new patient, ready for "Book the series".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

SLOT_MINUTES = 45
FIRST_HOUR = 8


@dataclass
class Week:
    clinic: Any
    monday: dt.date
    therapists: list[Any]
    front_desk: Any
    appointments: int


def next_monday(today: dt.date, weeks_ahead: int = 1) -> dt.date:
    return today + dt.timedelta(days=7 * weeks_ahead - today.weekday())


def clinic_with_staff(slug: str, therapists: int) -> tuple[Any, list[Any], Any]:
    from palpate.accounts.models import User
    from palpate.clinics.models import Clinic, Membership
    from palpate.clinics.roles import Role
    from palpate.scheduling.models import OpeningHours
    from palpate.scheduling.services import schedule_settings

    clinic = Clinic.objects.create(name=f"Bench {slug}", slug=slug)
    settings = schedule_settings(clinic)
    settings.observe_public_holidays = False  # the measured week must be a full one whatever the date
    settings.save()
    OpeningHours.objects.bulk_create([OpeningHours(clinic=clinic, weekday=d, opens=dt.time(8), closes=dt.time(18))
                                      for d in range(5)])
    staff = []
    for n in range(therapists):
        user = User.objects.create_user(f"{slug}-pt{n}", password="bench-password-1", first_name=f"Therapist{n}",
                                        last_name=slug.title())
        Membership.objects.create(clinic=clinic, user=user, role=Role.THERAPIST)
        staff.append(user)
    desk = User.objects.create_user(f"{slug}-desk", password="bench-password-1")
    Membership.objects.create(clinic=clinic, user=desk, role=Role.FRONT_DESK)
    return clinic, staff, desk


def add_patients(clinic: Any, count: int, start: int = 0) -> list[Any]:
    from palpate.patients.models import Episode, Patient

    patients = Patient.objects.bulk_create([
        Patient(clinic=clinic, record_number=f"B{start + n:06d}", given_name=f"Given{start + n}",
                family_name=f"Family{start + n}", date_of_birth=dt.date(1970, 1, 1) + dt.timedelta(days=n), sex="female")
        for n in range(count)])
    return Episode.objects.bulk_create([
        Episode(clinic=clinic, patient=p, condition="low_back_pain", body_region="lower_back", diagnosis="Low back pain",
                icd10_code="M54.50", onset_date=dt.date(2026, 1, 1), payer="self_pay", opened_on=dt.date(2026, 1, 2))
        for p in patients])


def build_week(slug: str = "bench", therapists: int = 10, per_day: int = 8, monday: dt.date | None = None) -> Week:
    from palpate.scheduling.calendar import instant
    from palpate.scheduling.models import Appointment
    from palpate.scheduling.services import schedule_settings, zone

    clinic, staff, desk = clinic_with_staff(slug, therapists)
    tz = zone(schedule_settings(clinic))
    monday = monday or next_monday(timezone.now().astimezone(tz).date())
    episodes = add_patients(clinic, max(1, therapists * per_day))
    rows = []
    for day in range(5):
        date = monday + dt.timedelta(days=day)
        for t, therapist in enumerate(staff):
            for slot in range(per_day):
                start = instant(date, dt.time(FIRST_HOUR), tz) + dt.timedelta(minutes=(SLOT_MINUTES + 15) * slot)
                episode = episodes[(t * per_day + slot) % len(episodes)]
                rows.append(Appointment(clinic=clinic, patient_id=episode.patient_id, episode=episode,
                                        therapist=therapist, starts_at=start,
                                        ends_at=start + dt.timedelta(minutes=SLOT_MINUTES), booked_by=desk))
    Appointment.objects.bulk_create(rows)
    return Week(clinic, monday, staff, desk, len(rows))


def series_plan(clinic: Any, therapist: Any, start: dt.date, number: int, per_week: int = 3, weeks: int = 4) -> Any:
    """A signed plan of care (3 a week for 4 weeks: 12 visits inside its 30-day re-evaluation) for a new patient."""
    from palpate.lib.models_common import RecordStatus
    from palpate.plans.certification import recertify_by, reevaluate_by
    from palpate.plans.models import PlanOfCare

    episode = add_patients(clinic, 1, start=10_000 + number)[0]
    return PlanOfCare.objects.create(
        clinic=clinic, patient_id=episode.patient_id, episode=episode, created_by=therapist, start_date=start,
        frequency_per_week=per_week, duration_weeks=weeks, status=RecordStatus.SIGNED, signed_at=timezone.now(),
        signed_by=therapist, recertify_by=recertify_by(start, weeks), reevaluate_by=reevaluate_by(start, weeks))
