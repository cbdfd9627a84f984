"""Every write to outcomes: ``check_*`` validates, ``do_*`` changes and audits in one transaction.

Scores always come from ``palpate.core.measures.score``; nothing here computes one.

Decision (the issue left it open): a questionnaire with more unanswered items than the
instrument's missing-item rule allows is *refused* by default, with a message naming the
unanswered items, because the usual cause is an item skipped by accident. The therapist can then
save it deliberately as not scorable (``accept_not_scorable``): the answers are kept with
``valid=False`` and the core's reason, and no score is charted or judged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from palpate.audit.diff import snapshot
from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.roles import CLINIC_MANAGE, CLINICAL_WRITE
from palpate.core import measures
from palpate.core.errors import InputError
from palpate.core.measures import ScoreResult
from palpate.lib.http import Acting
from palpate.lib.voiding import check_void_reason, check_voidable, mark_voided
from palpate.outcomes import main_measure
from palpate.outcomes.models import LicensedWording, MainMeasureChoice, OutcomeMeasurement, Source
from palpate.outcomes.wording import can_take_wording, canonical, digest

MAX_WORDING_FILE_BYTES = 200_000


class NotScorable(Exception):
    """Too many unanswered items for the instrument's rule, and the user did not accept that."""

    def __init__(self, result: ScoreResult, message: str) -> None:
        super().__init__(message)
        self.result = result
        self.message = message


def check_can_record(actor: Actor) -> None:
    if not actor.can(CLINICAL_WRITE):
        raise PermissionDenied("Your role in this clinic cannot record outcome measures.")


def check_can_manage_wording(actor: Actor) -> None:
    if not actor.can(CLINIC_MANAGE):
        raise PermissionDenied("Only a clinic owner can load licensed questionnaire wording.")


def not_scorable_message(result: ScoreResult) -> str:
    """Say, in the core's own numbers, why it could not score and what would fix it."""
    inst = measures.instrument(result.instrument)
    parts = []
    for part in result.parts:
        if part.valid:
            continue
        scale_name = inst.scale(part.scale).name if inst.is_multiscale else inst.abbreviation
        if part.answered == 0:
            parts.append(f"{scale_name} has no answered item")
        else:
            allowed = ("no unanswered item" if part.max_missing == 0
                       else f"at most {part.max_missing} unanswered item{'s' if part.max_missing != 1 else ''}")
            parts.append(f"{scale_name} allows {allowed}, and {part.missing} "
                         f"{'is' if part.missing == 1 else 'are'} unanswered")
    return "; ".join(parts) + "."


def check_measurement(code: str, answers: Any, *, accept_not_scorable: bool = False) -> ScoreResult:
    """Score with the core; bad answers raise ``InputError``, too many missing ``NotScorable``."""
    result = measures.score(code, answers)
    if not result.valid and not accept_not_scorable:
        raise NotScorable(result, not_scorable_message(result))
    return result


def do_record_measurement(
    actor: Actor,
    episode: Any,
    *,
    instrument: str,
    answers: Any,
    taken_on: dt.date,
    visit: Any = None,
    activities: Sequence[str] = (),
    accept_not_scorable: bool = False,
) -> OutcomeMeasurement:
    """Score ``answers`` with the core and store them with the score, audited."""
    check_can_record(actor)
    if episode.clinic_id != actor.clinic.pk:
        raise PermissionDenied("This episode belongs to another clinic.")
    if visit is not None and (visit.clinic_id != episode.clinic_id or visit.episode_id != episode.pk):
        raise InputError("unknown_visit", "That visit is not part of this episode.", "visit")
    if taken_on > timezone.localdate():
        raise InputError("out_of_range", "The date taken is in the future.", "taken_on")
    result = check_measurement(instrument, answers, accept_not_scorable=accept_not_scorable)
    with transaction.atomic():
        measurement = OutcomeMeasurement.objects.create(
            clinic=actor.clinic, patient_id=episode.patient_id, episode=episode, visit=visit,
            instrument=instrument, taken_on=taken_on, answers=answers, valid=result.valid,
            score=result.score, scores=result.scores if result.multiscale else None,
            reason=result.reason or "", activities=list(activities), entered_by=actor.user,
        )
        record_event(actor=actor, action="outcomes.record", patient_id=episode.patient_id, obj=measurement,
                     new=snapshot(measurement))
    return measurement


def do_record_patient_report(reporter: Acting, episode: Any, *, instrument: str, answers: Any, taken_on: dt.date,
                             assigned_by: Any, activities: Sequence[str] = ()) -> OutcomeMeasurement:
    """A questionnaire the patient filled at home (the patient portal), scored by the core, audited
    with the patient as the actor; ``assigned_by`` (the therapist who asked for it) stands as
    ``entered_by``. Too many unanswered items are refused (``NotScorable``): the patient answers more."""
    if episode.clinic_id != reporter.clinic.pk:
        raise PermissionDenied("This episode belongs to another clinic.")
    result = check_measurement(instrument, answers)
    with transaction.atomic():
        measurement = OutcomeMeasurement.objects.create(
            clinic_id=episode.clinic_id, patient_id=episode.patient_id, episode=episode, instrument=instrument,
            taken_on=taken_on, answers=answers, valid=result.valid, score=result.score,
            scores=result.scores if result.multiscale else None, reason=result.reason or "",
            activities=list(activities), entered_by=assigned_by, source=Source.PATIENT,
        )
        record_event(actor=reporter, action="outcomes.record", clinic=reporter.clinic, patient_id=episode.patient_id,
                     obj=measurement, new=snapshot(measurement))
    return measurement


