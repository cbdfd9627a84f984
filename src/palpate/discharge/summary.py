"""What a discharge summary states, gathered from the signed record (reads only).

Outcome measures: the first and the last score of each scale measured in the episode, the change
and whether it reaches the instrument's MCID, all judged by ``palpate.core.measures.change`` (the
MCIDs and their sources live in the core's knowledge base; nothing here holds a number). Only
signed records count: a questionnaire taken during a visit note that is still a draft is left out,
as the outcomes app leaves draft notes out of progress (``outcomes.progress``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from palpate.core import measures
from palpate.lib.models_common import RecordStatus
from palpate.lib.vocabulary import exercise_library
from palpate.outcomes.models import OutcomeMeasurement
from palpate.outcomes.progress import episode_progress
from palpate.patients.models import Episode
from palpate.plans.models import PlanOfCare
from palpate.plans.services import current_plan


def signed_measurements(episode: Episode) -> list[OutcomeMeasurement]:
    """The episode's questionnaires that belong to the signed record (one query)."""
    return list(OutcomeMeasurement.objects.filter(clinic_id=episode.clinic_id, episode=episode)
                .filter(Q(visit__isnull=True) | Q(visit__status=RecordStatus.SIGNED))
                .select_related("entered_by").order_by("taken_on", "id"))


def outcome_lines(episode: Episode) -> list[dict[str, Any]]:
    """First and last score per scale, with the core's judgement of the change (JSON-ready)."""
    progress = episode_progress(episode, signed_measurements(episode))
    lines = []
    for scale in progress.scales:
        if not scale.points:
            continue
        first, last = scale.points[0], scale.points[-1]
        line: dict[str, Any] = {
            "label": scale.label, "instrument": scale.code, "scale": scale.scale.code,
            "first": first.score, "first_on": first.taken_on.isoformat(),
            "last": last.score, "last_on": last.taken_on.isoformat(), "count": len(scale.points),
            "change": None, "mcid": None, "meets_mcid": None, "direction": "", "source": "",
            "better": scale.better_text,
        }
        if len(scale.points) >= 2:
            judged = measures.change(scale.code, first.score, last.score,
                                     scale.scale.code if scale.instrument.is_multiscale else None)
            line.update(change=judged.change, mcid=judged.mcid, meets_mcid=judged.meets_mcid,
                        direction=str(judged.direction), source=judged.source)
        lines.append(line)
    return lines


def signed_plan(episode: Episode) -> PlanOfCare | None:
    plan = current_plan(episode)
    return plan if plan is not None and plan.is_signed else None


def default_goals(plan: PlanOfCare | None) -> list[dict[str, Any]]:
    return [{"term": g.get("term", ""), "text": g.get("text", ""), "target_date": g.get("target_date") or "",
             "outcome": ""} for g in (plan.goals if plan else [])]


def default_home_program(plan: PlanOfCare | None) -> list[dict[str, Any]]:
    """The plan's home programme, each exercise named (older plans stored only the code)."""
    library = exercise_library()
    return [{**h, "name": h.get("name") or library.get(str(h.get("exercise")), {}).get("name", "")}
            for h in (plan.home_program if plan else [])]
