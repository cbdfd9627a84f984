"""The one door for reading patient data.

Every view and API endpoint that touches a patient goes through here. Another clinic's patient
is a 404 (never a 403 that would confirm it exists); a role without write rights gets a 403 only
after the patient was found in the actor's own clinic.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from palpate.clinics.actor import Actor
from palpate.clinics.roles import PATIENT_VIEW, PATIENT_WRITE
from palpate.patients.models import Episode, Patient, PatientQuerySet


def patients_for(actor: Actor | None) -> PatientQuerySet:
    if actor is None or not actor.can(PATIENT_VIEW):
        return Patient.objects.none()
    return Patient.objects.for_actor(actor)


def access_patient(actor: Actor | None, pk: object, write: bool = False) -> Patient:
    try:
        patient = patients_for(actor).get(pk=int(str(pk)))
    except (Patient.DoesNotExist, ValueError):
        raise Http404("No such patient") from None
    assert actor is not None
    if write and not actor.can(PATIENT_WRITE):
        raise PermissionDenied("Your role in this clinic cannot change patient records.")
    return patient


def access_episode(actor: Actor | None, patient: Patient, pk: object, write: bool = False) -> Episode:
    try:
        episode = Episode.objects.get(clinic_id=patient.clinic_id, patient=patient, pk=int(str(pk)))
    except (Episode.DoesNotExist, ValueError):
        raise Http404("No such episode") from None
    assert actor is not None
    if write and not actor.can(PATIENT_WRITE):
        raise PermissionDenied("Your role in this clinic cannot change patient records.")
    return episode

