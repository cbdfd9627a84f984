"""Every write to visit notes: ``check_*`` validates, ``do_*`` changes and audits in one transaction.

Starting a visit prefills it (carry-forward): the treatment rows and findings of the episode's last
signed visit, else the plan of care's items; the complementary therapies likewise, with 0 minutes
for the therapist to fill.

Saving a note has one owner, a pair in the style of Zulip's actions:

- :func:`check_visit_note` takes the note as typed (:class:`~palpate.visits.note.NoteInput`: plain
  values and rows) and screens it ONCE with the clinical core, checks each treatment row against
  the screen with the core's one safety rule (``core.safety``: what may be overridden, and with
  which reason) and bills ONCE what a save would store (``core.billing.bill_visit``). It changes
  nothing: the live preview shows its answer as the therapist types.
- :func:`do_save_visit_note` writes exactly what was checked and says how it went
  (:class:`SaveOutcome`): saved; saved without the treatment rows, which a restriction refuses;
  not saved because the screen could not run; stale (someone saved since); locked (signed since).

Signing locks the note; the screen is run again only if what it stands on changed since it was
stored (``lib.clinical.screen_is_current``). Corrections after signing are signed addenda.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from palpate.audit.diff import changed, snapshot
from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.roles import CLINICAL_WRITE, NOTE_SIGN, SAFETY_OVERRIDE, VISIT_WITHOUT_SIGNED_PLAN
from palpate.core import safety
from palpate.core.billing import bill_visit
from palpate.core.errors import InputError
from palpate.evaluations.services import latest_evaluation
from palpate.lib.clinical import build_request, run_plan, screen_is_current
from palpate.lib.models_common import RecordStatus, sign_record
from palpate.lib.records import check_editable, claim_version, version_number
from palpate.lib.vocabulary import choices, region_choices
from palpate.patients.models import Episode, Patient
from palpate.plans.services import current_plan
from palpate.visits.models import Addendum, ComplementaryRow, TreatmentRow, Visit
from palpate.visits.note import Complementary, NoteInput, Treatment


class NotSignable(PermissionDenied):
    """The note cannot be signed yet (a row breaks a restriction, or the screen could not run)."""


def check_can_write(actor: Actor) -> None:
    if not actor.can(CLINICAL_WRITE):
        raise PermissionDenied("Your role in this clinic cannot write clinical notes.")


def check_can_sign(actor: Actor) -> None:
    if not actor.can(NOTE_SIGN):
        raise PermissionDenied("Your role in this clinic cannot sign notes; ask the supervising therapist.")


_NOT_READ = object()


def why_not_documentable(actor: Actor, episode: Episode, plan: Any = _NOT_READ) -> str:
    """Why ``actor`` may not document a visit on ``episode`` ('' when they may).

    An assistant treats under a therapist's signed plan of care: without one on the episode there
    is nothing to document under. ``plan`` is ``current_plan(episode)`` when the caller has it.
    """
    if actor.can(VISIT_WITHOUT_SIGNED_PLAN):
        return ""
    if plan is _NOT_READ:
        plan = current_plan(episode)
    if plan is None or not plan.is_signed:
        return ("This episode has no signed plan of care yet: an assistant documents visits under a therapist's "
                "signed plan. Ask the therapist to sign the plan first.")
    return ""


def check_can_document(actor: Actor, episode: Episode, plan: Any = _NOT_READ) -> None:
    check_can_write(actor)
    if reason := why_not_documentable(actor, episode, plan):
        raise PermissionDenied(reason)


# -- reading what a visit builds on -------------------------------------------------------------


def last_signed_visit(episode: Episode, before: Visit | None = None) -> Visit | None:
    visits = Visit.objects.filter(clinic_id=episode.clinic_id, episode=episode, status=RecordStatus.SIGNED)
    if before is not None and before.pk:
        visits = visits.exclude(pk=before.pk)
    return visits.order_by("-visit_date", "-id").first()


@dataclass
class Prefill:
    treatments: list[Treatment] = field(default_factory=list)
    complementary: list[Complementary] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""


def _documentable(item: Mapping[str, Any]) -> bool:
    """A plan item the note can carry: a known technique at a concrete region, with minutes."""
    minutes = item.get("minutes")
    return (item.get("technique") in dict(choices("technique")) and item.get("region") in dict(region_choices())
            and item.get("pressure") in dict(choices("pressure")) and isinstance(minutes, int) and minutes > 0)


def prefill(episode: Episode, plan: Any | None) -> Prefill:
    """Carry-forward: the last signed visit's rows, else the plan of care's."""
    last = last_signed_visit(episode)
    if last is not None:
        return Prefill(
            # The responses are today's to record: carried forward without them.
            treatments=[Treatment(r.technique, r.region, r.side, r.pressure, r.minutes) for r in last.treatments.all()],
            complementary=[Complementary(r.therapy, 0) for r in last.complementary.all()],
            # Findings stay until the therapist clears them: a wound seen last time is assumed open.
            findings=[dict(f) for f in last.findings or []],
            source=f"last visit ({last.visit_date:%Y-%m-%d})",
        )
    if plan is not None:
        therapies = dict(choices("therapy"))
        return Prefill(
            treatments=[Treatment(str(i["technique"]), str(i["region"]), i.get("side") or "", str(i["pressure"]),
                                  int(i["minutes"])) for i in plan.items or [] if _documentable(i)],
            complementary=[Complementary(str(c["therapy"]), 0) for c in plan.complementary or []
                           if c.get("therapy") in therapies],
            # A draft plan has no start date until it is signed.
            source=f"plan of care ({plan.start_date:%Y-%m-%d})" if plan.start_date else "draft plan of care (not signed)")
    return Prefill()


def stored_rows(visit: Visit) -> tuple[list[Treatment], list[Complementary]]:
    return [Treatment.of(r) for r in visit.treatments.all()], [Complementary.of(r) for r in visit.complementary.all()]


# -- the screen and the rows --------------------------------------------------------------------


def screen_request(patient: Patient, episode: Episode, visit_date: dt.date, note: NoteInput | Visit,
                   evaluation: Any | None) -> dict[str, Any]:
    """Today's request to the core: the evaluation, and over it what this note records.

    The note's soreness and relief since the last visit feed today's dose; its findings and vitals
    are merged over the evaluation's.
    """
    return build_request(patient, episode, on=visit_date, evaluation=evaluation, findings=note.findings or [],
                         vitals=note.vitals or {}, last_visit=note)


def run_screen(clinic: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    """The core's answer, or ``{"error": {...}}`` for bad stored or typed facts (shown, never raised)."""
    try:
        return run_plan(clinic, request)
    except InputError as error:
        return error.as_json()


