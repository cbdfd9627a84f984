from __future__ import annotations

from django import template

from palpate.visits.models import Visit

register = template.Library()


@register.inclusion_tag("visits/_episode_panel.html", takes_context=True)
def visit_panel(context: template.Context, episode: object) -> dict[str, object]:
    """The episode's visits on the patient chart."""
    visits = Visit.objects.filter(clinic_id=episode.clinic_id, episode=episode)  # type: ignore[attr-defined]
    return {"episode": episode, "visits": visits, "can": context.get("can"), "patient": context.get("patient")}
