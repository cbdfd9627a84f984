from __future__ import annotations

from django import template

from palpate.plans.models import PlanOfCare

register = template.Library()


@register.inclusion_tag("plans/_episode_panel.html", takes_context=True)
def plan_panel(context: template.Context, episode: object) -> dict[str, object]:
    """The episode's plans of care on the patient chart."""
    plans = PlanOfCare.objects.filter(clinic_id=episode.clinic_id, episode=episode)  # type: ignore[attr-defined]
    return {"episode": episode, "plans": plans, "can": context.get("can"), "patient": context.get("patient")}
