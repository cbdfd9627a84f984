from __future__ import annotations

from django import template

from palpate.lib.models_common import RecordStatus
from palpate.visits.models import Visit

register = template.Library()

# The chart shows the latest visits; the full history is one click away (visits:list).
PANEL_VISITS = 8


@register.inclusion_tag("visits/_episode_panel.html", takes_context=True)
def visit_panel(context: template.Context, episode: object) -> dict[str, object]:
    """The episode's visits on the patient chart: latest first, drafts flagged, "Start visit" for writers.

    Two queries whatever the number of visits: the latest few, and the count of unsigned drafts.
    """
    can = context.get("can") or {}
    if not can.get("clinical_view"):
        # Front desk sees that the episode exists, not pain scores or holds.
        return {"episode": episode, "hidden": True, "can": can, "patient": context.get("patient")}
    visits = Visit.objects.filter(clinic_id=episode.clinic_id, episode=episode)  # type: ignore[attr-defined]
    # The session the database keeps from the stored screen, not the whole screen.
    latest = list(visits.only("id", "patient_id", "visit_date", "status", "nprs_before", "nprs_after", "session")
                  .order_by("-visit_date", "-id")[:PANEL_VISITS + 1])
    drafts = visits.filter(status=RecordStatus.DRAFT).count()
    return {
        "episode": episode, "visits": latest[:PANEL_VISITS], "more": len(latest) > PANEL_VISITS, "drafts": drafts,
        "can": context.get("can"), "patient": context.get("patient"), "csrf_token": context.get("csrf_token"),
    }
