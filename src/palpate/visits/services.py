"""Every write to visit notes: ``check_*`` validates, ``do_*`` changes and audits in one transaction.

Starting a visit prefills it (carry-forward): the treatment rows and findings of the episode's last
signed visit, else the plan of care's items; the complementary therapies likewise, with their
minutes (a plan's therapies have none: 0, for the therapist to fill). A row at 0 minutes is not
billed, so signing points it out and asks for a confirmation (:func:`zero_minute_rows`). The rows as carried (with the response recorded for each last time)
are kept on the visit (``Visit.carried_forward``): the soreness typed today changes them
(``visits.carry``, planning policy §3).

Saving a note has one owner, a pair in the style of Zulip's actions:

- :func:`check_visit_note` takes the note as typed (:class:`~palpate.visits.note.NoteInput`: plain
  values and rows), applies the last session's response to the carried-forward rows, screens it
  ONCE with the clinical core, checks each treatment and complementary row against the screen with
  the core's one safety rule (``core.safety``: what may be overridden, and with which reason; an
  override signed in the plan of care counts while the screen at that place is the plan's,
  :class:`PlanOverrides`) and bills ONCE what a save would store (``core.billing.bill_visit``). It
  changes nothing: the live preview shows its answer as the therapist types.
- :func:`do_save_visit_note` writes exactly what was checked and says how it went
  (:class:`SaveOutcome`): saved; saved without the rows, which a restriction refuses; not saved
  because the screen could not run; stale (someone saved since); locked (signed since).

Signing locks the note; the screen is run again only if what it stands on changed since it was
stored (``lib.clinical.screen_is_current``). Corrections after signing are signed addenda.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from palpate.core.kb.clinical import knowledge_base
from palpate.core.regions import covers
from palpate.evaluations.services import latest_evaluation, record_cleared
from palpate.lib.clinical import build_request, clinic_policy, run_plan, screen_is_current
from palpate.lib.models_common import RecordStatus, sign_record
from palpate.lib.records import check_editable, claim_version, version_number
from palpate.lib.vocabulary import choices, label, region_choices
from palpate.lib.voiding import check_void_reason, check_voidable, mark_voided
from palpate.patients.models import Episode, Patient
from palpate.plans.services import current_plan
from palpate.reported.services import report_for_next_note
from palpate.visits import carry
from palpate.visits.hooks import visit_signed, visit_voided
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
    # The rows as carried, with the response the patient had to each at the last visit (shown again
    # today, and what the last session's soreness applies to: palpate.visits.carry).
    carried: list[dict[str, Any]] = field(default_factory=list)
    from_visit: int | None = None
    note: dict[str, Any] = field(default_factory=dict)  # note fields the patient reported (palpate.reported)


def _documentable(item: Mapping[str, Any]) -> bool:
    """A plan item the note can carry: a known technique at a concrete region, with minutes."""
    minutes = item.get("minutes")
    return (item.get("technique") in dict(choices("technique")) and item.get("region") in dict(region_choices())
            and item.get("pressure") in dict(choices("pressure")) and isinstance(minutes, int) and minutes > 0)


def prefill(episode: Episode, plan: Any | None) -> Prefill:
    """Carry-forward: the last signed visit's rows, else the plan of care's."""
    last = last_signed_visit(episode)
    if last is not None:
        rows = list(last.treatments.all())
        return with_patient_report(episode, last, Prefill(
            # The responses are today's to record: the rows carry forward without them, and the
            # last visit's response to each is kept beside them (``carried``) to be shown.
            treatments=[Treatment(r.technique, r.region, r.side, r.pressure, r.minutes) for r in rows],
            # Complementary therapies carry their minutes like technique rows do; one that carries
            # 0 minutes is pointed out before signing (``zero_minute_rows``), not silently unbilled.
            complementary=[Complementary(r.therapy, r.minutes) for r in last.complementary.all()],
            # Findings stay until the therapist clears them: a wound seen last time is assumed open.
            findings=[dict(f) for f in last.findings or []],
            source=f"last visit ({last.visit_date:%Y-%m-%d})",
            carried=[Treatment.of(r).stored() for r in rows], from_visit=last.pk,
        ))
    if plan is not None:
        therapies = dict(choices("therapy"))
        treatments = [Treatment(str(i["technique"]), str(i["region"]), i.get("side") or "", str(i["pressure"]),
                                int(i["minutes"])) for i in plan.items or [] if _documentable(i)]
        return Prefill(
            treatments=treatments,
            # A plan of care names therapies without minutes: they start at 0 (pointed out before signing).
            complementary=[Complementary(str(c["therapy"]), _minutes(c.get("minutes"))) for c in plan.complementary or []
                           if c.get("therapy") in therapies],
            source=f"plan of care ({plan.start_date:%Y-%m-%d})" if plan.start_date else "draft plan of care (not signed)",
            carried=[t.stored() for t in treatments])
    return Prefill()


def _minutes(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def with_patient_report(episode: Episode, last: Visit, filled: Prefill) -> Prefill:
    """What the patient reported after ``last`` (the check-in, the home-programme log) as the new
    note's soreness, relief and subjective; ``do_start_visit`` applies that soreness to the carried
    rows as if it had been typed (``carry.respond``)."""
    report = report_for_next_note(episode, last.pk, last.visit_date)
    if report is None:
        return filled
    return replace(filled, source=f"{filled.source} and {report.source}", note=report.note)


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
    """What today's screen says about one row (a treatment or a complementary therapy)."""

    blocking: list[safety.Breach] = field(default_factory=list)  # breaches that keep the row out
    overridden: list[tuple[safety.Breach, str]] = field(default_factory=list)  # breaches an override allows
    refused: str = ""  # why a typed override was not accepted
    # Breaches the signed plan of care's override allows: (breach, "override from the plan of care...").
    from_plan: list[tuple[safety.Breach, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.blocking

    @property
    def overridable(self) -> bool:
        """Every breach of the row may be overridden: the override control is offered."""
        breaches = [*self.blocking, *(b for b, _ in self.overridden), *(b for b, _ in self.from_plan)]
        return bool(breaches) and all(b.overridable for b in breaches)


@dataclass(frozen=True)
class RowItem:
    """One row as the safety rule sees it: ``item`` for core.safety, ``row`` as stored, the reason typed."""

    item: dict[str, Any]
    row: dict[str, Any]
    reason: str = ""


def row_items(episode: Episode, treatments: Sequence[Treatment],
              complementary: Sequence[Complementary] = ()) -> tuple[list[RowItem], list[RowItem]]:
    """Treatment rows at their place; complementary therapies at the episode's region and side
    (the condition they treat): restrictions bind both alike (planning policy §1.6)."""
    return ([RowItem(t.item(), t.stored(), t.override_reason) for t in treatments],
            [RowItem(c.item(episode.body_region, episode.side), c.stored(), c.override_reason) for c in complementary])


def _override_id(override: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What an override is for: the item (``core.safety.item_key``) and the restriction."""
    item = override.get("item")
    if not item:  # overrides stored before complementary rows were checked: a treatment row
        row = override.get("row") or {}
        item = {"technique": row.get("technique"), "region": row.get("region"), "side": row.get("side") or None,
                "pressure": row.get("pressure")}
    return safety.item_key(item), safety.restriction_key(override.get("restriction") or {})


def _restrictions_at(restrictions: Iterable[Mapping[str, Any]], item: Mapping[str, Any]) -> frozenset[tuple[str, ...]]:
    """The restrictions covering an item's place: what "the screen for that region" is."""
    index = knowledge_base().regions
    region, side = str(item.get("region") or ""), item.get("side") or None
    return frozenset(safety.restriction_key(r) for r in restrictions
                     if covers(index, str(r.get("region")), r.get("side") or None, region, side))


@dataclass(frozen=True)
class PlanOverrides:
    """The overrides signed in the plan of care a visit is under, and the plan's screen they were
    signed against. A draft plan carries none: an override counts once the plan is signed."""

    by_id: dict[tuple[tuple[str, ...], tuple[str, ...]], dict[str, Any]]
    restrictions: list[dict[str, Any]]
    plan_id: int | None = None
    signed_by: str = ""
    signed_on: str = ""

    @classmethod
    def of(cls, plan: Any | None) -> PlanOverrides:
        if plan is None or not plan.is_signed:
            return cls({}, [])
        signer = plan.signed_by.display_name() if plan.signed_by_id else ""
        return cls({_override_id(o): o for o in plan.overrides or [] if o.get("item") and o.get("restriction")},
                   safety.effective_restrictions(plan.screen_result), plan.pk, signer,
                   f"{timezone.localtime(plan.signed_at):%Y-%m-%d}" if plan.signed_at else "")

    def covering(self, item: Mapping[str, Any], breach: safety.Breach,
                 today: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The plan's override for this item and restriction, while the screen at the item's place is
        the one the plan was signed against (otherwise the override must be given again)."""
        found = self.by_id.get((safety.item_key(item), breach.key))
        if found is None or _restrictions_at(self.restrictions, item) != _restrictions_at(today, item):
            return None
        return found

    def words(self, override: Mapping[str, Any]) -> str:
        return (f"override from the plan of care, signed by {self.signed_by or 'the therapist'} on "
                f"{self.signed_on}, reason {override.get('reason')}")


def check_rows(actor: Actor | None, rows: Sequence[RowItem], screen: Mapping[str, Any] | None,
               existing: Iterable[Mapping[str, Any]], when: dt.datetime, plan: PlanOverrides | None = None
               ) -> tuple[list[RowVerdict], list[dict[str, Any]], list[dict[str, Any]]]:
    """Each row against the screen: (verdict per row, the visit's overrides if saved, the new ones).

    An override already on the visit for the same row and restriction stays, whoever saves next.
    An override signed in the plan of care carries over while the screen at the row's place is the
    plan's (``PlanOverrides.covering``): no reason to type again. A new one needs a restriction
    that may be overridden (``core.safety.may_override``: a relative one; never an absolute one, a
    referral or a held session), the override right, and a reason that passes
    ``core.safety.check_override_reason`` (the one minimum, as in plans of care).
    ``actor`` None checks the stored note (signing): no new override can be made then.
    """
    restrictions = safety.effective_restrictions(screen)
    plan = plan or PlanOverrides({}, [])
    kept = {_override_id(o): o for o in existing if o.get("restriction") and not o.get("from_plan")}
    verdicts: list[RowVerdict] = []
    overrides: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    for row in rows:
        verdict = RowVerdict()
        verdicts.append(verdict)
        for breach in safety.breaches(row.item, restrictions):
            ident = (safety.item_key(row.item), breach.key)
            if breach.overridable and ident in kept:
                verdict.overridden.append((breach, str(kept[ident]["reason"])))
                if kept[ident] not in overrides:
                    overrides.append(kept[ident])
                continue
            signed = plan.covering(row.item, breach, restrictions) if breach.overridable else None
            if signed is not None:
                verdict.from_plan.append((breach, plan.words(signed)))
                entry = {"row": row.row, "item": row.item, "restriction": breach.restriction,
                         "reason": signed.get("reason"), "by": signed.get("by_id"), "by_name": plan.signed_by,
                         "at": signed.get("at"), "from_plan": {"plan": plan.plan_id, "signed_by": plan.signed_by,
                                                               "signed_on": plan.signed_on}}
                if entry not in overrides:
                    overrides.append(entry)
                continue
            verdict.blocking.append(breach)
            if not row.reason.strip():
                continue
            if not breach.overridable:
                verdict.refused = ("This restriction cannot be overridden (an absolute contraindication, a held "
                                   "session or a referral awaiting its answer): change or remove the row.")
            elif actor is None or not actor.can(SAFETY_OVERRIDE):
                verdict.refused = "Only a therapist with override rights can override a safety restriction."
            else:
                try:
                    reason = safety.check_override_reason(row.reason)
                except InputError as error:
                    verdict.refused = error.message
                    continue
                verdict.blocking.remove(breach)
                entry = {"row": row.row, "item": row.item, "restriction": breach.restriction, "reason": reason,
                         "by": actor.user.pk, "by_name": actor.user.display_name(), "at": when.isoformat()}
                verdict.overridden.append((breach, reason))
                overrides.append(entry)
                new.append(entry)
                kept[ident] = entry
    return verdicts, overrides, new


# -- checking and saving a note -----------------------------------------------------------------


@dataclass
class NoteCheck:
    """What saving ``note`` would change, as checked: the screen, each row's verdict, the billing.

    ``note`` is the note as it would be saved: the typed rows with the last session's response
    applied to the carried-forward ones (``response``); ``rows`` are the verdicts on its treatment
    rows and ``complementary_rows`` on its complementary therapies. ``typed_rows`` gives the
    treatment verdicts in the order the rows were typed (a row the response removed has none).
    """

    note: NoteInput
    screen: dict[str, Any]
    rows: list[RowVerdict]
    billing: dict[str, Any]
    overrides: list[dict[str, Any]]
    new_overrides: list[dict[str, Any]]
    complementary_rows: list[RowVerdict] = field(default_factory=list)
    response: carry.Response | None = None

    @property
    def screen_problem(self) -> str:
        return screen_problem(self.screen)

    @property
    def rows_ok(self) -> bool:
        return all(v.ok for v in [*self.rows, *self.complementary_rows])

    @property
    def refused_rows(self) -> list[int]:
        return [i for i, v in enumerate(self.rows) if not v.ok]

    @property
    def refused_complementary(self) -> list[int]:
        return [i for i, v in enumerate(self.complementary_rows) if not v.ok]

    @property
    def typed_rows(self) -> list[RowVerdict | None]:
        if self.response is None:
            return list(self.rows)
        return [None if at is None else self.rows[at] for at in self.response.positions]


def bill(clinic: Any, episode: Episode, treatments: Iterable[Treatment],
         complementary: Iterable[Complementary]) -> dict[str, Any]:
    """The visit's billing lines: the core decides codes, units and the rule (``bill_visit``)."""
    services = [t.service() for t in treatments] + [c.service() for c in complementary]
    return bill_visit(services, payer=episode.payer, clinic_rule=clinic.payer_unit_rule)


def plan_overrides(visit: Visit) -> PlanOverrides:
    """The overrides signed in the plan of care the visit is under (none for a draft plan)."""
    return PlanOverrides.of(visit.plan if visit.plan_id else None)


def check_visit_note(actor: Actor, visit: Visit, note: NoteInput, *, now: dt.datetime | None = None) -> NoteCheck:
    """Screen the typed note once, check its rows, bill what a save would store; nothing is saved.

    First the last session's response (the soreness typed in this note) is applied to the rows
    carried forward (``visits.carry``, the core's rule with the clinic's thresholds). Then every
    treatment and complementary row is checked against today's screen (``core.safety``), with the
    overrides of the visit and of the signed plan of care. When a row breaks the screen (and no
    override keeps it) a save leaves the rows as stored, so the billing is of the stored rows.
    """
    episode = visit.episode
    check_can_document(actor, episode)
    when = now or timezone.now()
    # Putting a row back is a clinical decision like an override: therapists only (the page offers
    # the control to them alone; anyone else's is not applied).
    put_back = note.put_back if actor.can(SAFETY_OVERRIDE) else {}
    response = carry.respond(visit.carried_forward, note.treatments, note.soreness_since_last, note.soreness_hours,
                             clinic_policy(actor.clinic), put_back=put_back,
                             by=(actor.user.pk, actor.user.display_name()), when=when)
    note = replace(note, treatments=response.treatments)
    request = screen_request(visit.patient, episode, visit.visit_date, note, latest_evaluation(episode, for_screen=True))
    screen = run_screen(actor.clinic, request)
    treatments, complementary = row_items(episode, note.treatments, note.complementary)
    verdicts, overrides, new = check_rows(actor, [*treatments, *complementary], screen, visit.overrides or [], when,
                                          plan_overrides(visit))
    rows_ok = all(v.ok for v in verdicts)
    billed = (note.treatments, note.complementary) if rows_ok else stored_rows(visit)
    return NoteCheck(note, screen, verdicts[:len(treatments)], bill(actor.clinic, episode, *billed), overrides, new,
                     verdicts[len(treatments):], response)


@dataclass
class SaveOutcome:
    """How a save went. ``status``:

    - ``saved``: the note and its rows are saved;
    - ``rows_refused``: the note and its findings are saved (a new contraindication is on record at
      once) but the treatment and complementary rows are not: ``check.rows`` and
      ``check.complementary_rows`` say why;
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
    response = checked.response
    if rows_ok:
        saved.overrides = checked.overrides
        if response is not None:
            saved.carried_forward = response.stored(visit.carried_forward or {})
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
            complementary = [c.without_reason() for c in note.complementary] if rows_ok else old_complementary
            _replace_rows(saved, treatments if treatments != old_treatments else None,
                          complementary if complementary != old_complementary else None)
            old, new = changed(
                {**before, "treatments": [t.stored() for t in old_treatments],
                 "complementary": [c.stored() for c in old_complementary]},
                {**after, "treatments": [t.stored() for t in treatments],
                 "complementary": [c.stored() for c in complementary]})
            for name in ("version", "screen_result", "session", "billing", "last_saved_by", "carried_forward"):
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
            record_cleared(actor, saved, "visit.finding_cleared", before.get("findings") or [], saved.findings)
            carried_now = [o for o in saved.overrides if o.get("from_plan")] if rows_ok else []
            carried_before = [o for o in visit.overrides or [] if o.get("from_plan")]
            if carried_now != carried_before and carried_now:
                # The plan's overrides this note now stands on, as signed in the plan (not retyped).
                record_event(actor=actor, action="visit.override_from_plan", patient_id=saved.patient_id, obj=saved,
                             new={"overrides": [{"row": o["row"], "restriction": o["restriction"],
                                                 "reason": o["reason"], "from_plan": o["from_plan"]}
                                                for o in carried_now]})
            if rows_ok and response is not None and response.changed_rows:
                # The last session's response changed carried-forward rows (or a row was put back).
                record_event(actor=actor, action="visit.response_rows", patient_id=saved.patient_id, obj=saved,
                             new={"soreness": response.basis, "applied": response.applied,
                                  "reverted": response.reverted, "put_back": response.put_back})
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
                      visit_date=today, findings=filled.findings, last_saved_by=actor.user,
                      carried_forward=carry.carried_record(filled.source, filled.carried, filled.from_visit)
                      if filled.carried else {},
                      **filled.note)
        treatments = filled.treatments
        if visit.carried_forward and (visit.soreness_since_last is not None or visit.soreness_hours is not None):
            # The patient reported soreness since the last visit (the portal's check-in): the note
            # opens with the dose rule already applied to the carried rows, each change shown and
            # stored as if the therapist had typed that soreness.
            response = carry.respond(visit.carried_forward, treatments, visit.soreness_since_last,
                                     visit.soreness_hours, clinic_policy(actor.clinic))
            treatments = response.treatments
            visit.carried_forward = response.stored(visit.carried_forward)
        visit.screen_result = run_screen(actor.clinic, screen_request(patient, episode, today, visit,
                                                                      latest_evaluation(episode, for_screen=True)))
        visit.billing = bill(actor.clinic, episode, treatments, filled.complementary)
        visit.save()
        _replace_rows(visit, treatments, filled.complementary)
        record_event(actor=actor, action="visit.create", patient_id=patient.pk, obj=visit,
                     new={**snapshot(visit), "prefilled_from": filled.source,
                          "treatments": [t.stored() for t in treatments],
                          "complementary": [c.stored() for c in filled.complementary]})
    return visit, True


# -- signing ------------------------------------------------------------------------------------


def stored_verdicts(visit: Visit, treatments: Sequence[Treatment] | None = None,
                    complementary: Sequence[Complementary] | None = None) -> tuple[list[RowVerdict], list[RowVerdict]]:
    """The stored rows against the stored screen, the visit's overrides and the signed plan's (no
    new override can be made): (treatment verdicts, complementary verdicts)."""
    stored_t, stored_c = stored_rows(visit) if treatments is None or complementary is None else ([], [])
    rows, others = row_items(visit.episode, stored_t if treatments is None else treatments,
                             stored_c if complementary is None else complementary)
    verdicts = check_rows(None, [*rows, *others], visit.screen_result, visit.overrides or [], timezone.now(),
                          plan_overrides(visit))[0]
    return verdicts[:len(rows)], verdicts[len(rows):]


def unresolved(visit: Visit, treatments: Sequence[Treatment] | None = None,
               complementary: Sequence[Complementary] | None = None) -> list[str]:
    """Why the stored note cannot be signed yet (empty when it can)."""
    problems = []
    if problem := screen_problem(visit.screen_result):
        problems.append(f"The safety screen could not run: {problem} Correct the findings or vitals.")
    stored_t, stored_c = stored_rows(visit) if treatments is None or complementary is None else ([], [])
    rows = stored_t if treatments is None else treatments
    others = stored_c if complementary is None else complementary
    verdicts, other_verdicts = stored_verdicts(visit, rows, others)
    for number, (row, verdict) in enumerate(zip(rows, verdicts, strict=True), start=1):
        problems += [f"Row {number} ({row.where}): {b.message}" for b in verdict.blocking]
    for verdict in other_verdicts:
        problems += [f"Complementary therapy: {b.message}" for b in verdict.blocking]
    return problems


class ZeroMinutesUnconfirmed(NotSignable):
    """Rows at 0 minutes (not billed) that the signer has not confirmed."""


def empty_note_fields(visit: Visit, clinic: Any) -> list[str]:
    """The note's assessment and plan, when empty and the clinic asks for them before signing."""
    if not clinic.sign_requires_assessment_and_plan:
        return []
    return [name for name, text in (("assessment", visit.assessment), ("plan", visit.plan_text)) if not text.strip()]


def empty_fields_problem(empty: Sequence[str]) -> str:
    if not empty:
        return ""
    words = " and the ".join(empty)
    return (f"Write the {words} before signing: {'they are' if len(empty) > 1 else 'it is'} empty. "
            "The note is kept as a draft.")


def zero_minute_rows(treatments: Sequence[Treatment], complementary: Sequence[Complementary]) -> list[str]:
    """The rows at 0 minutes, named as the sign panel shows them: not billed unless minutes are given."""
    named = [f"{label(t.technique, 'technique')} at the {t.where}" for t in treatments if not t.minutes]
    return named + [label(c.therapy) for c in complementary if not c.minutes]


def zero_minutes_problem(rows: Sequence[str]) -> str:
    return (f"{', '.join(rows)}: 0 minutes, so not billed. Give the minutes given today, remove the row, "
            "or confirm that it was not given and sign again.")


def do_sign_visit(actor: Actor, visit: Visit, submitted_version: object = None, *,
                  confirm_zero_minutes: bool = False) -> Visit:
    """Sign and lock the stored note. ``submitted_version`` (from a form) refuses a stale sign.

    Refused (NotSignable, the note kept as it is) while the clinic asks for an assessment and a plan
    and either is empty, and (ZeroMinutesUnconfirmed) while a row at 0 minutes is not confirmed.

    The stored screen is used as it is when it stands on the facts as they are now; otherwise (an
    evaluation corrected since the save, new clinic thresholds, a new release of the clinical core)
    the note is screened again first.
    """
    check_can_sign(actor)
    with transaction.atomic():
        signed = (Visit.objects.select_for_update(no_key=True, of=("self",))
                  .select_related("patient", "episode", "plan", "plan__signed_by")
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
        if empty := empty_note_fields(signed, actor.clinic):
            raise NotSignable(empty_fields_problem(empty))
        zero = zero_minute_rows(*stored_rows(signed))
        if zero and not confirm_zero_minutes:
            raise ZeroMinutesUnconfirmed(zero_minutes_problem(zero))
        sign_record(signed, actor.user, timezone.now())
        signed.save(update_fields=fields)
        record_event(actor=actor, action="visit.sign", patient_id=signed.patient_id, obj=signed,
                     new={"status": signed.status, "signed_at": signed.signed_at, "signed_by": actor.user.pk})
        visit_signed(actor, signed)  # e.g. its appointment becomes completed (visits/hooks.py)
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


def check_void_visit(actor: Actor, visit: Visit, reason: str) -> str:
    """An unsigned draft may be voided as entered in error, with a reason; a signed note never."""
    check_can_write(actor)
    check_voidable(visit)
    return check_void_reason(reason)


def do_void_visit(actor: Actor, visit: Visit, reason: str) -> Visit:
    """Void the draft: it stays in the database and the trail, and leaves every list and count."""
    reason = check_void_visit(actor, visit, reason)
    with transaction.atomic():
        current = Visit.all_with_voided.select_for_update(of=("self",)).get(pk=visit.pk, clinic_id=visit.clinic_id)
        check_voidable(current)  # signed or voided by someone else meanwhile
        fields = mark_voided(current, actor.user, reason)
        current.save(update_fields=[*fields, "updated_at"])
        record_event(actor=actor, action="visit.void", patient_id=current.patient_id, obj=current,
                     new={"reason": reason, "visit_date": current.visit_date})
        visit_voided(actor, current)  # e.g. its appointment may be started again (visits/hooks.py)
    return current
