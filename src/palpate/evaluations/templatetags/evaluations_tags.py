from __future__ import annotations

from django import template

from palpate.evaluations.models import Evaluation

register = template.Library()


@register.inclusion_tag("evaluations/_episode_panel.html", takes_context=True)
def evaluation_panel(context: template.Context, episode: object) -> dict[str, object]:
    """The episode's evaluations on the patient chart."""
    evaluations = Evaluation.objects.filter(clinic_id=episode.clinic_id, episode=episode)  # type: ignore[attr-defined]
    return {"episode": episode, "evaluations": evaluations, "can": context.get("can"), "patient": context.get("patient")}
