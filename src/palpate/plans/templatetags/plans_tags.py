from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

from palpate.plans.certification import LOOKAHEAD_DAYS
from palpate.plans.models import PlanOfCare
from palpate.plans.services import pick_current

register = template.Library()

# A plan's content and the core's answer it was built from: the panel shows none of it.
PLAN_CONTENT = ("goals", "items", "complementary", "home_program", "screen_result", "overrides", "signed_episode")


@register.inclusion_tag("plans/_episode_panel.html", takes_context=True)
def plan_panel(context: template.Context, episode: object) -> dict[str, object]:
    """The episode's plans of care on the patient chart: the plan in force, its dates, and actions.

    One query whatever the number of plans. Plans are clinical data: the front desk sees that the
    panel exists, not what is in it.
    """
    can = context.get("can") or {}
    plans: list[PlanOfCare] = []
    if can.get("clinical_view"):
        plans = list(PlanOfCare.objects.filter(clinic_id=episode.clinic_id, episode=episode)  # type: ignore[attr-defined]
                     .select_related("signed_by").defer(*PLAN_CONTENT).order_by("-id"))
    current = pick_current(plans)
    return {"episode": episode, "plans": plans, "current": current,
            "earlier": [p for p in plans if p is not current],
            "dates": due_dates(current) if current else [], "can": can, "patient": context.get("patient")}


def due_dates(plan: PlanOfCare, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Re-certification and re-evaluation dates, flagged in words when due within LOOKAHEAD_DAYS."""
    today = today or timezone.localdate()
    rows = []
    for label, day in (("Re-certify by", plan.recertify_by), ("Re-evaluate by", plan.reevaluate_by)):
        if day is None:
            continue
        days = (day - today).days
        state = "overdue" if days < 0 else ("due" if days <= LOOKAHEAD_DAYS else "")
        words = {"overdue": f"overdue by {-days} day{'s' if -days != 1 else ''}",
                 "due": "due today" if days == 0 else f"due in {days} day{'s' if days != 1 else ''}"}.get(state, "")
        rows.append({"label": label, "date": day, "state": state, "words": words})
    return rows


@register.inclusion_tag("plans/_status.html")
def plan_status(plan: PlanOfCare) -> dict[str, object]:
    """Status badge (in words, not colour alone) and the plan's dates."""
    return {"plan": plan, "dates": due_dates(plan)}
