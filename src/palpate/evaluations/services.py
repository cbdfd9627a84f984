"""Every write to evaluations and referrals: ``check_*`` validates, ``do_*`` changes and audits.

Saving an evaluation is a pair: ``check_evaluation`` takes the evaluation as typed
(:class:`EvaluationInput`, plain typed values from the form, the demo or any later API), completes
what the core derives from it (percent of normal of each range of motion, the suggested
evaluation code) and screens it ONCE with the clinical core; ``do_save_evaluation`` writes exactly
what was checked. So the screen result stored on an evaluation is always the core's answer for
the facts saved with it, and referrals the screen asks for become ``Referral`` rows in the same
transaction, each audited, so the chart, the start page and the letter agree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from palpate.audit.diff import changed, snapshot
from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.roles import EVALUATION_WRITE, NOTE_SIGN, REFERRAL_RESOLVE
from palpate.core.billing import assess_evaluation
from palpate.core.errors import InputError
from palpate.core.measures import check_rom, percent_of_normal, rom_reference
from palpate.evaluations.models import (
    OPEN_REFERRAL_STATUSES,
    Evaluation,
    EvaluationAddendum,
    Referral,
    ReferralStatus,
)
from palpate.lib.clinical import build_request, run_plan
from palpate.lib.models_common import RecordStatus, clean_addendum_text, sign_record
from palpate.lib.records import check_editable, claim_version
from palpate.lib.voiding import check_void_reason, check_voidable, mark_voided
from palpate.patients.models import Episode, Patient

# Referral statuses a person may set (``open`` is where the screen starts one).
SETTABLE_STATUSES = (ReferralStatus.SENT, ReferralStatus.CLEARED, ReferralStatus.CLOSED)



# What a later screen reads of an evaluation (lib.clinical.build_request).
SCREENED_FIELDS = ("id", "clinic_id", "episode_id", "patient_id", "performed_on", "findings", "vitals", "screens",
                   "irritability", "pain_nprs")


def latest_evaluation(episode: Any, *, for_screen: bool = False) -> Evaluation | None:
    """The episode's most recent evaluation (signed or draft): the facts today's screen starts from.

    ``for_screen`` reads only what the screen uses (a visit's save does not need the whole record).
    """
    evaluations = Evaluation.objects.filter(clinic_id=episode.clinic_id, episode=episode)
    if for_screen:
        evaluations = evaluations.only(*SCREENED_FIELDS)
    return evaluations.order_by("-performed_on", "-id").first()

def last_signed_evaluation(episode: Any) -> Evaluation | None:
    """The episode's latest signed evaluation: what a re-evaluation starts from (its findings and
    vitals carried forward, to be confirmed, changed or cleared)."""
    return (Evaluation.objects.filter(clinic_id=episode.clinic_id, episode=episode, status=RecordStatus.SIGNED)
            .order_by("-performed_on", "-id").first())


def check_can_write(actor: Actor) -> None:
    if not actor.can(EVALUATION_WRITE):
        raise PermissionDenied("Your role in this clinic cannot write evaluations; a therapist evaluates.")


def check_can_resolve_referral(actor: Actor) -> None:
    if not actor.can(REFERRAL_RESOLVE):
        raise PermissionDenied("Your role in this clinic cannot change a referral's status; ask the therapist.")


def check_can_sign(actor: Actor) -> None:
    if not actor.can(NOTE_SIGN):
        raise PermissionDenied("Your role in this clinic cannot sign evaluations; ask a therapist to sign it.")


def check_ready_to_sign(evaluation: Evaluation) -> None:
    if not evaluation.chief_complaint.strip():
        raise ValidationError("Add the chief complaint before signing: a signed evaluation cannot be changed.")


def screen_stored(evaluation: Evaluation) -> dict[str, Any]:
    """Re-run the core on the evaluation as stored (raises InputError if the stored facts are refused)."""
    request = build_request(evaluation.patient, evaluation.episode, on=evaluation.performed_on, evaluation=evaluation)
    return run_plan(evaluation.clinic, request)


@dataclass(frozen=True)
class EvaluationInput:
    """An evaluation as typed, in the shapes it is stored in (see ``models``); rows already validated.

    ``rom`` rows are ``{"joint", "motion", "side"?, "degrees"}``: the percent of normal is the core's,
    added by :func:`check_evaluation`.
    """

    performed_on: dt.date
    chief_complaint: str = ""
    history: str = ""
    patient_goals: str = ""
    posture_findings: list[str] = field(default_factory=list)
    posture_notes: str = ""
    rom: list[dict[str, Any]] = field(default_factory=list)
    pain_nprs: int | None = None
    pain_map: list[dict[str, Any]] = field(default_factory=list)
    palpation: list[dict[str, Any]] = field(default_factory=list)
    palpation_notes: str = ""
    irritability: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)
    vitals: dict[str, Any] = field(default_factory=dict)
    screens: dict[str, Any] = field(default_factory=dict)
    complexity: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluationCheck:
    """What saving the typed evaluation would store, and the core's screen of it.

    ``error`` is the core's refusal of a typed fact (a temperature of 80 °C, a paired region without
    a side), with the path of the fact in the request; nothing can be saved then.
    """

    fields: dict[str, Any]
    screen: dict[str, Any] | None
    error: InputError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _rom_with_percent(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each measured range with the core's percent of normal (None where the motion has no arc)."""
    reference = str(rom_reference().code)
    out = []
    for row in rows:
        try:
            percent: float | None = round(percent_of_normal(row["joint"], row["motion"], row["degrees"]), 1)
        except InputError:
            percent = None  # e.g. knee extension: normal is 0 degrees, the shortfall is the measure
        out.append({**row, "percent_of_normal": percent, "reference": reference})
    return out


