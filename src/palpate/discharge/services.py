"""Every write to discharge summaries: ``check_*`` validates, ``do_*`` changes and audits.

A therapist writes the summary as a draft and signs it; signing locks it and discharges the
episode in the same transaction (both audited). Assistants and the front desk neither write nor
sign one (``PLAN_WRITE`` to write, ``NOTE_SIGN`` to sign).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.roles import NOTE_SIGN, PLAN_WRITE
from palpate.discharge import summary
from palpate.discharge.hooks import discharge_signed
from palpate.discharge.models import Discharge, DischargeAddendum
from palpate.lib.models_common import RecordStatus, clean_addendum_text, sign_record
from palpate.lib.records import StaleEdit, check_editable, claim_version
from palpate.lib.vocabulary import choices, label
from palpate.patients.models import Episode, EpisodeStatus, EpisodeStatusChange
from palpate.visits.models import Visit

MAX_TEXT = 4000


class NotSignable(PermissionDenied):
    """The summary cannot be signed yet; ``problems`` says what to complete."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class DischargeInput:
    """What the form gives, typed: the reason, a verdict per goal, the exercises to continue."""

    reason: str = ""
    reason_detail: str = ""
    goal_outcomes: list[str] = field(default_factory=list)  # one per goal of the plan, "" = not judged yet
    kept_exercises: list[int] = field(default_factory=list)  # positions in the plan's home programme
    home_program_notes: str = ""


def check_can_write(actor: Actor) -> None:
    if not actor.can(PLAN_WRITE):
        raise PermissionDenied("Only a therapist can write a discharge summary.")


def check_can_sign(actor: Actor) -> None:
    if not actor.can(NOTE_SIGN):
        raise PermissionDenied("Only a therapist can sign a discharge summary.")


def open_draft(episode: Episode) -> Discharge | None:
    return (Discharge.objects.filter(clinic_id=episode.clinic_id, episode=episode, status=RecordStatus.DRAFT)
            .order_by("-id").first())


def check_discharge_input(data: DischargeInput, goals_count: int) -> dict[str, str]:
    """Errors by field name (empty: fine to save as a draft). Changes nothing."""
    errors = {}
    if data.reason and data.reason not in dict(choices("discharge_reason")):
        errors["reason"] = "Choose a reason from the list."
    if len(data.reason_detail) > MAX_TEXT:
        errors["reason_detail"] = f"Keep the details under {MAX_TEXT} characters."
    if len(data.home_program_notes) > MAX_TEXT:
        errors["home_program_notes"] = f"Keep the notes under {MAX_TEXT} characters."
    outcomes = dict(choices("goal_outcome"))
    for index, outcome in enumerate(data.goal_outcomes[:goals_count]):
        if outcome and outcome not in outcomes:
            errors[f"goal_{index}"] = "Choose met, partly met or not met."
    return errors


def do_save_discharge(actor: Actor, episode: Episode, discharge: Discharge | None, data: DischargeInput,
                      version: object = None) -> Discharge:
    """Create or update the episode's draft summary (ValueError with the errors if the input is wrong)."""
    check_can_write(actor)
    if episode.clinic_id != actor.clinic.pk:
        raise PermissionDenied("This episode belongs to another clinic.")
    if episode.status == EpisodeStatus.DISCHARGED:
        raise PermissionDenied("This episode is already discharged; reopen it to write a new discharge summary.")
    with transaction.atomic():
        creating = discharge is None
        if discharge is None:
            # The episode's row lock serialises two first saves: the second finds the first's draft
            # and is told, as for any edit that started from an older version.
            Episode.objects.select_for_update().filter(pk=episode.pk).first()
            current = open_draft(episode)
            if current is not None:
                raise StaleEdit(current.version)
            plan = summary.signed_plan(episode)
            discharge = Discharge(clinic_id=episode.clinic_id, patient_id=episode.patient_id, episode=episode,
                                  plan=plan, created_by=actor.user, goals=summary.default_goals(plan))
            plan_home = summary.default_home_program(plan)
        else:
            check_editable(discharge)
            claim_version(discharge, version)  # type: ignore[arg-type]
            plan_home = summary.default_home_program(discharge.plan)
        errors = check_discharge_input(data, len(discharge.goals))
        if errors:
            raise InvalidDischarge(errors)
        discharge.reason, discharge.reason_detail = data.reason, data.reason_detail.strip()
        discharge.home_program_notes = data.home_program_notes.strip()
        discharge.goals = [{**goal, "outcome": data.goal_outcomes[i] if i < len(data.goal_outcomes) else ""}
                           for i, goal in enumerate(discharge.goals)]
        discharge.home_program = [h for i, h in enumerate(plan_home) if i in set(data.kept_exercises)]
        discharge.save()
        record_event(actor=actor, action="discharge.create" if creating else "discharge.update",
                     patient_id=episode.patient_id, obj=discharge, new={
                         "episode": episode.pk, "reason": discharge.reason, "reason_detail": discharge.reason_detail,
                         "goals": discharge.goals, "home_program": [h.get("exercise") for h in discharge.home_program],
                         "home_program_notes": discharge.home_program_notes})
    return discharge


