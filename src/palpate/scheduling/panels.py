"""The scheduling panels of the patient chart (``patients/chart.py``): appointments, no-shows, the series.

The patient panel lists the coming appointments and the no-show rate; the episode panel shows the
signed plan's series (booked, attended, remaining) with "Book the series", and the payer's
authorisation with its visits used. Neither holds clinical content, so the front desk sees both.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from palpate.scheduling.calendar import words
from palpate.scheduling.models import OPEN, Appointment, Authorization
from palpate.scheduling.services import patient_no_shows, plan_counts, schedule_settings, zone
from palpate.scheduling.today import with_use

UPCOMING_SHOWN = 5


def _clinic(context: Any, clinic_id: int) -> Any:
    """The request's clinic object when it is the patient's (its settings are read once per page)."""
    clinic = context.get("clinic")
    return clinic if clinic is not None and clinic.pk == clinic_id else clinic_id


def patient_panel(context: Any, patient: Any) -> dict[str, Any] | None:
    can = context.get("can") or {}
    if not can.get("patient_view"):
        return None
    now = timezone.now()
    upcoming = list(Appointment.objects.filter(clinic_id=patient.clinic_id, patient=patient, status__in=OPEN,
                                               ends_at__gte=now)
                    .select_related("therapist").order_by("starts_at")[:UPCOMING_SHOWN])
    tz = zone(schedule_settings(_clinic(context, patient.clinic_id)))
    return {"patient": patient, "upcoming": [(a, words(a.starts_at, tz)) for a in upcoming],
            "attendance": patient_no_shows(patient, now), "tz": tz.key, "can": can}


def episode_panel(context: Any, episode: Any) -> dict[str, Any] | None:
    from palpate.lib.models_common import RecordStatus
    from palpate.plans.models import PlanOfCare

    can = context.get("can") or {}
    if not can.get("patient_view"):
        return None
    plan = (PlanOfCare.objects.filter(clinic_id=episode.clinic_id, episode=episode, status=RecordStatus.SIGNED,
                                      superseded_by__isnull=True)
            .only("id", "clinic_id", "episode_id", "patient_id", "status", "start_date", "frequency_per_week",
                  "duration_weeks", "reevaluate_by", "recertify_by", "superseded_by_id", "signed_at")
            .order_by("-signed_at", "-id").first())
    authorizations = list(with_use(Authorization.objects.filter(clinic_id=episode.clinic_id, episode=episode))
                          .order_by("-ends_on")[:3])
    for authorization in authorizations:
        authorization.left = authorization.visits - authorization.used - authorization.booked
    return {"episode": episode, "plan": plan, "counts": plan_counts(plan) if plan else None,
            "authorizations": authorizations, "can": can, "active": episode.status == "active"}


def plan_panel(context: Any, plan: Any) -> dict[str, Any] | None:
    """On the plan of care's page: its visits booked, attended and remaining, and "Book the series"."""
    can = context.get("can") or {}
    if not can.get("patient_view") or not plan.is_signed:
        return None
    return {"plan": plan, "counts": plan_counts(plan), "can": can,
            "bookable": plan.superseded_by_id is None and plan.episode.status == "active"}