def _suggested_code(complexity: Mapping[str, Any]) -> str:
    if set(complexity) != {"history", "examination", "presentation", "decision"}:
        return ""  # a draft may hold only some of the four components
    try:
        return assess_evaluation(**complexity).code
    except InputError:
        return ""


def check_evaluation(actor: Actor, patient: Patient, episode: Episode, typed: EvaluationInput) -> EvaluationCheck:
    """Complete the typed evaluation with what the core derives from it and screen it, once.

    A range of motion beyond the motion's physiological limit (``core.measures.check_rom``) is
    refused like any fact the core refuses, with the limit named."""
    fields = dataclasses.asdict(typed)
    for index, row in enumerate(typed.rom):
        try:
            check_rom(row["joint"], row["motion"], row["degrees"])
        except InputError as error:
            return EvaluationCheck(fields, None, InputError(error.code, error.message, f"rom[{index}].{error.path}"))
    fields["rom"] = _rom_with_percent(typed.rom)
    fields["suggested_code"] = _suggested_code(typed.complexity)
    request = build_request(patient, episode, on=typed.performed_on, evaluation=Evaluation(**fields))
    try:
        return EvaluationCheck(fields, run_plan(actor.clinic, request))
    except InputError as error:
        return EvaluationCheck(fields, None, error)


def do_save_evaluation(actor: Actor, patient: Patient, episode: Episode, checked: EvaluationCheck,
                       evaluation: Evaluation | None = None, submitted_version: Any = None) -> Evaluation:
    """Write what ``check_evaluation`` checked: a new evaluation, or edits to ``evaluation`` made from
    ``submitted_version`` (StaleEdit if someone saved since, 403 once signed)."""
    if checked.screen is None:
        raise ValueError("an evaluation the core refused cannot be saved; show checked.error instead")
    if evaluation is None:
        return _create(actor, patient, episode, checked.fields, checked.screen)
    return _update(actor, evaluation, checked.fields, checked.screen, submitted_version)


def _create(actor: Actor, patient: Patient, episode: Episode, fields: Mapping[str, Any],
            screen: Mapping[str, Any]) -> Evaluation:
    check_can_write(actor)
    with transaction.atomic():
        evaluation = Evaluation(clinic=actor.clinic, patient=patient, episode=episode, therapist=actor.user,
                                screen_result=dict(screen), **fields)
        evaluation.save()
        record_event(actor=actor, action="evaluation.create", patient_id=patient.pk, obj=evaluation,
                     new=snapshot(evaluation))
        record_cleared(actor, evaluation, "evaluation.finding_cleared", [], evaluation.findings)
        sync_referrals(actor, evaluation)
    return evaluation


