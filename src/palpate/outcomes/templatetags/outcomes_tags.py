from __future__ import annotations

from django import template

from palpate.outcomes.models import OutcomeMeasurement

register = template.Library()


@register.inclusion_tag("outcomes/_episode_panel.html", takes_context=True)
def outcome_panel(context: template.Context, episode: object) -> dict[str, object]:
    """The episode's outcome measures on the patient chart."""
    measurements = OutcomeMeasurement.objects.filter(clinic_id=episode.clinic_id, episode=episode)  # type: ignore[attr-defined]
    return {"episode": episode, "measurements": measurements, "can": context.get("can"), "patient": context.get("patient")}
