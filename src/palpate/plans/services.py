"""Every write to a plan of care: ``check_*`` validates, ``do_*`` changes, audits and locks.

Forms (and any later API) end here, so the safety check of each item, the override trail and the
signing rules cannot differ between them. For other apps: ``current_plan(episode)`` is the plan a
visit is treated under.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.roles import NOTE_SIGN, PLAN_WRITE, SAFETY_OVERRIDE
from palpate.core import safety
from palpate.core.billing import billing_code
from palpate.core.errors import InputError
from palpate.core.kb.clinical import knowledge_base
from palpate.evaluations.services import latest_evaluation
from palpate.lib.clinical import build_request, run_plan
from palpate.lib.models_common import RecordStatus, clean_addendum_text, sign_record
from palpate.lib.records import SignedAndLocked, check_editable, claim_version
from palpate.lib.vocabulary import exercise_library, label
from palpate.lib.voiding import check_void_reason, check_voidable, mark_voided
from palpate.patients.models import Episode, EpisodeStatus, Patient
from palpate.plans import certification
from palpate.plans.models import PlanAddendum, PlanOfCare

PLAN_FIELDS = ["start_date", "frequency_per_week", "duration_weeks", "goals", "items", "complementary",
               "home_program", "overrides"]


# ---------------------------------------------------------------------------------------------
# Reading


def pick_current(plans: Iterable[PlanOfCare]) -> PlanOfCare | None:
    """The plan in force among an episode's plans: the latest signed one, else the latest draft.

    Superseded plans never count. Pure (no queries) so the chart panel can use it on a list it
    already holds.
    """
    live = [p for p in plans if p.superseded_by_id is None]
    signed = [p for p in live if p.is_signed]
    if signed:
        return max(signed, key=lambda p: (p.signed_at or timezone.now(), p.pk))
    drafts = [p for p in live if not p.is_signed]
    return max(drafts, key=lambda p: p.pk) if drafts else None


def current_plan(episode: Episode) -> PlanOfCare | None:
    """The plan of care a visit in ``episode`` is treated under, or None (one query).

    The latest signed plan that no newer signed plan superseded; when no plan is signed yet, the
    latest draft (check ``plan.is_signed`` before billing or treating as certified). Filtered by
    the episode's clinic, so it is safe to call with any episode the caller already accessed.
    """
    return (PlanOfCare.objects.filter(clinic_id=episode.clinic_id, episode=episode, superseded_by__isnull=True)
            .annotate(signed_first=Case(When(status=RecordStatus.SIGNED, then=Value(0)), default=Value(1),
                                        output_field=IntegerField()))
            .order_by("signed_first", "-signed_at", "-id").first())


def open_draft(episode: Episode) -> PlanOfCare | None:
    return (PlanOfCare.objects.filter(clinic_id=episode.clinic_id, episode=episode, status=RecordStatus.DRAFT,
                                      superseded_by__isnull=True).order_by("-id").first())


@dataclass(frozen=True)
class Suggestions:
    """What the clinical core proposes for an episode today, and the evaluation it read."""

    screen_result: dict[str, Any]
    evaluation: Any


def suggest(actor: Actor, patient: Patient, episode: Episode, on: dt.date) -> Suggestions:
    """Ask the core for today's screen and plan; raises InputError when stored facts are invalid."""
    evaluation = latest_evaluation(episode)
    request = build_request(patient, episode, on=on, evaluation=evaluation)
    output = run_plan(actor.clinic, request)
    # Keep what the engine was asked next to its answer, so the suggestion can be traced and re-run.
    return Suggestions({**output, "request": request, "ran_on": on.isoformat()}, evaluation)


# ---------------------------------------------------------------------------------------------
# Items and their safety


def item_from_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """The typed part of an item (what the therapist chose), as stored."""
    item: dict[str, Any] = {
        "technique": data.get("technique"), "region": data.get("region"), "side": data.get("side") or None,
        "pressure": data.get("pressure"), "minutes": data.get("minutes"),
    }
    if data.get("note"):
        item["note"] = str(data["note"]).strip()
    if data.get("suggestion") is not None:
        item["suggestion"] = data["suggestion"]
    return item