def _update(actor: Actor, evaluation: Evaluation, fields: Mapping[str, Any], screen: Mapping[str, Any],
            submitted_version: Any) -> Evaluation:
    check_can_write(actor)
    with transaction.atomic():
        current = Evaluation.objects.select_for_update(no_key=True).get(pk=evaluation.pk, clinic_id=evaluation.clinic_id)
        check_editable(current)
        claim_version(current, submitted_version)
        before = snapshot(current)
        for name, value in fields.items():
            setattr(current, name, value)
        current.screen_result = dict(screen)
        current.save()
        old, new = changed(before, snapshot(current))
        if new:
            record_event(actor=actor, action="evaluation.update", patient_id=current.patient_id, obj=current,
                         old=old, new=new)
        record_cleared(actor, current, "evaluation.finding_cleared", before.get("findings") or [], current.findings)
        sync_referrals(actor, current)
    return current


CLEARED_WORDS = "cleared from the physician's note"


def newly_cleared(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings recorded as cleared now that were not before (by code, place)."""
    def place(f: Mapping[str, Any]) -> tuple[Any, ...]:
        return f.get("code"), f.get("region") or None, f.get("side") or None

    was = {place(f) for f in before or [] if f.get("cleared")}
    return [dict(f) for f in after or [] if f.get("cleared") and place(f) not in was]


def record_cleared(actor: Actor, record: Any, action: str, before: list[dict[str, Any]],
                   after: list[dict[str, Any]]) -> None:
    """One audit event per finding newly recorded as cleared (inside the save's transaction): who
    recorded that a DVT, fracture, incision or trauma no longer restricts, and on what authority."""
    for finding in newly_cleared(before, after):
        record_event(actor=actor, action=action, patient_id=record.patient_id, obj=record,
                     new={"finding": finding, "recorded_as": CLEARED_WORDS})


def do_sign_evaluation(actor: Actor, evaluation: Evaluation, submitted_version: Any) -> Evaluation:
    """Sign and lock. The screen is re-run on the record as signed, so it carries today's knowledge base."""
    check_can_sign(actor)
    with transaction.atomic():
        current = (Evaluation.objects.select_for_update(no_key=True, of=("self",)).select_related("patient", "episode", "clinic")
                   .get(pk=evaluation.pk, clinic_id=evaluation.clinic_id))
        check_editable(current)
        check_ready_to_sign(current)
        claim_version(current, submitted_version)
        before = snapshot(current)
        current.screen_result = screen_stored(current)
        sign_record(current, actor.user, timezone.now())
        current.save()
        old, new = changed(before, snapshot(current))
        record_event(actor=actor, action="evaluation.sign", patient_id=current.patient_id, obj=current,
                     old=old, new=new)
        sync_referrals(actor, current)
    return current


def sync_referrals(actor: Actor, evaluation: Evaluation) -> list[Referral]:
    """One open referral per reason the screen asks for; call inside the save's transaction.

    A reason is not raised again while a referral for it is still open (or its letter sent) in this
    episode, nor when this evaluation already raised one that was since cleared or closed: re-saving
    an evaluation must not undo the physician's clearance. A new evaluation raises it afresh.
    """
    wanted = {r["reason"]: r for r in (evaluation.screen_result or {}).get("referrals", [])}
    if not wanted:
        return []
    existing = Referral.objects.filter(clinic_id=evaluation.clinic_id, episode_id=evaluation.episode_id,
                                       reason__in=list(wanted)).values_list("reason", "status", "evaluation_id")
    covered = {reason for reason, status, from_evaluation in existing
               if status in OPEN_REFERRAL_STATUSES or from_evaluation == evaluation.pk}
    created = []
    for reason, answer in wanted.items():
        if reason in covered:
            continue
        referral = Referral.objects.create(
            clinic_id=evaluation.clinic_id, patient_id=evaluation.patient_id, episode_id=evaluation.episode_id,
            evaluation=evaluation, reason=reason, urgency=answer.get("urgency", "routine"),
            detail=answer.get("detail", ""), because=list(answer.get("because") or []),
            sources=list(answer.get("sources") or []), raised_by=actor.user, raised_on=evaluation.performed_on,
        )
        record_event(actor=actor, action="referral.create", patient_id=evaluation.patient_id, obj=referral,
                     new=snapshot(referral))
        created.append(referral)
    return created


def check_referral_status(referral: Referral, status: str) -> None:
    if status not in SETTABLE_STATUSES:
        raise ValidationError("Choose sent, cleared or closed.")
    if status == referral.status:
        raise ValidationError(f"The referral is already {referral.get_status_display().lower()}.")


def do_update_referral_status(actor: Actor, referral: Referral, status: str, note: str = "",
                              on: dt.date | None = None) -> Referral:
    check_can_resolve_referral(actor)
    check_referral_status(referral, status)
    with transaction.atomic():
        current = Referral.objects.select_for_update(no_key=True).get(pk=referral.pk, clinic_id=referral.clinic_id)
        before = snapshot(current)
        current.status = status
        if note.strip():
            current.status_note = note.strip()
        current.closed_on = (on or timezone.localdate()) if status not in OPEN_REFERRAL_STATUSES else None
        current.save()
        old, new = changed(before, snapshot(current))
        record_event(actor=actor, action="referral.update", patient_id=current.patient_id, obj=current,
                     old=old, new=new)
    return current


def check_void_evaluation(actor: Actor, evaluation: Evaluation, reason: str) -> str:
    """An unsigned evaluation draft may be voided as entered in error, with a reason; a signed one never."""
    check_can_write(actor)
    check_voidable(evaluation)
    return check_void_reason(reason)


def do_void_evaluation(actor: Actor, evaluation: Evaluation, reason: str) -> Evaluation:
    """Void it: kept in the database and the audit trail, left out of every list, chart and count."""
    reason = check_void_evaluation(actor, evaluation, reason)
    with transaction.atomic():
        current = Evaluation.all_with_voided.select_for_update(of=("self",)).get(pk=evaluation.pk, clinic_id=evaluation.clinic_id)
        check_voidable(current)  # signed or voided by someone else meanwhile
        fields = mark_voided(current, actor.user, reason)
        current.save(update_fields=[*fields, "updated_at"])
        record_event(actor=actor, action="evaluation.void", patient_id=current.patient_id, obj=current,
                     new={"reason": reason, "performed_on": current.performed_on})
        # The referrals only this draft raised and nobody acted on leave the open lists with it.
        for referral in Referral.objects.select_for_update(no_key=True).filter(
                clinic_id=current.clinic_id, evaluation=current, status=ReferralStatus.OPEN):
            referral.status, referral.closed_on = ReferralStatus.CLOSED, timezone.localdate()
            referral.status_note = f"Closed: the evaluation that raised it was entered in error ({reason})."[:500]
            referral.save(update_fields=["status", "closed_on", "status_note"])
            record_event(actor=actor, action="referral.update", patient_id=referral.patient_id, obj=referral,
                         old={"status": ReferralStatus.OPEN}, new={"status": referral.status, "because": "evaluation.void"})
    return current


def check_evaluation_addendum(actor: Actor, evaluation: Evaluation, text: str) -> str:
    """The addendum's cleaned text; a draft evaluation is edited directly instead (as visit notes)."""
    check_can_sign(actor)
    return clean_addendum_text(evaluation, text)


def do_add_evaluation_addendum(actor: Actor, evaluation: Evaluation, text: str) -> EvaluationAddendum:
    """A signed, immutable correction to a signed evaluation, signed by its author as it is saved."""
    text = check_evaluation_addendum(actor, evaluation, text)
    with transaction.atomic():
        addendum = EvaluationAddendum.objects.create(clinic_id=evaluation.clinic_id, evaluation=evaluation, text=text,
                                                     signed_by=actor.user, signed_at=timezone.now())
        record_event(actor=actor, action="evaluation.addendum", patient_id=evaluation.patient_id, obj=addendum,
                     new={"evaluation": evaluation.pk, "text": text, "signed_at": addendum.signed_at})
    return addendum
