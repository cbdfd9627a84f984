"""Every write to patients and episodes: ``check_*`` validates, ``do_*`` changes and audits.

Forms and the API both end here, so the rules and the audit trail cannot differ between them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from palpate.audit.diff import changed, snapshot
from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic
from palpate.clinics.roles import PATIENT_WRITE
from palpate.patients.models import Episode, EpisodeStatus, Patient


def check_can_write(actor: Actor) -> None:
    if not actor.can(PATIENT_WRITE):
        raise PermissionDenied("Your role in this clinic cannot change patient records.")


def _next_record_number(clinic_id: int) -> str:
    # Lock the clinic row so two front-desk users never get the same number. FOR NO KEY UPDATE
    # (not FOR UPDATE): every audit event inserted meanwhile references this row and takes a key
    # share lock on it, which a plain FOR UPDATE would block while this transaction waits for the
    # audit chain head that the other one holds: a deadlock on PostgreSQL.
    clinic = Clinic.objects.select_for_update(no_key=True).get(pk=clinic_id)
    while True:
        clinic.record_counter += 1
        number = f"{clinic.record_counter:06d}"
        if not Patient.objects.filter(clinic_id=clinic_id, record_number=number).exists():
            break
    clinic.save(update_fields=["record_counter"])
    return number


def do_create_patient(actor: Actor, patient: Patient) -> Patient:
    """Save a new, validated (unsaved) patient in the actor's clinic."""
    check_can_write(actor)
    with transaction.atomic():
        patient.clinic = actor.clinic
        if not patient.record_number:
            patient.record_number = _next_record_number(actor.clinic.pk)
        patient.save()
        record_event(actor=actor, action="patient.create", patient_id=patient.pk, obj=patient, new=snapshot(patient))
    return patient


def do_update_patient(actor: Actor, patient: Patient, before: dict[str, Any]) -> Patient:
    """Save edits to a patient; ``before`` is ``snapshot(patient)`` taken before the form touched it."""
    check_can_write(actor)
    with transaction.atomic():
        patient.save()
        old, new = changed(before, snapshot(patient))
        if new:
            record_event(actor=actor, action="patient.update", patient_id=patient.pk, obj=patient, old=old, new=new)
    return patient


def do_create_episode(actor: Actor, patient: Patient, episode: Episode) -> Episode:
    check_can_write(actor)
    import datetime as dt

    with transaction.atomic():
        episode.clinic = actor.clinic
        episode.patient = patient
        if not episode.opened_on:
            episode.opened_on = dt.date.today()
        episode.save()
        record_event(actor=actor, action="episode.create", patient_id=patient.pk, obj=episode, new=snapshot(episode))
    return episode


def do_update_episode(actor: Actor, episode: Episode, before: dict[str, Any]) -> Episode:
    check_can_write(actor)
    with transaction.atomic():
        if episode.status == EpisodeStatus.DISCHARGED and not episode.discharged_on:
            import datetime as dt

            episode.discharged_on = dt.date.today()
        episode.save()
        old, new = changed(before, snapshot(episode))
        if new:
            record_event(actor=actor, action="episode.update", patient_id=episode.patient_id, obj=episode, old=old, new=new)
    return episode
