"""Every write to patients and episodes: ``check_*`` validates, ``do_*`` changes and audits.

Forms and the API both end here, so the rules and the audit trail cannot differ between them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from palpate.audit.diff import changed, snapshot
from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic
from palpate.clinics.roles import NOTE_SIGN, PATIENT_WRITE
from palpate.patients.models import Episode, EpisodeStatus, EpisodeStatusChange, Patient


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


# The status changes a person makes by hand, each with a reason. Discharging is not one of them:
# an episode becomes discharged only when its discharge summary is signed (palpate.discharge).
STATUS_CHANGES = {
    (EpisodeStatus.ACTIVE, EpisodeStatus.ON_HOLD): "put on hold",
    (EpisodeStatus.ON_HOLD, EpisodeStatus.ACTIVE): "resumed",
    (EpisodeStatus.DISCHARGED, EpisodeStatus.ACTIVE): "reopened",
}
MAX_REASON_LENGTH = 2000


class StatusChangeRefused(ValueError):
    """The change asked for is not possible from the episode's current status, or lacks a reason."""


def allowed_status_changes(episode: Episode) -> list[str]:
    return [str(to) for (frm, to) in STATUS_CHANGES if frm == episode.status]


def check_episode_status_change(actor: Actor, episode: Episode, to_status: str, reason: str) -> str:
    """Validate a change of status; returns the cleaned reason. Changes nothing."""
    check_can_write(actor)
    if episode.clinic_id != actor.clinic.pk:
        raise PermissionDenied("This episode belongs to another clinic.")
    if to_status == EpisodeStatus.DISCHARGED:
        raise StatusChangeRefused("An episode is discharged by signing its discharge summary: use Discharge.")
    if (episode.status, to_status) not in STATUS_CHANGES:
        current = EpisodeStatus(episode.status).label.lower()
        raise StatusChangeRefused(f"This episode is {current}; choose one of the changes offered.")
    if episode.status == EpisodeStatus.DISCHARGED and not actor.can(NOTE_SIGN):
        # Reopening sets aside a signed discharge: the therapist's decision, like the signature.
        raise PermissionDenied("Only a therapist can reopen a discharged episode.")
    reason = (reason or "").strip()
    if not reason:
        raise StatusChangeRefused("Give the reason for the change (it is kept in the record).")
    if len(reason) > MAX_REASON_LENGTH:
        raise StatusChangeRefused(f"The reason is {len(reason)} characters long; keep it under {MAX_REASON_LENGTH}.")
    return reason


def do_change_episode_status(actor: Actor, episode: Episode, to_status: str, reason: str) -> EpisodeStatusChange:
    """Put an episode on hold, resume it or reopen it, with the reason; audited in the same transaction."""
    with transaction.atomic():
        # The row lock makes two people changing the same episode at once see each other's change.
        episode = Episode.objects.select_for_update().get(pk=episode.pk)
        reason = check_episode_status_change(actor, episode, to_status, reason)
        before = episode.status
        episode.status = to_status
        update = ["status", "updated_at"]
        if to_status == EpisodeStatus.ACTIVE and episode.discharged_on:
            episode.discharged_on = None
            update.append("discharged_on")
        episode.save(update_fields=update)
        change = EpisodeStatusChange.objects.create(
            clinic_id=episode.clinic_id, episode=episode, from_status=before, to_status=to_status, reason=reason,
            changed_by=actor.user, changed_at=timezone.now())
        record_event(actor=actor, action="episode.status", patient_id=episode.patient_id, obj=episode,
                     old={"status": before}, new={"status": to_status, "reason": reason})
    return change
