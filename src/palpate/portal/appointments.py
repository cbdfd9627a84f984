"""The patient's upcoming appointments, for the patient's home page (from ``palpate.scheduling``).

Only appointments still to come that the patient is expected at (booked, or arrived and in session
today); cancelled and missed ones are the clinic's business, not a reminder. Times are shown in
the clinic's time zone, the one the appointment was booked in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from palpate.scheduling.models import Appointment, AppointmentStatus
from palpate.scheduling.services import schedule_settings, zone

# A home page, not a calendar: the next few are enough to plan a week around.
SHOWN_MAX = 10
EXPECTED = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.IN_SESSION)


@dataclass(frozen=True)
class Upcoming:
    starts_at: dt.datetime  # the clinic's wall-clock time (naive: templates would convert an aware one)
    with_whom: str = ""
    where: str = ""


def upcoming(patient: Any, today: dt.date) -> list[Upcoming]:
    """The patient's appointments from ``today`` (in the clinic's time zone) on, soonest first."""
    tz = zone(schedule_settings(patient.clinic_id))
    start_of_day = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
    rows = (Appointment.objects.filter(clinic_id=patient.clinic_id, patient_id=patient.pk,
                                       starts_at__gte=start_of_day,
                                       status__in=EXPECTED)
            .select_related("therapist", "room").order_by("starts_at")[:SHOWN_MAX])
    return [Upcoming(a.starts_at.astimezone(tz).replace(tzinfo=None), f"with {a.therapist.display_name()}",
                     a.room.name if a.room is not None else "") for a in rows]
