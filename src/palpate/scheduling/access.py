"""The one door for reading appointments (and the other scheduling rows that name a patient).

Another clinic's appointment is a 404, never a 403 that would confirm it exists; a role that may
not change the schedule gets a 403 only after the appointment was found in its own clinic.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from palpate.clinics.actor import Actor
from palpate.clinics.roles import PATIENT_VIEW, PATIENT_WRITE
from palpate.scheduling.models import Appointment, Authorization


def appointments_for(actor: Actor | None, *, include_voided: bool = False) -> QuerySet[Appointment]:
    """The clinic's appointments; those entered in error only for the one page that says so."""
    if actor is None or not actor.can(PATIENT_VIEW):
        return Appointment.objects.none()
    manager = Appointment.all_with_voided if include_voided else Appointment.objects
    return manager.filter(clinic=actor.clinic)


def access_appointment(actor: Actor | None, pk: object, write: bool = False,
                       related: tuple[str, ...] = ("patient", "episode", "therapist", "room"),
                       include_voided: bool = False) -> Appointment:
    try:
        appointment = appointments_for(actor, include_voided=include_voided).select_related(*related).get(pk=int(str(pk)))
    except (Appointment.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such appointment") from None
    assert actor is not None
    if write and not actor.can(PATIENT_WRITE):
        raise PermissionDenied("Your role in this clinic cannot change the schedule.")
    return appointment


def access_authorization(actor: Actor | None, patient_id: int, pk: object) -> Authorization:
    if actor is None or not actor.can(PATIENT_VIEW):
        raise Http404("No such authorisation")
    try:
        return Authorization.objects.get(clinic=actor.clinic, patient_id=patient_id, pk=int(str(pk)))
    except (Authorization.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such authorisation") from None