def screen_problem(screen: Mapping[str, Any] | None) -> str:
    error = (screen or {}).get("error")
    if not error:
        return ""
    where = f" ({error.get('path')})" if error.get("path") else ""
    return f"{error.get('message', 'The safety screen could not run')}{where}."


@dataclass
class RowVerdict:
    """What today's screen says about one treatment row."""

    blocking: list[safety.Breach] = field(default_factory=list)  # breaches that keep the row out
    overridden: list[tuple[safety.Breach, str]] = field(default_factory=list)  # breaches an override allows
    refused: str = ""  # why a typed override was not accepted

    @property
    def ok(self) -> bool:
        return not self.blocking

    @property
    def overridable(self) -> bool:
        """Every breach of the row may be overridden: the override control is offered."""
        breaches = [*self.blocking, *(b for b, _ in self.overridden)]
        return bool(breaches) and all(b.overridable for b in breaches)


def _override_id(row: Mapping[str, Any], restriction: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return safety.item_key({"technique": row.get("technique"), "region": row.get("region"),
                            "side": row.get("side"), "pressure": row.get("pressure")}), safety.restriction_key(restriction)


def check_rows(actor: Actor | None, treatments: Sequence[Treatment], screen: Mapping[str, Any] | None,
               existing: Iterable[Mapping[str, Any]], when: dt.datetime
               ) -> tuple[list[RowVerdict], list[dict[str, Any]], list[dict[str, Any]]]:
    """Each row against the screen: (verdict per row, the visit's overrides if saved, the new ones).

    An override already on the visit for the same row and restriction stays, whoever saves next. A
    new one needs a restriction that may be overridden (``core.safety.may_override``: a relative
    one; never an absolute one, a referral or a held session), the override right, and a reason
    that passes ``core.safety.check_override_reason`` (the one minimum, as in plans of care).
    ``actor`` None checks the stored note (signing): no new override can be made then.
    """
    restrictions = safety.effective_restrictions(screen)
    kept = {_override_id(o["row"], o["restriction"]): o for o in existing if o.get("row") and o.get("restriction")}
    verdicts: list[RowVerdict] = []
    overrides: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    for row in treatments:
        verdict = RowVerdict()
        verdicts.append(verdict)
        for breach in safety.breaches(row.item(), restrictions):
            ident = _override_id(row.stored(), breach.restriction)
            if breach.overridable and ident in kept:
                verdict.overridden.append((breach, str(kept[ident]["reason"])))
                if kept[ident] not in overrides:
                    overrides.append(kept[ident])
                continue
            verdict.blocking.append(breach)
            if not row.override_reason.strip():
                continue
            if not breach.overridable:
                verdict.refused = ("This restriction cannot be overridden (an absolute contraindication, a held "
                                   "session or a referral awaiting its answer): change or remove the row.")
            elif actor is None or not actor.can(SAFETY_OVERRIDE):
                verdict.refused = "Only a therapist with override rights can override a safety restriction."
            else:
                try:
                    reason = safety.check_override_reason(row.override_reason)
                except InputError as error:
                    verdict.refused = error.message
                    continue
                verdict.blocking.remove(breach)
                entry = {"row": row.stored(), "restriction": breach.restriction, "reason": reason,
                         "by": actor.user.pk, "by_name": actor.user.display_name(), "at": when.isoformat()}
                verdict.overridden.append((breach, reason))
                overrides.append(entry)
                new.append(entry)
                kept[ident] = entry
    return verdicts, overrides, new


# -- checking and saving a note -----------------------------------------------------------------


@dataclass
class NoteCheck:
    """What saving ``note`` would change, as checked: the screen, each row's verdict, the billing."""

    note: NoteInput
    screen: dict[str, Any]
    rows: list[RowVerdict]
    billing: dict[str, Any]
    overrides: list[dict[str, Any]]
    new_overrides: list[dict[str, Any]]

    @property
    def screen_problem(self) -> str:
        return screen_problem(self.screen)

    @property
    def rows_ok(self) -> bool:
        return all(v.ok for v in self.rows)

    @property
    def refused_rows(self) -> list[int]:
        return [i for i, v in enumerate(self.rows) if not v.ok]


def bill(clinic: Any, episode: Episode, treatments: Iterable[Treatment],
         complementary: Iterable[Complementary]) -> dict[str, Any]:
    """The visit's billing lines: the core decides codes, units and the rule (``bill_visit``)."""
    services = [t.service() for t in treatments] + [c.service() for c in complementary]
    return bill_visit(services, payer=episode.payer, clinic_rule=clinic.payer_unit_rule)


def check_visit_note(actor: Actor, visit: Visit, note: NoteInput, *, now: dt.datetime | None = None) -> NoteCheck:
    """Screen the typed note once, check its rows, bill what a save would store; nothing is saved.

    When a row breaks today's screen (and no override keeps it) a save leaves the treatment rows as
    stored, so the billing is of the stored rows.
    """
    episode = visit.episode
    check_can_document(actor, episode)
    request = screen_request(visit.patient, episode, visit.visit_date, note, latest_evaluation(episode, for_screen=True))
    screen = run_screen(actor.clinic, request)
    verdicts, overrides, new = check_rows(actor, note.treatments, screen, visit.overrides or [],
                                          now or timezone.now())
    rows_ok = all(v.ok for v in verdicts)
    billed = note.treatments if rows_ok else stored_rows(visit)[0]
    return NoteCheck(note, screen, verdicts, bill(actor.clinic, episode, billed, note.complementary), overrides, new)


@dataclass
class SaveOutcome:
    """How a save went. ``status``:

    - ``saved``: the note and its rows are saved;
    - ``rows_refused``: the note, findings and complementary therapies are saved (a new
      contraindication is on record at once) but the treatment rows are not: ``check.rows`` says why;
    - ``unscreened``: nothing saved, the screen could not run on the typed facts;
    - ``stale``: nothing saved, someone saved after ``submitted_version`` (``visit`` is theirs);
    - ``locked``: nothing saved, the note was signed meanwhile (``visit`` is the signed note).
    """

    status: str
    visit: Visit
    check: NoteCheck

    @property
    def saved(self) -> bool:
        return self.status in ("saved", "rows_refused")


def _replace_rows(visit: Visit, treatments: Sequence[Treatment] | None,
                  complementary: Sequence[Complementary] | None) -> None:
    """Store the rows (None: leave that table as it is)."""
    if treatments is not None:
        visit.treatments.all().delete()
        TreatmentRow.objects.bulk_create([
            TreatmentRow(clinic_id=visit.clinic_id, visit=visit, position=i, **row.stored())
            for i, row in enumerate(treatments)])
    if complementary is not None:
        visit.complementary.all().delete()
        ComplementaryRow.objects.bulk_create([
            ComplementaryRow(clinic_id=visit.clinic_id, visit=visit, position=i, **row.stored())
            for i, row in enumerate(complementary)])


class _Conflict(Exception):
    """The draft changed between reading it and writing to it (a save or a signature came first)."""


def do_save_visit_note(actor: Actor, visit: Visit, checked: NoteCheck, submitted_version: object) -> SaveOutcome:
    """Save the checked note into the draft, audited, in one transaction (see :class:`SaveOutcome`).

    ``visit`` is the draft as read for this request. The form was opened on ``submitted_version``;
    if the draft read is another version, or is signed, nothing is written. Otherwise one UPDATE
    writes the fields that changed with the next version, on the condition that the draft is
    still that version and a draft: every save and every signature takes the next version, so if
    the condition holds, nobody wrote the draft since it was read and the UPDATE's row lock keeps
    it so until the commit. The rows are rewritten only if they changed.
    """
    check_can_write(actor)
    if checked.screen_problem:
        return SaveOutcome("unscreened", visit, checked)
    if visit.is_signed:
        return SaveOutcome("locked", _fresh(visit), checked)
    if visit.version != version_number(submitted_version):
        return SaveOutcome("stale", _fresh(visit), checked)
    note = checked.note
    rows_ok = checked.rows_ok
    before = snapshot(visit)
    saved = copy.copy(visit)
    for name, value in note.values().items():
        setattr(saved, name, value)
    saved.relief = saved.relief or ""
    saved.screen_result = checked.screen
    saved.billing = checked.billing
    if rows_ok:
        saved.overrides = checked.overrides
    saved.last_saved_by = actor.user
    saved.version = visit.version + 1
    saved.updated_at = timezone.now()
    after = snapshot(saved)
    fields = {field.attname: after[field.name] for field in Visit._meta.concrete_fields
              if field.name in after and before.get(field.name) != after[field.name] and not field.generated}
    try:
        with transaction.atomic():
            written = (Visit.objects.filter(pk=visit.pk, clinic_id=visit.clinic_id, version=visit.version,
                                            status=RecordStatus.DRAFT)
                       .update(**fields, updated_at=saved.updated_at))
            if written != 1:
                raise _Conflict
            old_treatments, old_complementary = stored_rows(saved)
            treatments = [t.without_reason() for t in note.treatments] if rows_ok else old_treatments
            complementary = list(note.complementary)
            _replace_rows(saved, treatments if treatments != old_treatments else None,
                          complementary if complementary != old_complementary else None)
            old, new = changed(
                {**before, "treatments": [t.stored() for t in old_treatments],
                 "complementary": [c.stored() for c in old_complementary]},
                {**after, "treatments": [t.stored() for t in treatments],
                 "complementary": [c.stored() for c in complementary]})
            for name in ("version", "screen_result", "session", "billing", "last_saved_by"):
                # Bookkeeping or derived: the inputs that produced them are already in the diff.
                old.pop(name, None)
                new.pop(name, None)
            if new:
                record_event(actor=actor, action="visit.update", patient_id=saved.patient_id, obj=saved, old=old,
                             new=new)
            for override in checked.new_overrides if rows_ok else []:
                record_event(actor=actor, action="visit.override_restriction", patient_id=saved.patient_id,
                             obj=saved, new={"row": override["row"], "restriction": override["restriction"],
                                             "reason": override["reason"]})
    except _Conflict:
        fresh = _fresh(visit)
        return SaveOutcome("locked" if fresh.is_signed else "stale", fresh, checked)
    return SaveOutcome("saved" if rows_ok else "rows_refused", saved, checked)


def _fresh(visit: Visit) -> Visit:
    return (Visit.objects.select_related("patient", "episode", "therapist", "signed_by", "last_saved_by", "plan")
            .get(pk=visit.pk, clinic_id=visit.clinic_id))


def do_start_visit(actor: Actor, patient: Patient, episode: Episode,
                   today: dt.date | None = None) -> tuple[Visit, bool]:
    """Open today's draft for the episode, prefilled; (visit, created).

    A second click (or a second tab) on "Start visit" opens the therapist's existing draft of today
    instead of creating a duplicate note.
    """
    check_can_document(actor, episode)
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
        visit.screen_result = run_screen(actor.clinic, screen_request(patient, episode, today, visit,
                                                                      latest_evaluation(episode, for_screen=True)))
        visit.billing = bill(actor.clinic, episode, filled.treatments, filled.complementary)
        visit.save()
        _replace_rows(visit, filled.treatments, filled.complementary)
        record_event(actor=actor, action="visit.create", patient_id=patient.pk, obj=visit,
                     new={**snapshot(visit), "prefilled_from": filled.source,
                          "treatments": [t.stored() for t in filled.treatments],
                          "complementary": [c.stored() for c in filled.complementary]})
    return visit, True


# -- signing ------------------------------------------------------------------------------------


def stored_verdicts(visit: Visit, treatments: Sequence[Treatment] | None = None) -> list[RowVerdict]:
    """The stored rows against the stored screen and overrides (no new override can be made)."""
    rows = stored_rows(visit)[0] if treatments is None else treatments
    return check_rows(None, rows, visit.screen_result, visit.overrides or [], timezone.now())[0]


def unresolved(visit: Visit, treatments: Sequence[Treatment] | None = None) -> list[str]:
    """Why the stored note cannot be signed yet (empty when it can)."""
    problems = []
    if problem := screen_problem(visit.screen_result):
        problems.append(f"The safety screen could not run: {problem} Correct the findings or vitals.")
    rows = stored_rows(visit)[0] if treatments is None else treatments
    for number, (row, verdict) in enumerate(zip(rows, stored_verdicts(visit, rows), strict=True), start=1):
        problems += [f"Row {number} ({row.where}): {b.message}" for b in verdict.blocking]
    return problems


def do_sign_visit(actor: Actor, visit: Visit, submitted_version: object = None) -> Visit:
    """Sign and lock the stored note. ``submitted_version`` (from a form) refuses a stale sign.

    The stored screen is used as it is when it stands on the facts as they are now; otherwise (an
    evaluation corrected since the save, new clinic thresholds, a new release of the clinical core)
    the note is screened again first.
    """
    check_can_sign(actor)
    with transaction.atomic():
        signed = (Visit.objects.select_for_update(no_key=True, of=("self",)).select_related("patient", "episode")
                  .get(pk=visit.pk, clinic_id=visit.clinic_id))
        check_editable(signed)
        claim_version(signed, signed.version if submitted_version is None else submitted_version)
        request = screen_request(signed.patient, signed.episode, signed.visit_date, signed,
                                 latest_evaluation(signed.episode, for_screen=True))
        fields = ["status", "signed_at", "signed_by", "signed_episode", "version", "updated_at"]
        if not screen_is_current(signed.screen_result, actor.clinic, request):
            signed.screen_result = run_screen(actor.clinic, request)
            fields.append("screen_result")
        problems = unresolved(signed)
        if problems:
            raise NotSignable(" ".join(problems))
        sign_record(signed, actor.user, timezone.now())
        signed.save(update_fields=fields)
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