def complete_item(plan: PlanOfCare, typed: Mapping[str, Any], condition: str) -> dict[str, Any]:
    """A typed item with why it is there: the engine's rationale and evidence, or the therapist's own."""
    suggestions = plan.screen_result.get("plan") or []
    index = typed.get("suggestion")
    base = {k: typed[k] for k in ("technique", "region", "side", "pressure", "minutes")}
    note = typed.get("note") or ""
    if isinstance(index, int) and 0 <= index < len(suggestions):
        suggested = suggestions[index]
        unchanged = all(suggested.get(k) == base[k] for k in base)
        item = {**base, "for": suggested.get("for", condition), "rationale": suggested.get("rationale", ""),
                "evidence": list(suggested.get("evidence") or []),
                "cpt": suggested.get("cpt") if base["technique"] == suggested.get("technique") else
                billing_code(str(base["technique"])) or "",
                "origin": "engine" if unchanged else "edited", "suggestion": index}
    else:
        item = {**base, "for": condition, "rationale": "Added by the therapist.", "evidence": [],
                "cpt": billing_code(str(base["technique"])) or "", "origin": "added"}
    if note:
        item["note"] = note
    return item


@dataclass(frozen=True)
class SafetyProblem:
    """An item that breaks the plan's screen, and whether an override could keep it."""

    breaches: list[safety.Breach]
    can_override: bool  # the breaches allow an override and this actor may make one
    message: str

    @property
    def restrictions(self) -> list[dict[str, Any]]:
        return [b.restriction for b in self.breaches]


def item_breaches(plan: PlanOfCare, item: Mapping[str, Any]) -> list[safety.Breach]:
    """What the item breaks in the screen stored with the plan (the core's one rule, core.safety).

    Any kind of item: a soft-tissue item, a home exercise (:func:`exercise_item`) or a
    complementary therapy (:func:`therapy_item`); restrictions bind all three alike (planning
    policy §1.6)."""
    return safety.breaches(item, safety.effective_restrictions(plan.screen_result))


def exercise_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """A home-programme row as core.safety checks it: the exercise at its region (the engine's, or
    the library's first for one the therapist added) and side; core.safety adds every region the
    exercise moves or loads."""
    code = str(row.get("exercise") or "")
    region = row.get("region")
    if not region:
        library = knowledge_base().exercise_index.get(code)
        region = library.regions[0] if library is not None and library.regions else ""
    return {"exercise": code, "region": region, "side": row.get("side") or None}


def therapy_item(episode: Episode, code: str) -> dict[str, Any]:
    """A complementary therapy as core.safety checks it: applied at the episode's region and side
    (the condition it treats)."""
    return {"therapy": code, "region": episode.body_region, "side": episode.side or None}


def plan_safety_items(plan: PlanOfCare) -> list[dict[str, Any]]:
    """Every item of the plan as core.safety checks it: soft-tissue items, therapies, exercises."""
    return ([{k: i.get(k) for k in ("technique", "region", "side", "pressure")} for i in plan.items]
            + [therapy_item(plan.episode, str(c.get("therapy"))) for c in plan.complementary]
            + [exercise_item(h) for h in plan.home_program])


def check_item(actor: Actor, plan: PlanOfCare, item: Mapping[str, Any], reason: str) -> SafetyProblem | None:
    """None when the item is safe, or overridden where the rule allows it, by someone allowed to,
    with a reason that passes ``core.safety.check_override_reason``."""
    found = item_breaches(plan, item)
    if not found:
        return None
    what = " ".join(safety.describe_restriction(b.restriction) for b in found)
    broken = f"{safety.describe_item(item)} breaks a safety restriction: {what}"
    change = ("change the technique, pressure or region, or remove this item" if safety.item_kind(item) == "technique"
              else "remove it from the plan")
    if not all(b.overridable for b in found):
        return SafetyProblem(found, False, (
            f"{broken} It cannot be overridden (an absolute contraindication, a held session or a referral "
            f"awaiting its answer): {change}."))
    if not actor.can(SAFETY_OVERRIDE):
        return SafetyProblem(found, False, (
            f"{broken} {change[:1].upper()}{change[1:]}. Only a therapist can override a safety restriction."))
    try:
        safety.check_override_reason(reason)
    except InputError as error:
        return SafetyProblem(found, True, (
            f"{broken} It is a precaution: to keep it, {error.message[:1].lower()}{error.message[1:]} "
            f"Otherwise {change}."))
    return None


def override_reasons(plan: PlanOfCare) -> dict[tuple[str, ...], str]:
    """The recorded override reason for each item (any kind, by ``core.safety.item_key``), to show
    it again in the editor."""
    return {safety.item_key(o.get("item") or {}): str(o.get("reason", "")) for o in plan.overrides
            if o.get("item")}


class SafetyRefused(PermissionDenied):
    def __init__(self, problems: list[SafetyProblem]) -> None:
        super().__init__(" ".join(p.message for p in problems))
        self.problems = problems


# ---------------------------------------------------------------------------------------------
# Writing