def check_wording(code: str, text: str) -> dict[str, Any]:
    """Validate a wording file with the core; return its canonical JSON for storage."""
    inst = measures.instrument(code)
    if not can_take_wording(inst):
        raise InputError("not_applicable", f"{inst.abbreviation} activities are named by the patient; there is "
                         "no item wording to load.", "instrument")
    if len(text.encode()) > MAX_WORDING_FILE_BYTES:
        raise InputError("too_large", f"The wording file is larger than {MAX_WORDING_FILE_BYTES // 1000} kB; "
                         "is it the right file?", "text")
    return canonical(measures.load_licensed_wording(code, text))


def do_load_licensed_wording(actor: Actor, code: str, text: str, licence_note: str = "") -> LicensedWording:
    """Store (or replace) the clinic's licensed wording for one instrument, audited."""
    check_can_manage_wording(actor)
    wording = check_wording(code, text)
    with transaction.atomic():
        existing = LicensedWording.objects.select_for_update(no_key=True).filter(clinic=actor.clinic, instrument=code).first()
        old = ({"instrument": code, "digest": digest(existing.wording), "licence_note": existing.licence_note}
               if existing else None)
        if existing is None:
            stored = LicensedWording.objects.create(clinic=actor.clinic, instrument=code, wording=wording,
                                                    licence_note=licence_note, loaded_by=actor.user)
        else:
            existing.wording, existing.licence_note, existing.loaded_by = wording, licence_note, actor.user
            existing.save()
            stored = existing
        # The audit keeps a fingerprint of the wording, not the licensed text itself.
        record_event(actor=actor, action="outcomes.wording.load", obj=stored, old=old,
                     new={"instrument": code, "digest": digest(wording), "licence_note": licence_note})
    return stored


def do_remove_licensed_wording(actor: Actor, code: str) -> bool:
    """Remove the clinic's wording (a licence ended); forms fall back to the topic labels."""
    check_can_manage_wording(actor)
    with transaction.atomic():
        existing = LicensedWording.objects.select_for_update(no_key=True).filter(clinic=actor.clinic, instrument=code).first()
        if existing is None:
            return False
        record_event(actor=actor, action="outcomes.wording.remove", obj=existing,
                     old={"instrument": code, "digest": digest(existing.wording), "licence_note": existing.licence_note})
        existing.delete()
    return True


def do_set_main_measure(actor: Actor, episode: Any, key: str) -> MainMeasureChoice | None:
    """Choose the episode's main measure (``odi``, ``bctq:functional_status``); ``""`` restores the default."""
    check_can_record(actor)
    if episode.clinic_id != actor.clinic.pk:
        raise PermissionDenied("This episode belongs to another clinic.")
    parsed = main_measure.parse_key(key) if key else None
    with transaction.atomic():
        existing = MainMeasureChoice.objects.select_for_update(no_key=True).filter(clinic=actor.clinic, episode=episode).first()
        old = {"main_measure": main_measure.MainMeasure(existing.instrument, existing.scale or None, "").key} \
            if existing else None
        if parsed is None:
            if existing is not None:
                record_event(actor=actor, action="outcomes.main_measure", patient_id=episode.patient_id,
                             obj=existing, old=old, new={"main_measure": "default"})
                existing.delete()
            return None
        code, scale = parsed
        if existing is None:
            choice = MainMeasureChoice.objects.create(clinic=actor.clinic, episode=episode, instrument=code,
                                                      scale=scale or "", chosen_by=actor.user)
        else:
            existing.instrument, existing.scale, existing.chosen_by = code, scale or "", actor.user
            existing.save()
            choice = existing
        record_event(actor=actor, action="outcomes.main_measure", patient_id=episode.patient_id, obj=choice,
                     old=old, new={"main_measure": key})
    return choice


def check_void_measurement(actor: Actor, measurement: OutcomeMeasurement, reason: str) -> str:
    """An unsigned outcome entry may be voided as entered in error, with a reason; a signed one never."""
    check_can_record(actor)
    check_voidable(measurement)
    return check_void_reason(reason)


def do_void_measurement(actor: Actor, measurement: OutcomeMeasurement, reason: str) -> OutcomeMeasurement:
    """Void it: kept in the database and the audit trail, left out of every list, chart and count."""
    reason = check_void_measurement(actor, measurement, reason)
    with transaction.atomic():
        current = OutcomeMeasurement.all_with_voided.select_for_update(of=("self",)).get(pk=measurement.pk, clinic_id=measurement.clinic_id)
        check_voidable(current)  # signed or voided by someone else meanwhile
        fields = mark_voided(current, actor.user, reason)
        current.save(update_fields=[*fields])
        record_event(actor=actor, action="outcome.void", patient_id=current.patient_id, obj=current,
                     new={"reason": reason, "instrument": current.instrument, "taken_on": current.taken_on, "score": current.score})
    return current
