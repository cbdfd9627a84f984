"""Every write to visit notes: ``check_*`` validates, ``do_*`` changes and audits in one transaction.

Starting a visit prefills it (carry-forward): the treatment rows and findings of the episode's last
signed visit, else the plan of care's items; the complementary therapies likewise, with 0 minutes
for the therapist to fill. Saving re-runs the safety screen and the billing; signing locks the
note; corrections after that are signed addenda.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from palpate.audit.diff import changed, snapshot
from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.roles import CLINICAL_WRITE, NOTE_SIGN
from palpate.evaluations.services import latest_evaluation
from palpate.lib.models_common import RecordStatus, sign_record
from palpate.lib.records import check_editable, claim_version
from palpate.patients.models import Episode, Patient
from palpate.plans.services import current_plan
from palpate.visits import vocab
from palpate.visits.billing import compute_billing
from palpate.visits.models import Addendum, ComplementaryRow, TreatmentRow, Visit
from palpate.visits.safety import check_rows, screen_visit

NOTE_FIELDS = ["subjective", "soreness_since_last", "soreness_hours", "relief", "objective", "nprs_before",
               "nprs_after", "assessment", "plan_text", "findings", "vitals", "rom"]


class NotSignable(PermissionDenied):
    """The note cannot be signed yet (a row breaks a restriction, or the screen could not run)."""


def check_can_write(actor: Actor) -> None:
    if not actor.can(CLINICAL_WRITE):
        raise PermissionDenied("Your role in this clinic cannot write clinical notes.")


def check_can_sign(actor: Actor) -> None:
    if not actor.can(NOTE_SIGN):
        raise PermissionDenied("Your role in this clinic cannot sign notes; ask the supervising therapist.")


# -- reading what a visit builds on -------------------------------------------------------------


def last_signed_visit(episode: Episode, before: Visit | None = None) -> Visit | None:
    visits = Visit.objects.filter(clinic_id=episode.clinic_id, episode=episode, status=RecordStatus.SIGNED)
    if before is not None and before.pk:
        visits = visits.exclude(pk=before.pk)
    return visits.order_by("-visit_date", "-id").first()


@dataclass
class Prefill:
    treatments: list[dict[str, Any]] = field(default_factory=list)
    complementary: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""


def _known(row: Mapping[str, Any]) -> bool:
    techniques = dict(vocab.technique_choices())
    regions = dict(vocab.treatment_region_choices())
    pressures = dict(vocab.pressure_choices())
    return row.get("technique") in techniques and row.get("region") in regions and row.get("pressure") in pressures


def prefill(episode: Episode, plan: Any | None) -> Prefill:
    """Carry-forward: the last signed visit's rows, else the plan of care's."""
    last = last_signed_visit(episode)
    if last is not None:
        return Prefill(
            treatments=[{"technique": r.technique, "region": r.region, "side": r.side, "pressure": r.pressure,
                         "minutes": r.minutes} for r in last.treatments.all()],
            complementary=[{"therapy": r.therapy, "minutes": 0} for r in last.complementary.all()],
            # Findings stay until the therapist clears them: a wound seen last time is assumed open.
            findings=[dict(f) for f in last.findings or []],
            source=f"last visit ({last.visit_date:%Y-%m-%d})",
        )
    if plan is not None:
        therapies = dict(vocab.therapy_choices())
        treatments = []
        for item in plan.items or []:
            row = {"technique": item.get("technique"), "region": item.get("region"), "side": item.get("side") or "",
                   "pressure": item.get("pressure"), "minutes": item.get("minutes")}
            if _known(row) and isinstance(row["minutes"], int) and row["minutes"] > 0:
                treatments.append(row)
        complementary = [{"therapy": c.get("therapy"), "minutes": 0} for c in plan.complementary or []
                         if c.get("therapy") in therapies]
        return Prefill(treatments=treatments, complementary=complementary,
                       source=f"plan of care ({plan.start_date:%Y-%m-%d})")
    return Prefill()


# -- writes -------------------------------------------------------------------------------------


def _replace_rows(visit: Visit, treatments: Iterable[Mapping[str, Any]] | None,
                  complementary: Iterable[Mapping[str, Any]] | None) -> None:
    if treatments is not None:
        visit.treatments.all().delete()
        TreatmentRow.objects.bulk_create([
            TreatmentRow(clinic_id=visit.clinic_id, visit=visit, position=i, technique=r["technique"],
                         region=r["region"], side=r.get("side") or "", pressure=r["pressure"], minutes=r["minutes"],
                         response=r.get("response") or "")
            for i, r in enumerate(treatments)
        ])
    if complementary is not None:
        visit.complementary.all().delete()
        ComplementaryRow.objects.bulk_create([
            ComplementaryRow(clinic_id=visit.clinic_id, visit=visit, position=i, therapy=r["therapy"],
                             minutes=r.get("minutes") or 0, notes=r.get("notes") or "")
            for i, r in enumerate(complementary)
        ])


def stored_rows(visit: Visit) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    treatments = [{"technique": r.technique, "region": r.region, "side": r.side, "pressure": r.pressure,
                   "minutes": r.minutes, "response": r.response} for r in visit.treatments.all()]
    complementary = [{"therapy": r.therapy, "minutes": r.minutes, "notes": r.notes} for r in visit.complementary.all()]
    return treatments, complementary


def do_start_visit(actor: Actor, patient: Patient, episode: Episode,
                   today: dt.date | None = None) -> tuple[Visit, bool]:
    """Open today's draft for the episode, prefilled; (visit, created).

    A second click (or a second tab) on "Start visit" opens the therapist's existing draft of today
    instead of creating a duplicate note.
    """
    check_can_write(actor)
    today = today or timezone.localdate()
    with transaction.atomic():
        existing = (Visit.objects.select_for_update(no_key=True)
                    .filter(clinic_id=actor.clinic.pk, episode=episode, therapist=actor.user, visit_date=today,
                            status=RecordStatus.DRAFT).order_by("-id").first())
        if existing is not None:
            return existing, False
        plan = current_plan(episode)
        filled = prefill(episode, plan)
        visit = Visit(clinic=actor.clinic, patient=patient, episode=episode, plan=plan, therapist=actor.user,
                      visit_date=today, findings=filled.findings, last_saved_by=actor.user)
        visit.screen_result = screen_visit(actor.clinic, patient, episode, visit, latest_evaluation(episode))
        visit.billing = compute_billing(filled.treatments, filled.complementary, actor.clinic.payer_unit_rule,
                                        episode.payer)
        visit.save()
        _replace_rows(visit, filled.treatments, filled.complementary)
        record_event(actor=actor, action="visit.create", patient_id=patient.pk, obj=visit,
                     new={**snapshot(visit), "prefilled_from": filled.source, "treatments": filled.treatments,
                          "complementary": filled.complementary})
    return visit, True


@dataclass
class NoteChanges:
    """What one save of the note form changes (already validated by the forms)."""

    values: dict[str, Any]
    treatments: list[dict[str, Any]] | None  # None: leave the stored rows alone (a breach blocks them)
    complementary: list[dict[str, Any]]
    screen: dict[str, Any]
    billing: dict[str, Any]
    overrides: list[dict[str, Any]] | None = None
    new_overrides: list[dict[str, Any]] = field(default_factory=list)


def do_save_visit(actor: Actor, visit: Visit, submitted_version: object, changes: NoteChanges) -> Visit:
    """Save a draft; raises StaleEdit if someone saved since the form was opened, SignedAndLocked if signed.

    Returns the saved visit (a fresh instance read under a row lock).
    """
    check_can_write(actor)
    with transaction.atomic():
        saved = Visit.objects.select_for_update(no_key=True).get(pk=visit.pk)
        check_editable(saved)
        claim_version(saved, submitted_version)
        before = snapshot(saved)
        old_treatments, old_complementary = stored_rows(saved)
        for name, value in changes.values.items():
            setattr(saved, name, value)
        saved.screen_result = changes.screen
        saved.billing = changes.billing
        if changes.overrides is not None:
            saved.overrides = changes.overrides
        saved.last_saved_by = actor.user
        saved.save()
        _replace_rows(saved, changes.treatments, changes.complementary)
        old, new = changed({**before, "treatments": old_treatments, "complementary": old_complementary},
                           {**snapshot(saved),
                            "treatments": old_treatments if changes.treatments is None else changes.treatments,
                            "complementary": changes.complementary})
        for name in ("version", "screen_result", "billing", "last_saved_by"):
            # Bookkeeping or derived: the inputs that produced them are already in the diff.
            old.pop(name, None)
            new.pop(name, None)
        if new:
            record_event(actor=actor, action="visit.update", patient_id=saved.patient_id, obj=saved, old=old, new=new)
        for override in changes.new_overrides:
            record_event(actor=actor, action="visit.override_restriction", patient_id=saved.patient_id, obj=saved,
                         new={"row": override["row"], "restriction": override["restriction"],
                              "reason": override["reason"]})
    return saved


def unresolved(visit: Visit) -> list[str]:
    """Why the stored note cannot be signed yet (empty when it can)."""
    problems = []
    error = (visit.screen_result or {}).get("error")
    if error:
        problems.append(f"The safety screen could not run: {error.get('message')}. Correct the findings or vitals.")
    treatments, _ = stored_rows(visit)
    check = check_rows([(str(i), row, "") for i, row in enumerate(treatments)], visit.screen_result,
                       visit.overrides or [], False, None, timezone.now())
    for key, found in check.blocking.items():
        row = treatments[int(key)]
        problems += [f"Row {int(key) + 1} ({vocab.label(row['technique'])} {vocab.where(row['region'], row['side'])}): "
                     f"{b.message}" for b in found]
    return problems


def do_sign_visit(actor: Actor, visit: Visit, submitted_version: object = None) -> Visit:
    """Sign and lock the stored note. ``submitted_version`` (from a form) refuses a stale sign."""
    check_can_sign(actor)
    with transaction.atomic():
        signed = Visit.objects.select_for_update(no_key=True).get(pk=visit.pk)
        check_editable(signed)
        claim_version(signed, signed.version if submitted_version is None else submitted_version)
        # Screen once more on the facts as they are now (an evaluation may have changed since the save).
        signed.screen_result = screen_visit(actor.clinic, signed.patient, signed.episode, signed,
                                            latest_evaluation(signed.episode))
        problems = unresolved(signed)
        if problems:
            raise NotSignable(" ".join(problems))
        sign_record(signed, actor.user, timezone.now())
        signed.save(update_fields=["status", "signed_at", "signed_by", "signed_episode", "version", "screen_result",
                                   "updated_at"])
        record_event(actor=actor, action="visit.sign", patient_id=signed.patient_id, obj=signed,
                     new={"status": signed.status, "signed_at": signed.signed_at, "signed_by": actor.user.pk})
    return signed


def check_addendum(actor: Actor, visit: Visit, text: str) -> str:
    check_can_sign(actor)
    if not visit.is_signed:
        raise PermissionDenied("This note is still a draft: edit it directly; addenda are for signed notes.")
    text = (text or "").strip()
    if not text:
        raise ValueError("Write the correction or addition.")
    return text


def do_add_addendum(actor: Actor, visit: Visit, text: str) -> Addendum:
    """A signed, immutable correction to a signed note, signed by its author as it is saved."""
    text = check_addendum(actor, visit, text)
    with transaction.atomic():
        addendum = Addendum.objects.create(clinic_id=visit.clinic_id, visit=visit, text=text, signed_by=actor.user,
                                           signed_at=timezone.now())
        record_event(actor=actor, action="visit.addendum", patient_id=visit.patient_id, obj=addendum,
                     new={"visit": visit.pk, "text": text, "signed_at": addendum.signed_at})
    return addendum