def check_can_write(actor: Actor) -> None:
    if not actor.can(PLAN_WRITE):
        raise PermissionDenied("Your role in this clinic cannot change plans of care; a therapist plans.")


def check_editable_plan(plan: PlanOfCare) -> None:
    check_editable(plan)
    if plan.is_superseded:
        raise SignedAndLocked("This draft was superseded by a newer signed plan of care and can no longer change.")


def _engine_items(output: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{**{k: i.get(k) for k in ("technique", "region", "side", "pressure", "minutes", "for", "rationale",
                                      "evidence", "cpt")}, "origin": "engine", "suggestion": index}
            for index, i in enumerate(output.get("plan") or [])]


def _engine_complementary(output: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"therapy": c.get("therapy"), "label": c.get("label", ""), "why": c.get("why", ""),
             "cpt": c.get("cpt") or "", "origin": "engine"} for c in output.get("complementary") or []]


def _engine_home(output: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"exercise": h.get("exercise"), "name": h.get("name", ""), "region": h.get("region"), "side": h.get("side"),
             "dose": h.get("dose", ""), "instructions": h.get("instructions", ""), "origin": "engine"}
            for h in output.get("home_program") or []]


def do_create_plan(actor: Actor, patient: Patient, episode: Episode, suggestions: Suggestions) -> PlanOfCare:
    """A new draft prefilled with the engine's items, complementary therapies and home programme."""
    check_can_write(actor)
    output = suggestions.screen_result
    if episode.status != EpisodeStatus.ACTIVE:
        raise PermissionDenied(episode.not_active_message("starting a new plan of care"))
    with transaction.atomic():
        plan = PlanOfCare.objects.create(
            clinic=actor.clinic, patient=patient, episode=episode, evaluation=suggestions.evaluation,
            created_by=actor.user, start_date=None, items=_engine_items(output),
            complementary=_engine_complementary(output), home_program=_engine_home(output), screen_result=output,
        )
        record_event(actor=actor, action="plan.create", patient_id=patient.pk, obj=plan, new={
            "episode": episode.pk, "evaluation": getattr(suggestions.evaluation, "pk", None),
            "session": output.get("session"), "kb_version": output.get("kb_version"),
            "items": plan.items, "complementary": plan.complementary, "home_program": plan.home_program,
        })
    return plan


@dataclass
class PlanChanges:
    """What the editor submitted (validated by the forms; checked again here)."""

    start_date: dt.date | None
    frequency_per_week: int
    duration_weeks: int
    goals: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)  # typed items, each with "override_reason"
    complementary: list[str] = field(default_factory=list)
    home_program: list[dict[str, Any]] = field(default_factory=list)  # each with "override_reason"
    complementary_reasons: dict[str, str] = field(default_factory=dict)  # therapy -> override reason

    def around_items(self, episode: Episode) -> list[tuple[dict[str, Any], str]]:
        """The complementary therapies and home exercises, as core.safety checks them, each with the
        reason typed for it."""
        return ([(therapy_item(episode, code), self.complementary_reasons.get(code, ""))
                 for code in dict.fromkeys(self.complementary)]
                + [(exercise_item(row), str(row.get("override_reason") or "")) for row in self.home_program])

    def safety_items(self, episode: Episode) -> list[tuple[dict[str, Any], str]]:
        """Everything the plan would hold, as core.safety checks it, with the reason typed for it."""
        return ([(dict(item), str(item.get("override_reason") or "")) for item in self.items]
                + self.around_items(episode))


def _snapshot(plan: PlanOfCare) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in PLAN_FIELDS}


def therapy_entry(code: str) -> dict[str, str]:
    """A complementary therapy as a plan lists it: its words, why it helps, its billing code."""
    therapy = knowledge_base().therapies[code]
    return {"therapy": code, "label": label(code, "therapy"), "why": therapy.why, "cpt": billing_code(code) or ""}


def _complementary(plan: PlanOfCare, codes: Iterable[str]) -> list[dict[str, Any]]:
    suggested = {c.get("therapy"): c for c in plan.screen_result.get("complementary") or []}
    out = []
    for code in dict.fromkeys(codes):
        if code in suggested:
            s = suggested[code]
            out.append({"therapy": code, "label": s.get("label", ""), "why": s.get("why", ""),
                        "cpt": s.get("cpt") or "", "origin": "engine"})
        else:
            out.append({**therapy_entry(code), "origin": "added"})
    return out