class InvalidDischarge(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def sign_problems(discharge: Discharge) -> list[str]:
    """What still stops the summary from being signed (empty: it can be signed)."""
    problems = []
    if not discharge.reason:
        problems.append("Choose the reason for discharge.")
    elif discharge.reason == "other" and not discharge.reason_detail:
        problems.append("Say what the other reason for discharge is.")
    unjudged = [g["text"] for g in discharge.goals if not g.get("outcome")]
    if unjudged:
        problems.append(f"Say whether each goal was met ({len(unjudged)} not judged yet: {'; '.join(unjudged)}).")
    drafts = Visit.objects.filter(clinic_id=discharge.clinic_id, episode_id=discharge.episode_id,
                                  status=RecordStatus.DRAFT).count()
    if drafts:
        problems.append(f"{drafts} visit note{'s are' if drafts != 1 else ' is'} still a draft in this episode: "
                        "sign {} before discharging.".format("them" if drafts != 1 else "it"))
    return problems


def do_sign_discharge(actor: Actor, discharge: Discharge, version: object) -> Discharge:
    """Sign and lock the summary, snapshot its outcomes, and discharge the episode; one transaction."""
    check_can_sign(actor)
    with transaction.atomic():
        episode = Episode.objects.select_for_update().get(pk=discharge.episode_id, clinic_id=actor.clinic.pk)
        fresh = Discharge.objects.select_for_update().get(pk=discharge.pk, clinic_id=actor.clinic.pk)
        check_editable(fresh)
        if episode.status == EpisodeStatus.DISCHARGED:
            raise NotSignable(["This episode is already discharged."])
        claim_version(fresh, version)
        problems = sign_problems(fresh)
        if problems:
            raise NotSignable(problems)
        today = timezone.localdate()
        fresh.outcomes = summary.outcome_lines(episode)
        fresh.signer = {"name": actor.user.display_name(), "credentials": getattr(actor.user, "credentials", ""),
                        "npi": getattr(actor.user, "npi", "")}
        fresh.discharged_on = today
        fresh.episode = episode
        sign_record(fresh, actor.user, timezone.now())
        fresh.save()
        before = episode.status
        episode.status, episode.discharged_on = EpisodeStatus.DISCHARGED, today
        episode.save(update_fields=["status", "discharged_on", "updated_at"])
        reason = label(fresh.reason, "discharge_reason") + (f": {fresh.reason_detail}" if fresh.reason_detail else "")
        EpisodeStatusChange.objects.create(clinic_id=episode.clinic_id, episode=episode, from_status=before,
                                           to_status=EpisodeStatus.DISCHARGED, reason=reason, changed_by=actor.user,
                                           changed_at=fresh.signed_at)
        record_event(actor=actor, action="discharge.sign", patient_id=episode.patient_id, obj=fresh,
                     new={"signed_at": fresh.signed_at, "signed_by": actor.user.pk, "outcomes": fresh.outcomes,
                          "discharged_on": today})
        record_event(actor=actor, action="episode.status", patient_id=episode.patient_id, obj=episode,
                     old={"status": before}, new={"status": EpisodeStatus.DISCHARGED, "reason": reason,
                                                   "discharged_on": today})
        discharge_signed(actor, fresh)  # e.g. its future bookings are cancelled (discharge/hooks.py)
    return fresh


def do_add_discharge_addendum(actor: Actor, discharge: Discharge, text: str) -> DischargeAddendum:
    check_can_sign(actor)
    text = clean_addendum_text(discharge, text)
    with transaction.atomic():
        addendum = DischargeAddendum.objects.create(clinic_id=discharge.clinic_id, discharge=discharge, text=text,
                                                    signed_by=actor.user, signed_at=timezone.now())
        record_event(actor=actor, action="discharge.addendum", patient_id=discharge.patient_id, obj=addendum,
                     new={"discharge": discharge.pk, "text": text, "signed_at": addendum.signed_at})
    return addendum


def summary_context(discharge: Discharge) -> dict[str, Any]:
    """The words the page and the PDF print (no queries beyond the addenda)."""
    outcomes = discharge.outcomes if discharge.is_signed else summary.outcome_lines(discharge.episode)
    return {
        "discharge": discharge, "reason_label": label(discharge.reason, "discharge_reason"),
        "goal_rows": [{**g, "term_label": "Short-term" if g.get("term") == "short" else "Long-term",
                       "outcome_label": label(g.get("outcome"), "goal_outcome") if g.get("outcome") else "Not judged"}
                      for g in discharge.goals],
        "outcome_rows": outcomes,
        "addenda": list(discharge.addenda.select_related("signed_by")) if discharge.pk else [],
    }