def _home_program(plan: PlanOfCare, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    suggested = {h.get("exercise"): h for h in plan.screen_result.get("home_program") or []}
    library = exercise_library()
    out = []
    for row in rows:
        code = str(row["exercise"])
        name = library.get(code, {}).get("name", label(code, "exercise"))
        s = suggested.get(code)
        unchanged = bool(s) and all(s.get(k) == row.get(k) for k in ("dose", "instructions", "side"))  # type: ignore[union-attr]
        region = (s or {}).get("region") or exercise_item({"exercise": code})["region"]
        out.append({"exercise": code, "name": name, "region": region, "side": row.get("side") or None,
                    "dose": row["dose"], "instructions": row["instructions"],
                    "origin": "engine" if unchanged else ("edited" if s else "added")})
    return out


OVERRIDE_ITEM_FIELDS = {"technique": ("technique", "region", "side", "pressure", "minutes"),
                        "exercise": ("exercise", "region", "side"), "therapy": ("therapy", "region", "side")}


def _overrides(actor: Actor, plan: PlanOfCare, checked: list[tuple[dict[str, Any], str]]
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(every override the plan now holds, the ones new in this save) for the items being saved,
    of every kind (soft-tissue items, complementary therapies, home exercises)."""
    previous = {(safety.restriction_key(o["restriction"]), safety.item_key(o["item"]), o.get("reason")): o
                for o in plan.overrides if o.get("restriction") and o.get("item")}
    kept: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    now = timezone.now().isoformat()
    for item, reason in checked:
        for breach in item_breaches(plan, item):
            key = (breach.key, safety.item_key(item), reason)
            if key in previous:
                kept.append(previous[key])
                continue
            fields = OVERRIDE_ITEM_FIELDS[safety.item_kind(item)]
            entry = {"restriction": breach.restriction, "item": {k: item.get(k) for k in fields},
                     "reason": reason, "by": actor.user.get_username(), "by_id": actor.user.pk, "at": now}
            kept.append(entry)
            new.append(entry)
    return kept, new


def do_save_plan(actor: Actor, plan: PlanOfCare, changes: PlanChanges, submitted_version: int | str | None) -> PlanOfCare:
    """Save a draft. Raises StaleEdit, SignedAndLocked or SafetyRefused (nothing is then saved)."""
    check_can_write(actor)
    problems = [p for item, reason in changes.safety_items(plan.episode)
                if (p := check_item(actor, plan, item, reason)) is not None]
    if problems:
        raise SafetyRefused(problems)
    with transaction.atomic():
        fresh = PlanOfCare.objects.select_for_update(no_key=True).get(pk=plan.pk, clinic_id=plan.clinic_id)
        check_editable_plan(fresh)
        claim_version(fresh, submitted_version)
        before = _snapshot(fresh)
        condition = fresh.episode.condition
        items = [complete_item(fresh, item, condition) for item in changes.items]
        checked = [(item, str(typed.get("override_reason", "")).strip())
                   for item, typed in zip(items, changes.items, strict=True)]
        checked += [(item, reason.strip()) for item, reason in changes.around_items(fresh.episode)]
        overrides, new_overrides = _overrides(actor, fresh, checked)
        fresh.start_date = changes.start_date
        fresh.frequency_per_week = changes.frequency_per_week
        fresh.duration_weeks = changes.duration_weeks
        fresh.goals = changes.goals
        fresh.items = items
        fresh.complementary = _complementary(fresh, changes.complementary)
        fresh.home_program = _home_program(fresh, changes.home_program)
        fresh.overrides = overrides
        fresh.save()
        after = _snapshot(fresh)
        keys = [k for k in after if before.get(k) != after.get(k)]
        record_event(actor=actor, action="plan.update", patient_id=fresh.patient_id, obj=fresh,
                     old={k: before[k] for k in keys}, new={k: after[k] for k in keys})
        for entry in new_overrides:
            record_event(actor=actor, action="plan.override_restriction", patient_id=fresh.patient_id, obj=fresh,
                         new={"restriction": entry["restriction"], "item": entry["item"], "reason": entry["reason"]})
    return fresh


def sign_problems(plan: PlanOfCare) -> list[str]:
    """What must be fixed before the plan can be signed (empty when it is ready)."""
    problems = []
    # Medicare Benefit Policy Manual, Ch. 15 §220.1.2: a plan of care contains at least the
    # diagnoses, long-term treatment goals, and the type, amount, duration and frequency of therapy.
    if not any(g.get("term") == "long" and g.get("text") for g in plan.goals):
        problems.append("Add at least one long-term functional goal.")
    if not (plan.items or plan.complementary or plan.home_program):
        problems.append("Add at least one treatment: a soft-tissue item, a complementary therapy or a home exercise.")
    if plan.episode.status != EpisodeStatus.ACTIVE:
        problems.append(plan.episode.not_active_message("signing a plan of care"))
    overridden = {safety.item_key(o["item"]) for o in plan.overrides if o.get("item")}
    for item in plan_safety_items(plan):
        found = item_breaches(plan, item)
        if found and not all(b.overridable for b in found):
            problems.append(f"{safety.describe_item(item)} breaks a safety restriction that cannot be overridden; "
                            "edit the plan to change or remove it.")
        elif found and safety.item_key(item) not in overridden:
            problems.append(f"{safety.describe_item(item)} breaks a safety restriction without a recorded override; "
                            "edit the plan to change it or give a reason.")
    return problems


class NotReadyToSign(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def check_can_sign(actor: Actor) -> None:
    if not actor.can(NOTE_SIGN):
        raise PermissionDenied("Only a therapist can sign a plan of care; ask a therapist to review and sign it.")


def do_sign_plan(actor: Actor, plan: PlanOfCare, submitted_version: int | str | None,
                 today: dt.date | None = None) -> PlanOfCare:
    """Sign and lock the plan, date it, and supersede the episode's earlier plans."""
    check_can_sign(actor)
    today = today or timezone.localdate()
    with transaction.atomic():
        fresh = PlanOfCare.objects.select_for_update(no_key=True, of=("self",)).select_related("episode").get(pk=plan.pk, clinic_id=plan.clinic_id)
        check_editable_plan(fresh)
        problems = sign_problems(fresh)
        if problems:
            raise NotReadyToSign(problems)
        claim_version(fresh, submitted_version)
        sign_record(fresh, actor.user, timezone.now())
        fresh.start_date = fresh.start_date or today
        fresh.recertify_by = certification.recertify_by(fresh.start_date, fresh.duration_weeks)
        fresh.reevaluate_by = certification.reevaluate_by(fresh.start_date, fresh.duration_weeks)
        fresh.save()
        record_event(actor=actor, action="plan.sign", patient_id=fresh.patient_id, obj=fresh, new={
            "status": fresh.status, "signed_at": fresh.signed_at, "start_date": fresh.start_date,
            "recertify_by": fresh.recertify_by, "reevaluate_by": fresh.reevaluate_by,
        })
        earlier = list(PlanOfCare.objects.select_for_update(no_key=True).filter(
            clinic_id=fresh.clinic_id, episode_id=fresh.episode_id, superseded_by__isnull=True).exclude(pk=fresh.pk))
        for old in earlier:
            old.superseded_by = fresh
            old.save(update_fields=["superseded_by", "updated_at"])
            record_event(actor=actor, action="plan.supersede", patient_id=fresh.patient_id, obj=old,
                         new={"superseded_by": fresh.pk})
    return fresh


def check_void_plan(actor: Actor, plan: PlanOfCare, reason: str) -> str:
    """An unsigned plan of care draft may be voided as entered in error, with a reason; a signed one never."""
    check_can_write(actor)
    check_voidable(plan)
    return check_void_reason(reason)


def do_void_plan(actor: Actor, plan: PlanOfCare, reason: str) -> PlanOfCare:
    """Void it: kept in the database and the audit trail, left out of every list, chart and count."""
    reason = check_void_plan(actor, plan, reason)
    with transaction.atomic():
        current = PlanOfCare.all_with_voided.select_for_update(of=("self",)).get(pk=plan.pk, clinic_id=plan.clinic_id)
        check_voidable(current)  # signed or voided by someone else meanwhile
        fields = mark_voided(current, actor.user, reason)
        current.save(update_fields=[*fields, "updated_at"])
        record_event(actor=actor, action="plan.void", patient_id=current.patient_id, obj=current,
                     new={"reason": reason, "start_date": current.start_date})
    return current


def check_plan_addendum(actor: Actor, plan: PlanOfCare, text: str) -> str:
    """The addendum's cleaned text; a draft plan is edited directly instead (as visit notes)."""
    check_can_sign(actor)
    return clean_addendum_text(plan, text)


def do_add_plan_addendum(actor: Actor, plan: PlanOfCare, text: str) -> PlanAddendum:
    """A signed, immutable correction to a signed plan of care (a superseded one too: it stays in
    the record), signed by its author as it is saved."""
    text = check_plan_addendum(actor, plan, text)
    with transaction.atomic():
        addendum = PlanAddendum.objects.create(clinic_id=plan.clinic_id, plan=plan, text=text, signed_by=actor.user,
                                               signed_at=timezone.now())
        record_event(actor=actor, action="plan.addendum", patient_id=plan.patient_id, obj=addendum,
                     new={"plan": plan.pk, "text": text, "signed_at": addendum.signed_at})
    return addendum
